import Foundation

/// Progress of long work on stderr: a redrawn bar with rate and ETA on a terminal, plain lines
/// (one per step) otherwise, nothing with `--quiet`.
final class ProgressReporter {
    /// What the amounts passed to `step` count, for the rate.
    enum Unit {
        case bytes, tokens, tensors, sites
        func rate(_ perSecond: Double) -> String {
            switch self {
            case .bytes: return String(format: "%6.1f MB/s", perSecond / 1e6)
            case .tokens: return String(format: "%6.1f tokens/s", perSecond)
            case .tensors: return String(format: "%5.2f tensors/s", perSecond)
            case .sites: return String(format: "%5.2f sites/s", perSecond)
            }
        }
    }
    private let total: Int
    private let unit: Unit
    private let totalBytes: Double
    private let quiet: Bool
    private let interactive = isatty(STDERR_FILENO) != 0
    private let start = Date()
    private var bytesDone = 0.0
    private var lastLine = Date.distantPast

    init(total: Int, totalBytes: UInt64, quiet: Bool, unit: Unit = .bytes) {
        self.total = total
        self.unit = unit
        self.totalBytes = Double(totalBytes)
        self.quiet = quiet
    }

    /// Step `done` of `total` finished, having processed `bytes` (for rate and ETA).
    func step(_ done: Int, bytes: UInt64, label: String) {
        guard !quiet else { return }
        bytesDone += Double(bytes)
        let elapsed = max(Date().timeIntervalSince(start), 1e-3)
        let rate = bytesDone / elapsed
        let remaining = rate > 0 ? (totalBytes - bytesDone) / rate : 0
        let stats = unit.rate(rate) + "  ETA " + Self.duration(remaining)
        if interactive {
            let width = 24, filled = total > 0 ? width * done / total : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            write("\r\u{1B}[K[\(bar)] \(done)/\(total)  \(stats)  \(label)" + (done == total ? "\n" : ""))
        } else if done == total || Date().timeIntervalSince(lastLine) >= 5 {
            // Logs get a line every few seconds, not one per step.
            lastLine = Date()
            write("[\(done)/\(total)] \(label)  \(stats)\n")
        }
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}
