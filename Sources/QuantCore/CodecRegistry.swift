import QuantFormats

/// The codecs QuantCore implements, keyed by ggml type: the one place a type id meets its code.
/// Sizes come from `GGMLType.traitsTable`; this table only attaches behaviour.
public enum CodecRegistry {
    public static let codecs: [GGMLType: any BlockCodec.Type] = {
        let all: [any BlockCodec.Type] = [
            F32Codec.self, F16Codec.self, BF16Codec.self,
            Q8_0Codec.self, Q4_0Codec.self, Q4_1Codec.self, Q5_0Codec.self, Q5_1Codec.self,
            Q2_KCodec.self, Q3_KCodec.self, Q4_KCodec.self, Q5_KCodec.self, Q6_KCodec.self,
            IQ4_NLCodec.self, IQ4_XSCodec.self, NF4Codec.self,
        ]
        return Dictionary(uniqueKeysWithValues: all.map { ($0.type, $0) })
    }()

    public static func codec(for type: GGMLType) -> (any BlockCodec.Type)? { codecs[type] }

    /// Types with a codec, in id order.
    public static var supportedTypes: [GGMLType] { codecs.keys.sorted { $0.rawValue < $1.rawValue } }
}
