import Foundation
import Inference
import QuantCalibration
import QuantConversion
import QuantFormats

/// Runs a plan: for each model, the work its recipes share once (input hash, an unquantized GGUF
/// for a Hugging Face folder, calibration statistics, the base model's logits for KLD), then each
/// pending job — convert, evaluate, write the result — isolated, so one failure does not stop
/// the others. Finished jobs (same provenance) are skipped; a job whose file is current but whose
/// evaluation settings changed is only re-evaluated.
public final class BatchRunner {
    public let plan: BatchPlan
    public var threads: Int

    public init(plan: BatchPlan, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.plan = plan
        self.threads = threads
    }

    /// What a job needs, judged by its result file.
    public enum JobState: Equatable, Sendable {
        case done
        case evaluateOnly
        case pending
    }

    /// This shard's results in batch order (finished ones read back, the rest made now).
    public func run(events: @escaping (BatchEvent) -> Void = { _ in }) -> [BatchResult] {
        var results: [BatchResult] = []
        for (model, jobs) in plan.byModel {
            let shared = ModelWork(model: model, manifest: plan.manifest, threads: threads, events: events)
            for job in jobs {
                let result = run(job, shared: shared, events: events)
                results.append(result)
                events(.finished(job: job.id, result: result))
            }
        }
        return results
    }

    private func run(_ job: BatchJob, shared: ModelWork, events: (BatchEvent) -> Void) -> BatchResult {
        var result = BatchResult(model: job.model.name, recipe: job.recipe.name, status: .failed, timings: .init())
        do {
            try job.recipe.validate()
            let provenance = try shared.provenance(of: job)
            let state = Self.state(of: job, provenance: provenance)
            if state == .done, let previous = Self.readResult(job) {
                events(.skipped(job: job.id, reason: "done (same input, recipe and evaluation)"))
                return previous
            }
            try FileManager.default.createDirectory(atPath: job.folder, withIntermediateDirectories: true)
            _ = AtomicFileWriter.removeStaleTemporaries(for: job.outputPath)
            result.provenance = provenance
            if state == .evaluateOnly, let previous = Self.readResult(job) {
                events(.skipped(job: job.id, reason: "file current; evaluating again"))
                result.timings.convertSeconds = previous.timings.convertSeconds
            } else {
                try? FileManager.default.removeItem(atPath: job.resultPath)
                result.timings.convertSeconds = try shared.convert(job)
            }
            try VariantEvaluation.describe(file: job.outputPath, into: &result, relativeTo: plan.manifest.output)
            if plan.manifest.evaluation != nil {
                try shared.evaluate(job, into: &result)
            }
            result.neuronActivity = try shared.neuronActivity(job)
            result.status = .ok
        } catch {
            result.error = "\(error)"
        }
        do { try Self.writeResult(result, for: job) } catch {
            result.status = .failed
            result.error = (result.error.map { $0 + "; " } ?? "") + "writing the result: \(error)"
        }
        return result
    }

    /// Done when the result file says ok with the same provenance and the file has its size.
    static func state(of job: BatchJob, provenance: JobProvenance) -> JobState {
        guard let previous = readResult(job), previous.status == .ok, let recorded = previous.provenance,
              recorded.conversion == provenance.conversion,
              let size = (try? FileManager.default.attributesOfItem(atPath: job.outputPath))?[.size] as? UInt64,
              size == previous.bytes else { return .pending }
        return recorded.evaluation == provenance.evaluation ? .done : .evaluateOnly
    }

    static func readResult(_ job: BatchJob) -> BatchResult? {
        guard let data = FileManager.default.contents(atPath: job.resultPath) else { return nil }
        return try? JSONDecoder().decode(BatchResult.self, from: data)
    }

    static func writeResult(_ result: BatchResult, for job: BatchJob) throws {
        try FileManager.default.createDirectory(atPath: job.folder, withIntermediateDirectories: true)
        let writer = try AtomicFileWriter(destination: job.resultPath)
        try writer.write(Array(try ResultsFile.encoder.encode(result)))
        try writer.commit()
    }
}
