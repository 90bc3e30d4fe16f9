import QuantFormats

/// A named byte range inside one block, from the block's C struct in ggml-common.h. Used for the
/// layout comment of each codec and to report which fields differ when bytes do not match.
public struct BlockField: Sendable, Equatable {
    public let name: String
    public let offset: Int
    public let count: Int
    public init(_ name: String, _ offset: Int, _ count: Int) {
        self.name = name
        self.offset = offset
        self.count = count
    }
}

/// A ggml block codec: rows of f32 to blocks of bytes and back.
///
/// Rows are processed whole because some quantizers use row statistics (σ² over the row for the
/// importance-weighted legacy types). Blocks are bytes at fixed offsets, never Swift structs
/// (Swift promises no C layout). Row lengths must be whole blocks; `TensorCodec` checks that and
/// throws a typed error before any codec is called.
public protocol BlockCodec: SendableMetatype {
    static var type: GGMLType { get }
    /// The block's fields in order; their sizes sum to the trait table's bytes per block.
    static var fields: [BlockField] { get }
    /// The activations llama.cpp's CPU backend multiplies this type with (ggml-cpu's
    /// `type_traits_cpu[type].vec_dot_type`); `.exact` (the default) for types llama.cpp cannot run.
    static var llamaCppActivations: LlamaCppActivations { get }
    /// llama-quantize's `tensor_type_fallback` for a tensor whose rows are not whole blocks of this
    /// type; nil (the default) goes straight to F16.
    static var fallbackType: GGMLType? { get }

    /// llama.cpp's default quantizer for the type (what `ggml_quantize_chunk` does with no
    /// importance matrix), byte for byte.
    static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer)

    /// The importance-weighted quantizer (`quantize_row_*_impl`), byte for byte, given one
    /// importance value per column. Types llama.cpp quantizes without weights (Q8_0, floats) use
    /// the plain quantizer.
    static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>,
                            into blocks: UnsafeMutableRawPointer)

    /// llama.cpp's `dequantize_row_*` (`to_float`), bit for bit.
    static func dequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>)
}

extension BlockCodec {
    public static var traits: GGMLTypeTraits { type.traits! }
    public static var blockSize: Int { traits.blockSize }
    public static var blockBytes: Int { traits.bytesPerBlock }
    public static var llamaCppActivations: LlamaCppActivations { .exact }
    public static var fallbackType: GGMLType? { nil }

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>,
                                   into blocks: UnsafeMutableRawPointer) {
        quantizeRow(x, count: count, into: blocks)
    }
}
