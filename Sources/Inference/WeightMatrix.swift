import QuantCore
import QuantFormats

/// A weight matrix in its stored encoding: `rows` outputs of `columns` inputs (ggml ne = [columns,
/// rows]), read straight from the memory-mapped file. Rows are decoded on demand by the codec of
/// the stored type, so no dequantized copy of the model is ever held.
public struct WeightMatrix: @unchecked Sendable {
    public let name: String
    public let type: GGMLType
    public let rows: Int
    public let columns: Int
    public let data: UnsafeRawPointer
    public let rowBytes: Int
    let codec: any BlockCodec.Type
    /// The fast path, looked up once (a dynamic cast per row costs more than small rows).
    let fastCodec: (any FastBlockCodec.Type)?
    /// The fused decode-and-dot for few-token products, nil when rows must be decoded first.
    let rowDot: (any RowDotCodec.Type)?
    /// The integer dot against int8-quantized activations, preferred over `rowDot` where it exists
    /// (unless the model asks for f32 activations).
    let int8RowDot: (any Int8RowDotCodec.Type)?
    /// Storage of our own: decoded at load when the stored form cannot be read row by row
    /// (NF4_DQ), or the bytes of a matrix built in memory.
    private let owned: OwnedBytes?
    /// Rows interleaved in groups of eight for the generation kernels (`InterleavedRows`), for
    /// the 32-element integer types; the stored rows stay in use for batches.
    let interleaved: (bytes: OwnedBytes, kernel: InterleavedKernel)?

    init(name: String, info: GGUFTensorInfo, file: GGUFFile) throws {
        guard info.shape.count == 2 || (info.shape.count == 1) else {
            throw InferenceError.shapeMismatch(tensor: name, expected: [0, 0], found: info.shape)
        }
        // NF4_DQ's absmax is compressed across the whole tensor: restore it once (a few KB per
        // tensor more than stored) and read the result as NF4.
        var owned: OwnedBytes?
        if info.type == .NF4_DQ {
            owned = OwnedBytes(try NF4DoubleQuant.expand(file.data(for: info), companion: try NF4DoubleQuant.companion(of: info, in: file), tensor: name))
        }
        try self.init(name: name, type: owned == nil ? info.type : .NF4, columns: Int(info.shape[0]),
                      rows: info.shape.count == 2 ? Int(info.shape[1]) : 1, owned: owned,
                      mapped: UnsafeRawPointer(file.data(for: info).baseAddress!))
    }

    /// A matrix held in memory rather than mapped: `bytes` are `rows` rows of `type`. Used to try
    /// one tensor in another encoding without writing a file (the mix search).
    init(name: String, type: GGMLType, rows: Int, columns: Int, bytes: [UInt8]) throws {
        guard let codec = CodecRegistry.codec(for: type), columns % codec.blockSize == 0,
              bytes.count == rows * columns / codec.blockSize * codec.blockBytes else {
            throw InferenceError.unsupportedTensorType(tensor: name, type: type.name)
        }
        let owned = OwnedBytes(bytes)
        try self.init(name: name, type: type, columns: columns, rows: rows, owned: owned, mapped: UnsafeRawPointer(owned.pointer))
    }

    private init(name: String, type storedType: GGMLType, columns: Int, rows: Int, owned: OwnedBytes?, mapped: UnsafeRawPointer) throws {
        guard let codec = CodecRegistry.codec(for: storedType) else {
            throw InferenceError.unsupportedTensorType(tensor: name, type: storedType.name)
        }
        self.name = name
        self.owned = owned
        type = storedType
        self.columns = columns
        self.rows = rows
        self.codec = codec
        fastCodec = codec as? any FastBlockCodec.Type
        rowDot = codec as? any RowDotCodec.Type
        int8RowDot = codec as? any Int8RowDotCodec.Type
        rowBytes = columns / codec.blockSize * codec.blockBytes
        data = owned.map { UnsafeRawPointer($0.pointer) } ?? mapped
        if let kernel = InterleavedRows.kernel(for: storedType, rows: rows) {
            let copy = OwnedBytes(byteCount: InterleavedRows.byteCount(rows: rows, rowBytes: rowBytes))
            kernel.repack(data, rows: rows, rowBytes: rowBytes, into: copy.pointer)
            interleaved = (copy, kernel)
        } else {
            interleaved = nil
        }
    }

    /// Decodes rows `range` into `output` (range.count × columns floats).
    @inline(__always)
    func dequantizeRows(_ range: Range<Int>, into output: UnsafeMutablePointer<Float>) {
        for (i, row) in range.enumerated() {
            if let fast = fastCodec {
                fast.fastDequantizeRow(data + row * rowBytes, count: columns, into: output + i * columns)
            } else {
                codec.dequantizeRow(data + row * rowBytes, count: columns, into: output + i * columns)
            }
        }
    }

    /// All values as f32 (norms; a tensor the mix search re-encodes).
    public func floats() -> [Float] {
        var out = [Float](repeating: 0, count: rows * columns)
        out.withUnsafeMutableBufferPointer { dequantizeRows(0..<rows, into: $0.baseAddress!) }
        return out
    }
}

/// Bytes at a stable address for the lifetime of the weight matrices that share them.
final class OwnedBytes: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init(_ bytes: [UInt8]) {
        pointer = .allocate(byteCount: max(1, bytes.count), alignment: 64)
        bytes.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
    }
    init(byteCount: Int) {
        pointer = .allocate(byteCount: max(1, byteCount), alignment: 64)
    }
    deinit { pointer.deallocate() }
}
