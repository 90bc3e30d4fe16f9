import Foundation
import QuantBatch

/// How `batch` shows its work: one redrawn line on a terminal (jobs done of total, the current job
/// and stage, ETA), a log line per stage change and finished job otherwise, JSON lines with --json.
final class BatchOutput: @unchecked Sendable {
    private let json: Bool
    private let quiet: Bool
    private let jobs: Int
    private let interactive = isatty(STDERR_FILENO) != 0
    private let start = Date()
    private let lock = NSLock()
    private var finished = 0
    private var lastStage = ""
    private var lastLine = Date.distantPast

    init(json: Bool, quiet: Bool, jobs: Int) {
        self.json = json
        self.quiet = quiet
        self.jobs = jobs
    }

    func show(_ event: BatchEvent) {
        lock.withLock {
            if json { return emit(BatchEventLine(event)) }
            guard !quiet else { return }
            switch event {
            case let .progress(model, job, stage, done, total):
                let label = "\(job ?? model): \(stage.rawValue)" + (total > 1 ? " \(done)/\(total)" : "")
                if interactive {
                    write("\r\u{1B}[K[\(finished)/\(jobs) jobs] \(label)  \(eta())")
                } else if "\(job ?? model) \(stage)" != lastStage || Date().timeIntervalSince(lastLine) >= 10 {
                    lastStage = "\(job ?? model) \(stage)"
                    lastLine = Date()
                    write("[\(finished)/\(jobs) jobs] \(label)\n")
                }
            case let .skipped(job, reason):
                write((interactive ? "\r\u{1B}[K" : "") + "\(job): skipped, \(reason)\n")
            case let .finished(job, result):
                finished += 1
                let outcome = result.status == .ok
                    ? String(format: "%.1f MB", Double(result.bytes ?? 0) / 1e6) + (result.quality?.meanKLD.map { String(format: ", KLD %.5f", $0) } ?? "")
                    : "FAILED: \(result.error ?? "")"
                write((interactive ? "\r\u{1B}[K" : "") + "[\(finished)/\(jobs) jobs] \(job): \(outcome)\n")
            }
        }
    }

    /// Events of a worker process (its --json lines), shown as this process's own.
    func relay(line: String) {
        guard let data = line.data(using: .utf8), let decoded = try? JSONDecoder().decode(BatchEventLine.self, from: data),
              let event = decoded.batchEvent else { return }
        show(event)
    }

    private func eta() -> String {
        guard finished > 0 else { return "" }
        let perJob = Date().timeIntervalSince(start) / Double(finished)
        return "ETA " + ProgressReporter.duration(perJob * Double(jobs - finished))
    }

    func printPlan(_ planned: [PlannedJob], shard: Shard, total: Int) {
        if json {
            for p in planned {
                emit(PlanLine(job: p.job.id, output: p.job.outputPath, state: "\(p.state)", planned_bytes: p.plannedBytes, problem: p.problem))
            }
            return
        }
        print("\(planned.count) of \(total) jobs" + (shard == .whole ? "" : " (shard \(shard))") + ":")
        for p in planned {
            let size = p.plannedBytes.map { String(format: "%8.1f MB", Double($0) / 1e6) } ?? "       – MB"
            let state = p.problem.map { "will fail: \($0)" } ?? ["done": "done", "evaluateOnly": "evaluate again", "pending": "to run"]["\(p.state)"]!
            print("  \(p.job.id.padding(toLength: 32, withPad: " ", startingAt: 0)) \(size)  \(state)")
        }
    }

    func printSummary(_ results: [BatchResult], report: [String]) {
        if json { return emit(SummaryLine(results: results, report: report)) }
        let failed = results.filter { $0.status == .failed }
        print("\(results.count - failed.count) of \(results.count) jobs made; report: \(report.first { $0.hasSuffix("report.md") } ?? "")")
        for r in failed { print("FAILED \(r.model)/\(r.recipe): \(r.error ?? "")") }
    }

    private func emit<T: Encodable>(_ value: T) {
        try? JSONOutput.print(value, asLine: true)
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

    struct PlanLine: Encodable {
        var event = "planned"
        let job: String, output: String, state: String
        let planned_bytes: UInt64?
        let problem: String?
    }

    struct SummaryLine: Encodable {
        var event = "done"
        var schema = ResultsFile.schema
        let results: [BatchResult]
        let report: [String]
    }
}
