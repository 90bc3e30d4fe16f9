import Foundation

/// Scratch folders for tests. Every folder lives under one root per test process
/// (`<tmp>/quantkit-test-<pid>`), which is removed when the process exits; roots left behind by a
/// run that was killed are removed by the next run. Tests used to leave their folders in /tmp for
/// "the OS's tmp cleaning", which never came: a few dozen CI runs filled the disk (one test-bed
/// conversion alone writes 0.5 GB), and the next CI run failed with ENOSPC.
public enum ScratchSpace {
    private static let prefix = "quantkit-test-"

    /// This process's root, created (and stale roots swept) on first use.
    public static let root: String = {
        let temporary = NSTemporaryDirectory()
        sweepRootsOfDeadProcesses(in: temporary)
        let path = temporary + prefix + String(getpid())
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: ScratchSpace.root) }
        return path
    }()

    /// A fresh, empty folder under this process's root.
    public static func directory() throws -> String {
        let path = root + "/" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Removes a folder made by `directory()` now rather than at exit; for tests whose files are
    /// large (converted test-bed models), so that a run's peak disk use stays one model, not twenty.
    public static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    private static func sweepRootsOfDeadProcesses(in temporary: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []
        for name in names where name.hasPrefix(prefix) {
            guard let pid = pid_t(name.dropFirst(prefix.count)), pid != getpid() else { continue }
            // kill(pid, 0) fails with ESRCH only when no such process exists.
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(atPath: temporary + name)
            }
        }
    }
}

/// A fresh, empty scratch folder (see `ScratchSpace`).
public func temporaryDirectory() throws -> String {
    try ScratchSpace.directory()
}
