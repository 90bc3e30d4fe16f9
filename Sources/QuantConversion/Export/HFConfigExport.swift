import Foundation
import QuantCore
import QuantFormats

/// GGUF `llama.*` metadata → the Hugging Face configuration it was converted from: the inverse
/// of `HFLlamaConfig.hyperparameterEntries`, so that `convert` of an exported folder writes the
/// same keys again.
extension HFLlamaConfig {
    /// `ropeFactors`: the file's `rope_freqs.weight` (Llama 3.1+), from which the llama3
    /// `rope_scaling` is recovered.
    init(gguf metadata: GGUFMetadata, file: String, tied: Bool, ropeFactors: [Float]?) throws {
        let arch = metadata.architecture ?? "(none)"
        // Export writes llama checkpoints only (Qwen's biases and q/k norms have no exporter yet).
        guard arch == "llama", let llama = HFArchitecture.named("LlamaForCausalLM") else {
            throw HFExportError(file: file, .unsupportedArchitecture(found: arch, supported: ["llama"]))
        }
        func required(_ key: GGUFKey.LLM) throws -> Int {
            guard let value = metadata.integer(key.key(arch)) else { throw HFExportError(file: file, .missingKey(key.key(arch))) }
            return Int(value)
        }
        hfArchitecture = llama.hfName
        architecture = llama
        attentionBiases = false
        layerCount = try required(.blockCount)
        embeddingLength = try required(.embeddingLength)
        feedForwardLength = try required(.feedForwardLength)
        headCount = try required(.headCount)
        headCountKV = Int(metadata.integer(GGUFKey.LLM.headCountKV.key(arch)) ?? Int64(headCount))
        headDimension = Int(metadata.integer("\(arch).attention.key_length") ?? Int64(embeddingLength / max(headCount, 1)))
        contextLength = try required(.contextLength)
        guard let vocabulary = metadata.integer(GGUFKey.LLM.vocabSize.key(arch)) ?? metadata.array(GGUFKey.Tokenizer.tokens).map({ Int64($0.count) }) else {
            throw HFExportError(file: file, .missingKey(GGUFKey.Tokenizer.tokens))
        }
        vocabularySize = Int(vocabulary)
        ropeTheta = metadata.float(GGUFKey.LLM.ropeFreqBase.key(arch)) ?? 10_000
        rmsNormEpsilon = metadata.float(GGUFKey.LLM.rmsNormEpsilon.key(arch)) ?? 1e-6
        tiedEmbeddings = tied
        bosTokenID = metadata.integer(GGUFKey.Tokenizer.bosID).map(Int.init)
        eosTokenID = metadata.integer(GGUFKey.Tokenizer.eosID).map(Int.init)
        ropeScaling = try Self.ropeScaling(metadata, arch: arch, file: file, factors: ropeFactors,
                                           theta: ropeTheta, headDimension: headDimension)
    }

    private static func ropeScaling(_ metadata: GGUFMetadata, arch: String, file: String, factors: [Float]?,
                                    theta: Double, headDimension: Int) throws -> RopeScaling? {
        func number(_ name: String) -> Double? { metadata.float("\(arch).rope.scaling.\(name)") }
        switch metadata.string("\(arch).rope.scaling.type") {
        case "linear":
            if let factor = number("factor") { return .linear(factor: factor) }
        case "yarn":
            if let factor = number("factor"), let original = metadata.integer("\(arch).rope.scaling.original_context_length") {
                return .yarn(factor: factor, originalContext: Int(original), extrapolation: number("yarn_ext_factor"),
                             attention: number("yarn_attn_factor"), betaFast: number("yarn_beta_fast"), betaSlow: number("yarn_beta_slow"))
            }
        default: break
        }
        guard let factors else { return nil }
        return try llama3Scaling(factors: factors, theta: theta, headDimension: headDimension, file: file)
    }

