import QuantFormats

/// Which type each tensor gets when a model is converted to one target type ("pure" mode; the
/// llama.cpp mix presets come with the conversion issue). Rules as llama-quantize applies them:
/// 1-D tensors (norms) stay F32; a 2-D tensor whose rows are not whole blocks of the target falls
/// back along llama.cpp's table, then to F16.
public enum TensorTypeChoice {
    /// llama-quant.cpp's fallback for "incompatible" tensors, as a table.
    public static let fallback: [GGMLType: GGMLType] = [
        .Q2_K: .IQ4_NL, .Q3_K: .IQ4_NL, .IQ4_XS: .IQ4_NL,
        .Q4_K: .Q5_0, .Q5_K: .Q5_1, .Q6_K: .Q8_0,
    ]

    public struct Choice: Equatable, Sendable {
        public let type: GGMLType
        /// Set when the requested type did not fit the row length.
        public let fellBackFrom: GGMLType?
    }

    public static func choose(target: GGMLType, shape: [UInt64]) -> Choice {
        guard shape.count >= 2 else { return Choice(type: .F32, fellBackFrom: nil) }
        let rowLength = shape[0]
        func fits(_ type: GGMLType) -> Bool { rowLength % UInt64(type.traits!.blockSize) == 0 }
        if fits(target) { return Choice(type: target, fellBackFrom: nil) }
        if let alternative = fallback[target], fits(alternative) { return Choice(type: alternative, fellBackFrom: target) }
        return Choice(type: .F16, fellBackFrom: target)
    }

    /// `general.file_type` (llama_ftype) for a pure conversion to `type`.
    public static let fileType: [GGMLType: UInt32] = [
        .F32: 0, .F16: 1, .Q4_0: 2, .Q4_1: 3, .Q8_0: 7, .Q5_0: 8, .Q5_1: 9, .Q2_K: 10, .Q3_K: 11,
        .Q4_K: 14, .Q5_K: 16, .Q6_K: 18, .IQ4_NL: 25, .IQ4_XS: 30, .BF16: 32,
    ]

    /// Types a value can be stored in without requantizing (lossless sources).
    public static let floatTypes: Set<GGMLType> = [.F32, .F16, .BF16]
}
