import QuantFormats

/// The tensors of one transformer block.
public struct LlamaLayerWeights: Sendable {
    public let attentionNorm: [Float]
    public let query, key, value, attentionOutput: WeightMatrix
    public let ffnNorm: [Float]
    public let gate, up, down: WeightMatrix
}

/// All weights of a llama model, mapped from a GGUF file (llama.cpp tensor names). A missing
/// tensor or a shape that does not fit the configuration is a typed error naming the tensor.
public struct LlamaWeights: Sendable {
    public let tokenEmbedding: WeightMatrix
    public let layers: [LlamaLayerWeights]
    public let outputNorm: [Float]
    /// `output.weight`, or the token embedding when the model ties them.
    public let output: WeightMatrix
    /// `rope_freqs.weight` (Llama 3.1+): one divisor per rotated pair's frequency, or nil.
    public let ropeFrequencyFactors: [Float]?

    public init(file: GGUFFile, configuration c: LlamaConfiguration) throws {
        func matrix(_ name: String, rows: Int, columns: Int) throws -> WeightMatrix {
            guard let info = file.tensor(named: name) else { throw InferenceError.missingTensor(name) }
            let expected = [UInt64(columns), UInt64(rows)]
            guard info.shape == expected else { throw InferenceError.shapeMismatch(tensor: name, expected: expected, found: info.shape) }
            return try WeightMatrix(name: name, info: info, file: file)
        }
        func vector(_ name: String, length: Int) throws -> [Float] {
            guard let info = file.tensor(named: name) else { throw InferenceError.missingTensor(name) }
            guard info.shape == [UInt64(length)] else { throw InferenceError.shapeMismatch(tensor: name, expected: [UInt64(length)], found: info.shape) }
            return try WeightMatrix(name: name, info: info, file: file).floats()
        }
        let d = c.embeddingLength, kv = c.kvDimension, f = c.feedForwardLength
        tokenEmbedding = try matrix("token_embd.weight", rows: c.vocabularySize, columns: d)
        layers = try (0..<c.blockCount).map { i in
            let p = "blk.\(i)."
            return LlamaLayerWeights(
                attentionNorm: try vector(p + "attn_norm.weight", length: d),
                query: try matrix(p + "attn_q.weight", rows: d, columns: d),
                key: try matrix(p + "attn_k.weight", rows: kv, columns: d),
                value: try matrix(p + "attn_v.weight", rows: kv, columns: d),
                attentionOutput: try matrix(p + "attn_output.weight", rows: d, columns: d),
                ffnNorm: try vector(p + "ffn_norm.weight", length: d),
                gate: try matrix(p + "ffn_gate.weight", rows: f, columns: d),
                up: try matrix(p + "ffn_up.weight", rows: f, columns: d),
                down: try matrix(p + "ffn_down.weight", rows: d, columns: f))
        }
        outputNorm = try vector("output_norm.weight", length: d)
        output = file.tensor(named: "output.weight") != nil
            ? try matrix("output.weight", rows: c.vocabularySize, columns: d) : tokenEmbedding
        ropeFrequencyFactors = file.tensor(named: "rope_freqs.weight") != nil
            ? try vector("rope_freqs.weight", length: c.ropeDimensionCount / 2) : nil
    }
}
