import QuantCore
import QuantFormats

/// A `--type` value: what llama-quantize calls a file type (llama_ftype). Each has a default
/// tensor type and, unless `--pure`, per-role rules that give sensitive tensors more bits.
/// The rules are llama.cpp's `llama_tensor_get_type_impl` (vendored llama.cpp of
/// llama-cpp-python 0.3.36) for llama-family models, written as data: for a role, the first
/// rule whose condition holds gives the type; no rule keeps the default.
public struct QuantizationPreset: Sendable, Equatable {
    public let name: String
    /// `general.file_type` (llama_ftype).
    public let fileType: UInt32
    public let defaultType: GGMLType
    public let rules: [TensorCategory: [MixRule]]

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.name == rhs.name }

    public static func named(_ name: String) -> QuantizationPreset? {
        let key = name.uppercased()
        return all.first { $0.name == key } ?? aliases[key].flatMap { named($0) }
    }

    /// llama-quantize accepts the bare K-quant names as the _M mixes.
    public static let aliases = ["Q3_K": "Q3_K_M", "Q4_K": "Q4_K_M", "Q5_K": "Q5_K_M"]

    public static let all: [QuantizationPreset] = [
        .init("F32", 0, .F32), .init("F16", 1, .F16), .init("BF16", 32, .BF16),
        .init("Q8_0", 7, .Q8_0), .init("Q4_0", 2, .Q4_0, [.ffnDown: [.init(.all(.withImportance, .firstEighth), .Q4_1)]]),
        .init("Q4_1", 3, .Q4_1), .init("Q5_0", 8, .Q5_0, [.ffnDown: [.init(.all(.withImportance, .firstEighth), .Q5_1)]]),
        .init("Q5_1", 9, .Q5_1),
        .init("Q2_K", 10, .Q2_K, [
            .attentionV: [.init(.gqaAtLeast4, .Q4_K), .init(.always, .Q3_K)],
            .ffnDown: [.init(.always, .Q3_K)],
            .attentionOutput: [.init(.always, .Q3_K)],
        ]),
        .init("Q2_K_S", 21, .Q2_K, [
            .attentionV: [.init(.gqaAtLeast4, .Q4_K)],
            .ffnDown: [.init(.firstEighth, .Q4_K)],
        ]),
        .init("Q3_K_S", 11, .Q3_K),
        .init("Q3_K_M", 12, .Q3_K, [
            .attentionV: [.init(.indexBelow(2), .Q5_K), .init(.always, .Q4_K)],
            .ffnDown: [.init(.firstSixteenth, .Q5_K), .init(.always, .Q4_K)],
            .attentionOutput: [.init(.always, .Q4_K)],
        ]),
        .init("Q3_K_L", 13, .Q3_K, [
            .attentionV: [.init(.always, .Q5_K)],
            .ffnDown: [.init(.always, .Q5_K)],
            .attentionOutput: [.init(.always, .Q5_K)],
        ]),
        .init("Q4_K_S", 14, .Q4_K, [
            .attentionV: [.init(.indexBelow(4), .Q5_K)],
            .ffnDown: [.init(.firstEighth, .Q5_K)],
        ]),
        .init("Q4_K_M", 15, .Q4_K, [
            .attentionV: [.init(.useMoreBits, .Q6_K)],
            .ffnDown: [.init(.useMoreBits, .Q6_K)],
        ]),
        .init("Q5_K_S", 16, .Q5_K),
        .init("Q5_K_M", 17, .Q5_K, [
            .attentionV: [.init(.useMoreBits, .Q6_K)],
            .ffnDown: [.init(.useMoreBits, .Q6_K)],
        ]),
        .init("Q6_K", 18, .Q6_K),
        .init("IQ4_NL", 25, .IQ4_NL, [
            .attentionV: [.init(.gqaAtLeast4, .Q5_K)],
            .ffnDown: [.init(.all(.firstEighth, .withoutImportance), .Q5_K)],
        ]),
        .init("IQ4_XS", 30, .IQ4_XS, [
            .attentionV: [.init(.gqaAtLeast4, .Q5_K)],
            .ffnDown: [.init(.all(.firstEighth, .withoutImportance), .Q5_K)],
        ]),
        // QuantKit extensions (llama.cpp has no file type for them): file_type is the type id.
        // Like every ggml type, the output (or tied embedding) gets Q6_K from the output rule.
        .init("NF4", GGMLType.NF4.rawValue, .NF4), .init("NF4_DQ", GGMLType.NF4_DQ.rawValue, .NF4_DQ),
    ]

    init(_ name: String, _ fileType: UInt32, _ defaultType: GGMLType, _ rules: [TensorCategory: [MixRule]] = [:]) {
        self.name = name
        self.fileType = fileType
        self.defaultType = defaultType
        self.rules = rules
    }
}

/// One row of a preset's table.
public struct MixRule: Sendable {
    public let condition: MixCondition
    public let type: GGMLType
    init(_ condition: MixCondition, _ type: GGMLType) {
        self.condition = condition
        self.type = type
    }
}

/// Where a tensor sits, as the rules see it: for attn_v its rank among the attn_v tensors, for
/// ffn_down its layer; plus model facts.
public struct MixContext: Sendable {
    public var index: Int
    public var count: Int
    public var groupedQueryRatio: Int
    public var hasImportance: Bool
}

public indirect enum MixCondition: Sendable {
    case always
    /// llama.cpp's `use_more_bits`: the first and last eighth of the layers and every third
    /// layer in between.
    case useMoreBits
    case firstEighth, firstSixteenth
    case indexBelow(Int)
    case gqaAtLeast4
    case withImportance, withoutImportance
    case all(MixCondition, MixCondition)

    func holds(_ c: MixContext) -> Bool {
        switch self {
        case .always: true
        case .useMoreBits: c.index < c.count / 8 || c.index >= 7 * c.count / 8 || (c.index - c.count / 8) % 3 == 2
        case .firstEighth: c.index < c.count / 8
        case .firstSixteenth: c.index < c.count / 16
        case let .indexBelow(n): c.index < n
        case .gqaAtLeast4: c.groupedQueryRatio >= 4
        case .withImportance: c.hasImportance
        case .withoutImportance: !c.hasImportance
        case let .all(a, b): a.holds(c) && b.holds(c)
        }
    }
}
