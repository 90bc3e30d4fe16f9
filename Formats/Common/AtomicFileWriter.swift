#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file so that it appears under its final name complete or not at all.
///
/// Data goes to a temporary file in the destination's folder (same file system, so the final
/// `rename` is atomic); `commit()` flushes, fsyncs the file, renames it over the destination and
/// fsyncs the folder. If the writer is dropped without `commit()` — an error, a bad tensor — the
/// temporary file is removed, so a crash or failure never leaves a half-written output under the
/// final name. Temporary names start with `.` and contain `temporaryMarker`, so stale ones left by a
/// SIGKILL can be found and removed with `removeStaleTemporaries(for:)`.
public final class AtomicFileWriter {
    public static let temporaryMarker = ".quantkit-partial-"

    public let destination: String
    public let temporaryPath: String
    public private(set) var bytesWritten: UInt64 = 0
    private var fd: Int32
    private var buffer: [UInt8] = []
    private let bufferCapacity = 4 << 20
    private var finished = false

    public init(destination: String) throws {
        self.destination = destination
        let (folder, name) = splitPath(destination)
        var template = Array("\(folder)/.\(name)\(Self.temporaryMarker)XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw FormatError(file: destination, .ioFailure(operation: "create temporary file", errno: errno))
        }
        fd = descriptor
        // mkstemp creates the file 0600; a finished model should get the permissions any new file
        // gets (0666 less the umask), as llama-quantize's output does.
        let mask = umask(0)
        umask(mask)
        fchmod(descriptor, 0o666 & ~mask)
        temporaryPath = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        buffer.reserveCapacity(bufferCapacity)
    }

    /// Appends bytes (buffered; large writes go straight to the file).
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if buffer.count + bytes.count > bufferCapacity { try flushBuffer() }
        if bytes.count >= bufferCapacity {
            try writeFully(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
        bytesWritten += UInt64(bytes.count)
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Appends `count` zero bytes (alignment padding).
    public func writeZeros(_ count: Int) throws {
        guard count > 0 else { return }
        try write([UInt8](repeating: 0, count: count))
    }

    /// Makes the file durable and moves it to its final name.
    public func commit() throws {
        try flushBuffer()
        guard fsync(fd) == 0 else { throw ioError("fsync") }
        close(fd)
        fd = -1
        guard rename(temporaryPath, destination) == 0 else { throw ioError("rename to destination") }
        finished = true
        let folder = splitPath(destination).folder
        let folderFD = open(folder, O_RDONLY | O_DIRECTORY)
        if folderFD >= 0 { _ = fsync(folderFD); close(folderFD) }
    }

    /// Abandons the output: the temporary file is removed and the destination is untouched.
    public func discard() {
        guard !finished else { return }
        finished = true
        if fd >= 0 { close(fd); fd = -1 }
        unlink(temporaryPath)
    }

    deinit { discard() }

    /// Removes temporary files that an earlier, killed run left beside `destination`.
    /// Returns the paths removed.
    @discardableResult
    public static func removeStaleTemporaries(for destination: String) -> [String] {
        let (folder, name) = splitPath(destination)
        guard let dir = opendir(folder) else { return [] }
        defer { closedir(dir) }
        let prefix = ".\(name)\(temporaryMarker)"
        var removed: [String] = []
        while let entry = readdir(dir) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if entryName.hasPrefix(prefix) {
                let path = "\(folder)/\(entryName)"
                if unlink(path) == 0 { removed.append(path) }
            }
        }
        return removed
    }

    private func flushBuffer() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try writeFully($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeFully(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw ioError("write")
            }
            done += n
        }
    }

    private func ioError(_ operation: String) -> FormatError {
        FormatError(file: destination, offset: bytesWritten, .ioFailure(operation: operation, errno: errno))
    }
}

/// Splits a path into its folder ("." when none) and last component.
func splitPath(_ path: String) -> (folder: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let folder = String(path[..<slash])
    return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
}
