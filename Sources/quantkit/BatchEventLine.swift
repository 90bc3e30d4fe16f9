import Foundation
import QuantBatch

/// A batch event as one JSON line (`batch --json`), and read back from a worker process.
struct BatchEventLine: Codable {
    var event: String
    var model: String?
    var job: String?
    var stage: String?
    var done: Int?
    var total: Int?
    var reason: String?
    var result: BatchResult?

    init(_ event: BatchEvent) {
        switch event {
        case let .progress(model, job, stage, done, total):
            self.event = "progress"
            self.model = model
            self.job = job
            self.stage = stage.rawValue
            self.done = done
            self.total = total
        case let .skipped(job, reason):
            self.event = "skipped"
            self.job = job
            self.reason = reason
        case let .finished(job, result):
            self.event = "finished"
            self.job = job
            self.result = result
        }
    }

    var batchEvent: BatchEvent? {
        switch event {
        case "progress":
            guard let model, let stage = stage.flatMap(BatchEvent.Stage.init(rawValue:)), let done, let total else { return nil }
            return .progress(model: model, job: job, stage: stage, done: done, total: total)
        case "skipped":
            return job.map { .skipped(job: $0, reason: reason ?? "") }
        case "finished":
            guard let job, let result else { return nil }
            return .finished(job: job, result: result)
        default:
            return nil
        }
    }
}
