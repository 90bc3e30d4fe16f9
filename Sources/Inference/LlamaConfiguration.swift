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
    }
}
