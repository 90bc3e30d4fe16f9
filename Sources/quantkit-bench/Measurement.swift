import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock timing and peak resident memory, the two numbers every benchmark reports.
enum Measurement {
    /// Seconds `body` takes, best of `repeats` runs (the least disturbed by other work).
    static func bestTime(repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }

    /// Peak resident set size of this process so far, in bytes.
    static var peakRSS: UInt64 {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return UInt64(usage.ru_maxrss) * 1024  // Linux reports kilobytes
    }

    static func megabytes(_ bytes: UInt64) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }
}
