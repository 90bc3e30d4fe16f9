import Foundation
import QuantCore
import QuantFormats

/// `--tensor-type REGEX=TYPE`: the first override whose regex matches anywhere in a tensor's
/// name gives its type (llama.cpp uses `std::regex_search`, first match wins).
public struct TensorTypeOverride: @unchecked Sendable {
    public let pattern: String
    public let type: GGMLType
    let regex: Regex<AnyRegexOutput>

    public init(pattern: String, type: GGMLType) throws {
        self.pattern = pattern
        self.type = type
        regex = try Regex(pattern)
    }

    func matches(_ name: String) -> Bool { name.contains(regex) }
}

/// Chooses each tensor's type the way llama-quantize does (`llama_tensor_get_type`): explicit
/// output/embedding types first, then `--tensor-type` overrides, then the preset's mix rules
/// (unless pure), then the block-size fallback. Tensors are visited in llama.cpp's order (by
/// layer, then name) because the attn_v rules count attn_v tensors as they go.
public struct TensorTypePlanner: Sendable {
    public struct Options: Sendable {
        public var preset: QuantizationPreset
        public var pure = false
        public var outputType: GGMLType?
        public var tokenEmbeddingType: GGMLType?
        public var overrides: [TensorTypeOverride] = []
        public var hasImportance = false
        /// Types chosen by the mix search (`MixSearch`), by tensor name: they replace the mix
        /// rules; explicit options and `--tensor-type` overrides still win.
        public var searchedTypes: [String: GGMLType] = [:]
        public init(preset: QuantizationPreset) { self.preset = preset }
    }

    /// What the rules need to know about the model.
    public struct ModelFacts: Sendable {
        public var blockCount: Int
        public var headCount: Int
        public var headCountKV: Int
        public init(blockCount: Int, headCount: Int, headCountKV: Int) {
            self.blockCount = blockCount
            self.headCount = headCount
            self.headCountKV = headCountKV
        }
        var groupedQueryRatio: Int { headCountKV > 0 ? headCount / headCountKV : 1 }
        /// llama.cpp's LLM_TYPE_70B for the llama architecture: 80 layers with grouped queries.
        var isLlama70B: Bool { blockCount == 80 && headCount != headCountKV }
    }

    public enum Reason: String, Codable, Sendable {
        case notQuantized = "not quantized", defaultType = "default", mixRule = "mix rule"
        case outputRule = "output rule", override = "--tensor-type", outputOption = "--output-tensor-type"
        case embeddingOption = "--token-embedding-type", mixSearch = "mix search"
    }

    public struct Decision: Equatable, Sendable {
        public let type: GGMLType
        public let fellBackFrom: GGMLType?
        public let reason: Reason
        public init(type: GGMLType, fellBackFrom: GGMLType?, reason: Reason) {
            self.type = type
            self.fellBackFrom = fellBackFrom
            self.reason = reason
        }
    }

    /// What the planner sees of a tensor: its GGUF name, shape (ne[]) and source type.
    public typealias Tensor = SourceTensor

    public let options: Options
    public let model: ModelFacts

    public init(options: Options, model: ModelFacts) {
        self.options = options
        self.model = model
    }

    /// One decision per tensor, in the order given.
    public func plan(_ tensors: [Tensor]) -> [Decision] {
        let categories = tensors.map { TensorCategory(tensorName: $0.name) }
        var state = Counters(attentionValueCount: categories.filter(\.isAttentionValueLike).count,
                             tiedEmbeddings: !categories.contains(.output))
        var decisions = [Decision?](repeating: nil, count: tensors.count)
        for i in Self.llamaOrder(tensors.map(\.name)) {
            decisions[i] = decide(tensors[i], category: categories[i], state: &state)
        }
        return decisions.map { $0! }
    }

