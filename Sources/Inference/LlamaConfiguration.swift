import QuantFormats

/// Hyper-parameters of a llama-family model, read from GGUF metadata (`<arch>.*` keys).
/// Architectures are found through `ModelArchitecture.all`; anything else is an error that
/// lists them.
public struct LlamaConfiguration: Sendable, Equatable {
    public static var supportedArchitectures: [String] { ModelArchitecture.all.map(\.name) }

    public var architecture: String
    public var family: ModelArchitecture
    public var embeddingLength: Int
    public var blockCount: Int
    public var feedForwardLength: Int
    public var headCount: Int
    public var headCountKV: Int
    public var rmsNormEpsilon: Float
    public var ropeFreqBase: Float
    /// Rotated dimensions per head (`rope.dimension_count`, default the head size).
    public var ropeDimensionCount: Int
    public var contextLength: Int
    public var vocabularySize: Int
    /// Position scale of RoPE: 1, or 1/factor for `rope.scaling.type = linear` (llama.cpp's
    /// freq_scale). Llama 3.1's per-frequency factors come as the `rope_freqs.weight` tensor
    /// (`LlamaWeights.ropeFrequencyFactors`).
    public var ropeFrequencyScale: Float = 1

    /// Values per head: `attention.key_length`, by default the residual width over the heads.
    public var headDimension: Int
    public var kvDimension: Int { headCountKV * headDimension }
    /// Width of the queries and of the attention output (the residual width unless the head
    /// size is set apart from it, as in Qwen3).
    public var queryDimension: Int { headCount * headDimension }

    public init(metadata: GGUFMetadata, vocabularySize: Int) throws {
        let arch = metadata.architecture ?? ""
        guard let family = ModelArchitecture.named(arch) else {
            throw InferenceError.unsupportedArchitecture(found: arch.isEmpty ? "(none)" : arch, supported: Self.supportedArchitectures)
        }
        func integer(_ key: GGUFKey.LLM) throws -> Int {
            guard let value = metadata.integer(key.key(arch)) else { throw InferenceError.missingMetadata(key: key.key(arch)) }
            guard value > 0, value < Int64(Int32.max) else { throw InferenceError.invalidMetadata(key: key.key(arch), message: "\(value) is out of range") }
            return Int(value)
        }
        architecture = arch
        self.family = family
        embeddingLength = try integer(.embeddingLength)
        blockCount = try integer(.blockCount)
        feedForwardLength = try integer(.feedForwardLength)
        headCount = try integer(.headCount)
        headCountKV = metadata.integer(GGUFKey.LLM.headCountKV.key(arch)).map(Int.init) ?? headCount
        contextLength = try integer(.contextLength)
        rmsNormEpsilon = Float(metadata.float(GGUFKey.LLM.rmsNormEpsilon.key(arch)) ?? 1e-5)
        ropeFreqBase = Float(metadata.float(GGUFKey.LLM.ropeFreqBase.key(arch)) ?? 10_000)
        self.vocabularySize = vocabularySize
        let keyLength = metadata.integer("\(arch).attention.key_length").map(Int.init)
        let valueLength = metadata.integer("\(arch).attention.value_length").map(Int.init)
        guard keyLength == valueLength else {
            throw InferenceError.invalidMetadata(key: "\(arch).attention.value_length", message: "\(valueLength ?? 0) differs from attention.key_length \(keyLength ?? 0); the core needs one head size")
        }
        guard keyLength != nil || embeddingLength % headCount == 0 else {
            throw InferenceError.invalidMetadata(key: GGUFKey.LLM.headCount.key(arch), message: "\(headCount) heads do not divide \(embeddingLength)")
        }
        headDimension = keyLength ?? embeddingLength / headCount
        guard headDimension > 0, headDimension % 2 == 0 else {
            throw InferenceError.invalidMetadata(key: "\(arch).attention.key_length", message: "a head size of \(headDimension) cannot be rotated (must be even)")
        }
        guard headCountKV > 0, headCount % headCountKV == 0 else {
            throw InferenceError.invalidMetadata(key: GGUFKey.LLM.headCountKV.key(arch), message: "\(headCountKV) KV heads do not divide \(headCount) heads")
        }
        ropeDimensionCount = metadata.integer(GGUFKey.LLM.ropeDimensionCount.key(arch)).map(Int.init) ?? headDimension
        ropeFrequencyScale = try Self.ropeFrequencyScale(metadata: metadata, arch: arch)
    }

    /// llama.cpp's freq_scale from `rope.scaling.*`. YaRN (and longrope) change the rotation per
    /// dimension with ramps and an attention factor that this core does not implement, so they
    /// are refused rather than evaluated wrongly.
    static func ropeFrequencyScale(metadata: GGUFMetadata, arch: String) throws -> Float {
        let typeKey = "\(arch).rope.scaling.type", factorKey = "\(arch).rope.scaling.factor"
        let kind = metadata.string(typeKey) ?? "none"
        let factor = metadata.float(factorKey) ?? 0
        switch kind {
        case "none":
            return 1
        case "linear":
            guard factor > 0, factor.isFinite else { return 1 }  // llama.cpp: a factor of 0 means none
            return Float(1 / factor)
        default:
            throw InferenceError.invalidMetadata(key: typeKey, message: "RoPE scaling '\(kind)' is not supported by the inference core (supported: none, linear, and Llama 3 frequency factors)")
        }
    }
}
