#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only, memory-mapped file.
///
/// Model files are hundreds of megabytes to tens of gigabytes: mapping them lets readers parse the
/// header and hand out tensor views without reading tensor data until it is touched. The mapping is
/// private and read-only and lives as long as this object, so views must not outlive it; the
/// readers keep a reference for that reason. Immutable after init, hence `@unchecked Sendable`.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let bytes: UnsafeRawBufferPointer
    private let mappedLength: Int

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FormatError(file: path, .cannotOpen(errno: errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FormatError(file: path, .ioFailure(operation: "fstat", errno: errno)) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw FormatError(file: path, .notARegularFile) }
        let length = Int(info.st_size)
        mappedLength = length
        if length == 0 {
            // mmap rejects a zero length; an empty file is simply an empty buffer.
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let base = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw FormatError(file: path, .ioFailure(operation: "mmap", errno: errno))
        }
        bytes = UnsafeRawBufferPointer(start: base, count: length)
    }

    public var count: Int { bytes.count }

    /// Runs `body` on the mapped bytes, keeping the mapping alive for the call. Use this rather
    /// than `bytes` on a `MappedFile` that is not stored: Swift may release an object right after
    /// its last use, which would unmap the memory under a pointer still in use.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(bytes) }
    }

    /// The whole file as a (lossily decoded) UTF-8 string.
    public static func readText(path: String) throws -> String {
        try MappedFile(path: path).withBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// Tells the kernel a range will be read sequentially soon (conversion streams tensors).
    public func adviseSequential(offset: Int, count: Int) { advise(offset: offset, count: count, MADV_WILLNEED) }

    /// Tells the kernel a range is done with: its pages leave this process's resident set (they
    /// stay in the page cache and fault back in if read again), so streaming a model through
    /// memory does not grow RSS to the model's size.
    public func adviseDone(offset: Int, count: Int) { advise(offset: offset, count: count, MADV_DONTNEED) }

    private func advise(offset: Int, count: Int, _ advice: Int32) {
        guard let base = bytes.baseAddress, count > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset / page * page
        let end = min(bytes.count, offset + count)
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, advice)
    }

    deinit {
        if let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), mappedLength)
        }
    }
}
