import QuantFormats

/// The tensors of one transformer block.
public struct LlamaLayerWeights: Sendable {
    public internal(set) var attentionNorm: [Float]
    public internal(set) var query, key, value, attentionOutput: WeightMatrix
    public internal(set) var ffnNorm: [Float]
    public internal(set) var gate, up, down: WeightMatrix
}

/// All weights of a llama model, mapped from a GGUF file (llama.cpp tensor names). A missing
/// tensor or a shape that does not fit the configuration is a typed error naming the tensor.
public struct LlamaWeights: Sendable {
    public internal(set) var tokenEmbedding: WeightMatrix
    public internal(set) var layers: [LlamaLayerWeights]
    public let outputNorm: [Float]
    /// `output.weight`, or the token embedding when the model ties them.
    public internal(set) var output: WeightMatrix
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

    /// These weights with the matrix named `matrix.name` swapped for `matrix` (both roles of a
    /// tied embedding); false when no matrix has that name.
    mutating func replace(with matrix: WeightMatrix) -> Bool {
        var found = false
        func swap(_ slot: inout WeightMatrix) {
            guard slot.name == matrix.name, slot.rows == matrix.rows, slot.columns == matrix.columns else { return }
            slot = matrix
            found = true
        }
        swap(&tokenEmbedding)
        swap(&output)
        for i in layers.indices {
            swap(&layers[i].query); swap(&layers[i].key); swap(&layers[i].value); swap(&layers[i].attentionOutput)
            swap(&layers[i].gate); swap(&layers[i].up); swap(&layers[i].down)
        }
        return found
    }

    /// These weights with the block norm named `name` (`blk.N.attn_norm.weight` or
    /// `blk.N.ffn_norm.weight`) replaced by `values`; false when there is no such norm.
    mutating func replaceNorm(named name: String, with values: [Float]) -> Bool {
        for i in layers.indices {
            let prefix = "blk.\(i)."
            if name == prefix + "attn_norm.weight", values.count == layers[i].attentionNorm.count {
                layers[i].attentionNorm = values
                return true
            }
            if name == prefix + "ffn_norm.weight", values.count == layers[i].ffnNorm.count {
                layers[i].ffnNorm = values
                return true
            }
        }
        return false
    }
}
