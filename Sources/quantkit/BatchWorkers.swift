import Foundation
import QuantBatch

/// `batch --jobs N`: N processes of this executable, each running one shard of this run's jobs
/// with threads/N cores; their JSON event lines are shown as one progress. Shard I of M split N
/// ways is shards I, I+M, …, I+(N−1)M of M·N (the same jobs, as job k goes to k mod M·N).
struct BatchWorkers {
    let manifest: String
    let shard: Shard
    let jobs: Int
    let threads: Int

    /// Runs the workers to the end; true if any job failed (a worker exited non-zero).
    func run(showing output: BatchOutput) throws -> Bool {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        var processes: [Process] = [], readers: [LineReader] = []
        for k in 0..<jobs {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["batch", manifest, "--json", "--shard", "\(shard.index + shard.count * k)/\(shard.count * jobs)",
                                 "--threads", "\(max(1, threads / jobs))"]
            let pipe = Pipe()
            process.standardOutput = pipe
            let reader = LineReader(handle: pipe.fileHandleForReading) { output.relay(line: $0) }
            try process.run()
            reader.start()
            processes.append(process)
            readers.append(reader)
        }
        processes.forEach { $0.waitUntilExit() }
        readers.forEach { $0.wait() }
        return processes.contains { $0.terminationStatus != 0 }
    }
}

/// Lines of a pipe handed to `body` as they arrive, on a thread of their own.
final class LineReader: @unchecked Sendable {
    private let handle: FileHandle
    private let body: @Sendable (String) -> Void
    private let done = DispatchSemaphore(value: 0)

    init(handle: FileHandle, body: @escaping @Sendable (String) -> Void) {
        self.handle = handle
        self.body = body
    }

    func start() {
        Thread.detachNewThread { [self] in
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    body(String(decoding: pending[pending.startIndex ..< newline], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex ... newline)
                }
            }
            done.signal()
        }
    }

    /// Returns when the pipe has reached its end.
    func wait() { done.wait() }
}
