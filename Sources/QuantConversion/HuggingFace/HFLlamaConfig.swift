import Foundation
import QuantCore
import QuantFormats

/// The hyper-parameters of a llama-family `config.json` (Llama, Mistral, Qwen2, Qwen3),
/// validated, and their GGUF spelling (the `<arch>.*` keys llama.cpp's convert_hf_to_gguf.py
/// writes).
public struct HFLlamaConfig: Sendable {
    /// `architectures[0]` values this converter reads (`HFArchitecture.all`).
    public static var supportedArchitectures: [String] { HFArchitecture.all.map(\.hfName) }

    public let hfArchitecture: String
    public let architecture: HFArchitecture
    /// `general.architecture` of the GGUF.
    public var ggufArchitecture: String { architecture.ggufName }
    /// Whether q/k/v have biases (Qwen2 always; others when `attention_bias` is true).
    public let attentionBiases: Bool
    public let layerCount: Int
    public let embeddingLength: Int
    public let feedForwardLength: Int
    public let headCount: Int
    public let headCountKV: Int
    public let headDimension: Int
    public let contextLength: Int
    public let vocabularySize: Int
    public let ropeTheta: Double
    public let rmsNormEpsilon: Double
    public let tiedEmbeddings: Bool
    public let bosTokenID: Int?
    public let eosTokenID: Int?
    public let ropeScaling: RopeScaling?

    /// `rope_scaling` kinds llama.cpp understands for llama models.
    public enum RopeScaling: Sendable, Equatable {
        case linear(factor: Double)
        case yarn(factor: Double, originalContext: Int, extrapolation: Double?, attention: Double?, betaFast: Double?, betaSlow: Double?)
        /// Llama 3.1+: frequency-dependent factors, stored as the `rope_freqs.weight` tensor.
        case llama3(factor: Double, lowFrequencyFactor: Double, highFrequencyFactor: Double, originalContext: Int)
    }

    public init(path: String) throws {
        let json = try HFJSONFile(path: path)
        let architecture = json.value("architectures")?.array?.first?.string ?? "(none)"
        guard let mapping = HFArchitecture.named(architecture) else {
            throw HFCheckpointError(file: path, .unsupportedArchitecture(found: architecture, supported: Self.supportedArchitectures))
        }
        hfArchitecture = architecture
        self.architecture = mapping
        layerCount = try json.requiredInteger("num_hidden_layers")
        embeddingLength = try json.requiredInteger("hidden_size")
        feedForwardLength = try json.requiredInteger("intermediate_size")
        headCount = try json.requiredInteger("num_attention_heads")
        headCountKV = try json.integer("num_key_value_heads") ?? headCount
        headDimension = try json.integer("head_dim") ?? embeddingLength / headCount
        contextLength = try json.requiredInteger("max_position_embeddings")
        vocabularySize = try json.requiredInteger("vocab_size")
        ropeTheta = try json.double("rope_theta") ?? 10_000
        rmsNormEpsilon = try json.double("rms_norm_eps") ?? 1e-6
        tiedEmbeddings = try json.bool("tie_word_embeddings") ?? false
        bosTokenID = try json.integer("bos_token_id")
        eosTokenID = try json.integer("eos_token_id")
        guard headCountKV > 0, headCount % headCountKV == 0 else {
            throw HFCheckpointError(file: path, .badValue(key: "num_key_value_heads", message: "\(headCountKV) does not divide num_attention_heads \(headCount)"))
        }
        guard headDimension > 0, headDimension % 2 == 0 else {
            throw HFCheckpointError(file: path, .badValue(key: "head_dim", message: "must be even and positive, found \(headDimension)"))
        }
        let configuredBias = try json.bool("attention_bias") ?? false
        switch mapping.attentionBiases {
        case .never where configuredBias:
            throw HFCheckpointError(file: path, .badValue(key: "attention_bias", message: "biases are not supported for \(architecture)"))
        case .never: attentionBiases = false
        case .ifConfigured: attentionBiases = configuredBias
        case .always: attentionBiases = true
        }
        if try json.bool("mlp_bias") == true {
            throw HFCheckpointError(file: path, .badValue(key: "mlp_bias", message: "MLP biases are not supported by this converter"))
        }
        // Mistral 7B v0.1 attends 4096 tokens back; llama.cpp runs it with full attention, which
        // differs past the window, so such a checkpoint is refused rather than converted silently.
        if let window = try json.integer("sliding_window"), try json.bool("use_sliding_window") ?? true, window < contextLength {
            throw HFCheckpointError(file: path, .badValue(key: "sliding_window", message: "sliding-window attention (\(window) tokens) is not supported: llama.cpp would attend to the whole context"))
        }
        ropeScaling = try Self.ropeScaling(json)
    }