    /// llama.cpp's `weight_name_comparer`: tensors outside blocks first, then by block number,
    /// then by name.
    static func llamaOrder(_ names: [String]) -> [Int] {
        func layer(_ name: String) -> Int { TensorCategory.layerIndex(of: name) ?? -1 }
        return names.indices.sorted { a, b in
            let (la, lb) = (layer(names[a]), layer(names[b]))
            return la != lb ? la < lb : names[a].utf8.lexicographicallyPrecedes(names[b].utf8)
        }
    }

    struct Counters {
        var attentionValueCount: Int
        var tiedEmbeddings: Bool
        var attentionValueIndex = 0
        var ffnDownIndex = 0
    }

    private func decide(_ tensor: Tensor, category: TensorCategory, state: inout Counters) -> Decision {
        guard TensorCategory.allowsQuantization(name: tensor.name, dimensions: tensor.shape.count) else {
            return Decision(type: tensor.type, fellBackFrom: nil, reason: .notQuantized)
        }
        if let type = options.tokenEmbeddingType, category == .tokenEmbedding {
            return Decision(type: type, fellBackFrom: nil, reason: .embeddingOption)
        }
        if let type = options.outputType, category == .output {
            return Decision(type: type, fellBackFrom: nil, reason: .outputOption)
        }
        let defaultType = options.preset.defaultType
        guard defaultType.traits?.isQuantized == true else {
            return Decision(type: defaultType, fellBackFrom: nil, reason: .defaultType)
        }
        var type = defaultType, reason = Reason.defaultType
        if let override = options.overrides.first(where: { $0.matches(tensor.name) }) {
            (type, reason) = (override.type, .override)
        } else if let searched = options.searchedTypes[tensor.name] {
            (type, reason) = (searched, .mixSearch)
        } else if !options.pure {
            (type, reason) = mixType(tensor, category: category, state: &state)
        }
        let fitted = TensorTypeChoice.fit(type, rowLength: tensor.shape[0])
        return Decision(type: fitted, fellBackFrom: fitted == type ? nil : type, reason: reason)
    }

    private func mixType(_ tensor: Tensor, category: TensorCategory, state: inout Counters) -> (GGMLType, Reason) {
        let preset = options.preset, defaultType = preset.defaultType
        if category == .output || (state.tiedEmbeddings && category == .tokenEmbedding) {
            if let type = options.outputType { return (type, .outputOption) }
            let rowFits = tensor.shape[0] % UInt64(defaultType.traits!.blockSize) == 0
            if !rowFits { return (.Q8_0, .outputRule) }
            return defaultType == .Q8_0 ? (defaultType, .defaultType) : (.Q6_K, .outputRule)
        }
        let context: MixContext
        if category.isAttentionValueLike {
            context = MixContext(index: state.attentionValueIndex, count: state.attentionValueCount,
                                 groupedQueryRatio: model.groupedQueryRatio, hasImportance: options.hasImportance)
            state.attentionValueIndex += 1
        } else if category == .ffnDown {
            context = MixContext(index: state.ffnDownIndex, count: model.blockCount,
                                 groupedQueryRatio: model.groupedQueryRatio, hasImportance: options.hasImportance)
            state.ffnDownIndex += 1
        } else {
            context = MixContext(index: 0, count: model.blockCount, groupedQueryRatio: model.groupedQueryRatio,
                                 hasImportance: options.hasImportance)
        }
        // attn_qkv and attn_kv_b follow the attn_v rules in llama.cpp.
        let ruleCategory: TensorCategory = category.isAttentionValueLike ? .attentionV : category
        var type = defaultType, reason = Reason.defaultType
        if let rule = preset.rules[ruleCategory]?.first(where: { $0.condition.holds(context) }) {
            (type, reason) = (rule.type, .mixRule)
        }
        // Llama-2-70B shares each attn_v among 8 heads: a few more bits there cost little.
        if category.isAttentionValueLike, model.isLlama70B, type == .Q3_K || type == .Q4_K {
            (type, reason) = (.Q5_K, .mixRule)
        }
        return (type, reason)
    }
}