    /// The llama3 `rope_scaling` whose factors are `factors`. The tensor fixes only the ratios of
    /// the original context to the two wavelength bounds, so the original context is taken as
    /// Llama 3's 8192 and the low/high frequency factors follow; the result is accepted only if
    /// it regenerates every factor (relative difference ≤ 1e-6).
    static func llama3Scaling(factors: [Float], theta: Double, headDimension: Int, file: String) throws -> RopeScaling {
        guard factors.count == headDimension / 2, let factor = factors.max(), factor >= 1 else {
            throw HFExportError(file: file, .ropeFactorsNotRecoverable("\(factors.count) factors for head size \(headDimension)"))
        }
        let original = 8192
        // In the smooth band 1/f = (1 − s)/factor + s with s = (original/λ − low)/(high − low):
        // s is linear in 1/λ, so two smooth points give low and high.
        let wavelengths = (0..<factors.count).map { i in
            Double(Float(2 * Double.pi) / (1 / powf(Float(theta), Float(2 * i) / Float(headDimension))))
        }
        let smooth = factors.indices.filter { factors[$0] > 1 && factors[$0] < factor }
        // Llama 3.1/3.2's published values first: they regenerate the factors bit for bit.
        var candidates: [(low: Double, high: Double)] = [(1, 4)]
        if let a = smooth.first, let b = smooth.last, a != b {
            func s(_ i: Int) -> Double { (1 / Double(factors[i]) - 1 / Double(factor)) / (1 - 1 / Double(factor)) }
            let x1 = Double(original) / wavelengths[a], x2 = Double(original) / wavelengths[b]
            let span = (x1 - x2) / (s(a) - s(b))   // high − low
            let low = x1 - s(a) * span
            candidates.append((low, low + span))
        }
        for (low, high) in candidates {
            let scaling = RopeScaling.llama3(factor: Double(factor), lowFrequencyFactor: low, highFrequencyFactor: high, originalContext: original)
            let regenerated = llama3Factors(scaling: scaling, theta: theta, headDimension: headDimension)
            if zip(regenerated, factors).allSatisfy({ abs($0 - $1) <= 1e-6 * max(abs($1), 1) }) { return scaling }
        }
        throw HFExportError(file: file, .ropeFactorsNotRecoverable("no llama3 rope_scaling with original context \(original) reproduces them"))
    }

    /// config.json as transformers' `LlamaConfig.to_json_string` writes it (keys sorted).
    func configJSON(torchDtype: String) -> JSONValue {
        func int(_ v: Int) -> JSONValue { .number(String(v)) }
        // Shortest decimal that reads back as the same Float: GGUF stores these as f32.
        func float(_ v: Double) -> JSONValue { .number(String(describing: Float(v))) }
        var members: [(key: String, value: JSONValue)] = [
            ("architectures", .array([.string(hfArchitecture)])),
            ("attention_bias", .bool(false)),
            ("attention_dropout", .number("0.0")),
        ]
        if let bosTokenID { members.append(("bos_token_id", int(bosTokenID))) }
        if let eosTokenID { members.append(("eos_token_id", int(eosTokenID))) }
        members += [
            ("head_dim", int(headDimension)),
            ("hidden_act", .string("silu")),
            ("hidden_size", int(embeddingLength)),
            ("initializer_range", .number("0.02")),
            ("intermediate_size", int(feedForwardLength)),
            ("max_position_embeddings", int(contextLength)),
            ("mlp_bias", .bool(false)),
            ("model_type", .string("llama")),
            ("num_attention_heads", int(headCount)),
            ("num_hidden_layers", int(layerCount)),
            ("num_key_value_heads", int(headCountKV)),
            ("pretraining_tp", int(1)),
            ("rms_norm_eps", float(rmsNormEpsilon)),
            ("rope_scaling", ropeScalingJSON),
            ("rope_theta", float(ropeTheta)),
            ("tie_word_embeddings", .bool(tiedEmbeddings)),
            ("torch_dtype", .string(torchDtype)),
            ("use_cache", .bool(true)),
            ("vocab_size", int(vocabularySize)),
        ]
        return .object(members)
    }

    private var ropeScalingJSON: JSONValue {
        func float(_ v: Double) -> JSONValue { .number(String(describing: Float(v))) }
        switch ropeScaling {
        case nil: return .null
        case let .linear(factor):
            return .object([("factor", float(factor)), ("rope_type", .string("linear"))])
        case let .yarn(factor, original, extrapolation, attention, betaFast, betaSlow):
            var members: [(key: String, value: JSONValue)] = [("factor", float(factor)),
                                                             ("original_max_position_embeddings", .number(String(original)))]
            for (key, value) in [("attention_factor", attention), ("beta_fast", betaFast), ("beta_slow", betaSlow), ("extrapolation_factor", extrapolation)] {
                if let value { members.append((key, float(value))) }
            }
            return .object(members + [("rope_type", .string("yarn"))])
        case let .llama3(factor, low, high, original):
            return .object([("factor", float(factor)), ("high_freq_factor", .number(String(high))),
                            ("low_freq_factor", .number(String(low))), ("original_max_position_embeddings", .number(String(original))),
                            ("rope_type", .string("llama3"))])
        }
    }

    /// generation_config.json: the special ids generation starts and stops on.
    var generationConfigJSON: JSONValue {
        var members: [(key: String, value: JSONValue)] = [("_from_model_config", .bool(true))]
        if let bosTokenID { members.append(("bos_token_id", .number(String(bosTokenID)))) }
        if let eosTokenID { members.append(("eos_token_id", .number(String(eosTokenID)))) }
        return .object(members)
    }
}