    private static func ropeScaling(_ json: HFJSONFile) throws -> RopeScaling? {
        guard let scaling = json.value("rope_scaling") else { return nil }
        let kind = (scaling["rope_type"] ?? scaling["type"])?.string?.lowercased() ?? ""
        func number(_ key: String) -> Double? { scaling[key]?.double }
        func bad(_ message: String) -> HFCheckpointError { HFCheckpointError(file: json.path, .badValue(key: "rope_scaling", message: message)) }
        switch kind {
        case "default", "": return nil
        case "linear":
            guard let factor = number("factor") else { throw bad("linear scaling without 'factor'") }
            return .linear(factor: factor)
        case "yarn":
            guard let factor = number("factor"), let original = scaling["original_max_position_embeddings"]?.int64 else {
                throw bad("yarn scaling needs 'factor' and 'original_max_position_embeddings'")
            }
            return .yarn(factor: factor, originalContext: Int(original), extrapolation: number("extrapolation_factor"),
                         attention: number("attention_factor") ?? number("attn_factor"),
                         betaFast: number("beta_fast"), betaSlow: number("beta_slow"))
        case "llama3":
            return .llama3(factor: number("factor") ?? 8, lowFrequencyFactor: number("low_freq_factor") ?? 1,
                           highFrequencyFactor: number("high_freq_factor") ?? 4,
                           originalContext: Int(scaling["original_max_position_embeddings"]?.int64 ?? 8192))
        default:
            throw bad("rope type '\(kind)' is not supported (linear, yarn, llama3)")
        }
    }

    /// Hyper-parameter keys in convert_hf_to_gguf.py's order.
    public func hyperparameterEntries(fileType: UInt32) -> [GGUFKeyValue] {
        let arch = ggufArchitecture
        func key(_ suffix: GGUFKey.LLM) -> String { suffix.key(arch) }
        var entries: [GGUFKeyValue] = [
            .init(key(.blockCount), .uint32(UInt32(layerCount))),
            .init(key(.contextLength), .uint32(UInt32(contextLength))),
            .init(key(.embeddingLength), .uint32(UInt32(embeddingLength))),
            .init(key(.feedForwardLength), .uint32(UInt32(feedForwardLength))),
            .init(key(.headCount), .uint32(UInt32(headCount))),
            .init(key(.headCountKV), .uint32(UInt32(headCountKV))),
        ]
        switch ropeScaling {
        case let .linear(factor):
            entries += [.init("\(arch).rope.scaling.type", .string("linear")), .init("\(arch).rope.scaling.factor", .float32(Float(factor)))]
        case let .yarn(factor, original, extrapolation, attention, betaFast, betaSlow):
            entries += [.init("\(arch).rope.scaling.type", .string("yarn")), .init("\(arch).rope.scaling.factor", .float32(Float(factor))),
                        .init("\(arch).rope.scaling.original_context_length", .uint32(UInt32(original)))]
            let optional: [(String, Double?)] = [("yarn_ext_factor", extrapolation), ("yarn_attn_factor", attention),
                                                 ("yarn_beta_fast", betaFast), ("yarn_beta_slow", betaSlow)]
            for (name, value) in optional { if let value { entries.append(.init("\(arch).rope.scaling.\(name)", .float32(Float(value)))) } }
        case .llama3, nil: break
        }
        entries += [
            .init(key(.ropeFreqBase), .float32(Float(ropeTheta))),
            .init(key(.rmsNormEpsilon), .float32(Float(rmsNormEpsilon))),
            .init(GGUFKey.fileType, .uint32(fileType)),
            .init(key(.vocabSize), .uint32(UInt32(vocabularySize))),
            .init(key(.ropeDimensionCount), .uint32(UInt32(headDimension))),
        ]
        if headDimension != embeddingLength / headCount {
            entries += [.init("\(arch).attention.key_length", .uint32(UInt32(headDimension))),
                        .init("\(arch).attention.value_length", .uint32(UInt32(headDimension)))]
        }
        return entries
    }

    /// Llama 3's per-frequency RoPE factors (convert_hf_to_gguf.py `generate_extra_tensors`),
    /// in float32 as torch computes them there.
    public var llama3RopeFactors: [Float]? {
        guard let ropeScaling, case .llama3 = ropeScaling else { return nil }
        return Self.llama3Factors(scaling: ropeScaling, theta: ropeTheta, headDimension: headDimension)
    }

    static func llama3Factors(scaling: RopeScaling, theta: Double, headDimension: Int) -> [Float] {
        guard case let .llama3(factor, low, high, original) = scaling else { return [] }
        let lowWavelength = Double(original) / low, highWavelength = Double(original) / high
        return stride(from: 0, to: headDimension, by: 2).map { i -> Float in
            let frequency = 1 / powf(Float(theta), Float(i) / Float(headDimension))
            let wavelength = Double(Float(2 * Double.pi) / frequency)
            if wavelength < highWavelength { return 1 }
            if wavelength > lowWavelength { return Float(factor) }
            let smooth = (Double(original) / wavelength - low) / (high - low)
            return Float(1 / ((1 - smooth) / factor + smooth))
        }
    }
}
