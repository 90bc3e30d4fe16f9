import QuantCore
import QuantFormats

/// The block-size fallback llama-quantize applies (`tensor_type_fallback`): a tensor whose rows
/// are not whole blocks of its chosen type gets the table's alternative, then F16.
public enum TensorTypeChoice {
    /// llama-quant.cpp's fallback for "incompatible" tensors (llama-cpp-python 0.3.36's llama.cpp;
    /// older releases sent Q2_K/Q3_K to IQ4_NL): each codec's `fallbackType`. NF4_DQ falls back
    /// as NF4 does.
    public static func fallback(for type: GGMLType) -> GGMLType? {
        CodecRegistry.codec(for: type == .NF4_DQ ? .NF4 : type)?.fallbackType
    }

    /// `type` if rows of `rowLength` are whole blocks of it, else its fallback, else F16.
    public static func fit(_ type: GGMLType, rowLength: UInt64) -> GGMLType {
        func fits(_ type: GGMLType) -> Bool { rowLength % UInt64(type.traits!.blockSize) == 0 }
        if fits(type) { return type }
        if let alternative = fallback(for: type), fits(alternative) { return alternative }
        return .F16
    }

    /// Types a value can be stored in without requantizing (lossless sources).
    public static let floatTypes: Set<GGMLType> = [.F32, .F16, .BF16]
}
