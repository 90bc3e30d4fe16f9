import CZstd
import QuantFormats

/// One-shot zstd compression for QuantKit's own files (activation statistics, a batch's cached
/// base logits).
public enum Zstd {
    public static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let size = output.withUnsafeMutableBytes { out in
            input.withUnsafeBytes { ZSTD_compress(out.baseAddress, out.count, $0.baseAddress, $0.count, level) }
        }
        precondition(ZSTD_isError(size) == 0, "zstd: \(String(cString: ZSTD_getErrorName(size)))")
        output.removeSubrange(size...)
        return output
    }

    /// Decompresses one frame. The frame must declare its size (ours always do) and it must be at
    /// most `limit`, so a hostile file cannot make us allocate more than that.
    public static func decompress(_ input: UnsafeRawBufferPointer, file: String, limit: UInt64 = 4 << 30) throws -> [UInt8] {
        let declared = ZSTD_getFrameContentSize(input.baseAddress, input.count)
        // ZSTD_CONTENTSIZE_UNKNOWN and _ERROR are the two largest UInt64 values.
        guard declared < UInt64.max - 1 else {
            throw FormatError(file: file, offset: 0, .badMetadata(message: "not a zstd frame with a declared size"))
        }
        guard declared <= limit else {
            throw FormatError(file: file, offset: 0, .countTooLarge(what: "decompressed size", count: declared, limit: limit))
        }
        var output = [UInt8](repeating: 0, count: Int(declared))
        let size = output.withUnsafeMutableBytes { ZSTD_decompress($0.baseAddress, $0.count, input.baseAddress, input.count) }
        guard ZSTD_isError(size) == 0, UInt64(size) == declared else {
            let reason = ZSTD_isError(size) != 0 ? String(cString: ZSTD_getErrorName(size)) : "\(size) bytes instead of \(declared)"
            throw FormatError(file: file, offset: 0, .badMetadata(message: "zstd: \(reason)"))
        }
        return output
    }
}
