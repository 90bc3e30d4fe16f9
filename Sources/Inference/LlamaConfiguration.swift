import QuantFormats

/// Hyper-parameters of a llama-family model, read from GGUF metadata (`<arch>.*` keys).
/// Architectures are found through `supportedArchitectures`; anything else is an error that
/// lists them.
public struct LlamaConfiguration: Sendable, Equatable {
    public static let supportedArchitectures = ["llama"]

    public var architecture: String
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

    public var headDimension: Int { embeddingLength / headCount }
    public var kvDimension: Int { headCountKV * headDimension }

    public init(metadata: GGUFMetadata, vocabularySize: Int) throws {
        let arch = metadata.architecture ?? ""
        guard Self.supportedArchitectures.contains(arch) else {
            throw InferenceError.unsupportedArchitecture(found: arch.isEmpty ? "(none)" : arch, supported: Self.supportedArchitectures)
        }
        func integer(_ key: GGUFKey.LLM) throws -> Int {
            guard let value = metadata.integer(key.key(arch)) else { throw InferenceError.missingMetadata(key: key.key(arch)) }
            guard value > 0, value < Int64(Int32.max) else { throw InferenceError.invalidMetadata(key: key.key(arch), message: "\(value) is out of range") }
            return Int(value)
        }
        architecture = arch
        embeddingLength = try integer(.embeddingLength)
        blockCount = try integer(.blockCount)
        feedForwardLength = try integer(.feedForwardLength)
        headCount = try integer(.headCount)
        headCountKV = metadata.integer(GGUFKey.LLM.headCountKV.key(arch)).map(Int.init) ?? headCount
        contextLength = try integer(.contextLength)
        rmsNormEpsilon = Float(metadata.float(GGUFKey.LLM.rmsNormEpsilon.key(arch)) ?? 1e-5)
        ropeFreqBase = Float(metadata.float(GGUFKey.LLM.ropeFreqBase.key(arch)) ?? 10_000)
        self.vocabularySize = vocabularySize
        guard embeddingLength % headCount == 0 else {
            throw InferenceError.invalidMetadata(key: GGUFKey.LLM.headCount.key(arch), message: "\(headCount) heads do not divide \(embeddingLength)")
        }
        guard headCountKV > 0, headCount % headCountKV == 0 else {
            throw InferenceError.invalidMetadata(key: GGUFKey.LLM.headCountKV.key(arch), message: "\(headCountKV) KV heads do not divide \(headCount) heads")
        }
        ropeDimensionCount = metadata.integer(GGUFKey.LLM.ropeDimensionCount.key(arch)).map(Int.init) ?? embeddingLength / headCount
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
