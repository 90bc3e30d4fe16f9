/// Bounds-checked little-endian reads over a byte buffer (a mapped file or an in-memory header).
///
/// Every read checks the remaining length first and throws `FormatError.Reason.truncated` naming
/// what was being read, so a short or lying file can never make us read past its end.
public struct ByteCursor {
    public let bytes: UnsafeRawBufferPointer
    public let file: String
    /// Offset of `bytes` within the file, so errors report file offsets.
    public let baseOffset: UInt64
    public private(set) var position: Int = 0

    public init(_ bytes: UnsafeRawBufferPointer, file: String, baseOffset: UInt64 = 0) {
        self.bytes = bytes
        self.file = file
        self.baseOffset = baseOffset
    }

    public var remaining: Int { bytes.count - position }
    public var fileOffset: UInt64 { baseOffset + UInt64(position) }

    /// An error located at the cursor's current position.
    public func error(_ reason: FormatError.Reason) -> FormatError {
        FormatError(file: file, offset: fileOffset, reason)
    }

    /// Throws unless `count` more bytes can be read.
    public func require(_ count: UInt64, for what: @autoclosure () -> String) throws {
        if count > UInt64(remaining) {
            throw error(.truncated(what: what(), needed: count, remaining: UInt64(remaining)))
        }
    }

    public mutating func read<T: FixedWidthInteger>(_ type: T.Type, _ what: @autoclosure () -> String) throws -> T {
        try require(UInt64(MemoryLayout<T>.size), for: what())
        let value = bytes.loadUnaligned(fromByteOffset: position, as: T.self)
        position += MemoryLayout<T>.size
        return T(littleEndian: value)
    }

    public mutating func readFloat(_ what: @autoclosure () -> String) throws -> Float {
        Float(bitPattern: try read(UInt32.self, what()))
    }

    public mutating func readDouble(_ what: @autoclosure () -> String) throws -> Double {
        Double(bitPattern: try read(UInt64.self, what()))
    }

    /// A view of the next `count` bytes (no copy).
    public mutating func readBytes(_ count: UInt64, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        try require(count, for: what())
        let slice = UnsafeRawBufferPointer(rebasing: bytes[position ..< position + Int(count)])
        position += Int(count)
        return slice
    }

    public mutating func skip(_ count: UInt64, _ what: @autoclosure () -> String) throws {
        try require(count, for: what())
        position += Int(count)
    }
}
