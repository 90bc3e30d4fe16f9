import QuantCore
import QuantFormats

/// The block-size fallback llama-quantize applies (`tensor_type_fallback`): a tensor whose rows
/// are not whole blocks of its chosen type gets the table's alternative, then F16.
public enum TensorTypeChoice {
    /// llama-quant.cpp's fallback for "incompatible" tensors (llama-cpp-python 0.3.36's llama.cpp;
    /// older releases sent Q2_K/Q3_K to IQ4_NL).
    public static let fallback: [GGMLType: GGMLType] = [
        .Q2_K: .Q4_0, .Q3_K: .Q4_0, .IQ4_XS: .IQ4_NL,
        .Q4_K: .Q5_0, .Q5_K: .Q5_1, .Q6_K: .Q8_0,
        // QuantKit's NF4 (blocks of 64): the ggml type closest in spirit, blocks of 32.
        .NF4: .IQ4_NL, .NF4_DQ: .IQ4_NL,
    ]

    /// `type` if rows of `rowLength` are whole blocks of it, else its fallback, else F16.
    public static func fit(_ type: GGMLType, rowLength: UInt64) -> GGMLType {
        func fits(_ type: GGMLType) -> Bool { rowLength % UInt64(type.traits!.blockSize) == 0 }
        if fits(type) { return type }
        if let alternative = fallback[type], fits(alternative) { return alternative }
        return .F16
    }

    /// Types a value can be stored in without requantizing (lossless sources).
    public static let floatTypes: Set<GGMLType> = [.F32, .F16, .BF16]
}
