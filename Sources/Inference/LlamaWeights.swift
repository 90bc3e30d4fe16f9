import QuantFormats

/// The tensors of one transformer block.
public struct LlamaLayerWeights: Sendable {
    public internal(set) var attentionNorm: [Float]
    public internal(set) var query, key, value, attentionOutput: WeightMatrix
    public internal(set) var ffnNorm: [Float]
    public internal(set) var gate, up, down: WeightMatrix
    /// Qwen2's projection biases, added after the product (nil: none).
    public internal(set) var queryBias: [Float]? = nil
    public internal(set) var keyBias: [Float]? = nil
    public internal(set) var valueBias: [Float]? = nil
    /// Qwen3's per-head RMSNorm weights of queries and keys (one head's width).
    public internal(set) var queryNorm: [Float]? = nil
    public internal(set) var keyNorm: [Float]? = nil
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
        /// A bias the architecture allows, when the file has it; a bias it does not is an error.
        func bias(_ tensor: LlamaTensor, layer: Int, length: Int) throws -> [Float]? {
            let name = tensor.biasName(layer: layer)
            guard file.tensor(named: name) != nil else { return nil }
            guard c.family.allowsAttentionBiases else { throw InferenceError.unexpectedTensor(name, architecture: c.architecture) }
            return try vector(name, length: length)
        }
        let d = c.embeddingLength, qd = c.queryDimension, kv = c.kvDimension, f = c.feedForwardLength, hd = c.headDimension
        typealias T = LlamaTensor
        tokenEmbedding = try matrix(T.tokenEmbedding.name(), rows: c.vocabularySize, columns: d)
        layers = try (0..<c.blockCount).map { i in
            var layer = LlamaLayerWeights(
                attentionNorm: try vector(T.attentionNorm.name(layer: i), length: d),
                query: try matrix(T.attentionQ.name(layer: i), rows: qd, columns: d),
                key: try matrix(T.attentionK.name(layer: i), rows: kv, columns: d),
                value: try matrix(T.attentionV.name(layer: i), rows: kv, columns: d),
                attentionOutput: try matrix(T.attentionOutput.name(layer: i), rows: d, columns: qd),
                ffnNorm: try vector(T.ffnNorm.name(layer: i), length: d),
                gate: try matrix(T.ffnGate.name(layer: i), rows: f, columns: d),
                up: try matrix(T.ffnUp.name(layer: i), rows: f, columns: d),
                down: try matrix(T.ffnDown.name(layer: i), rows: d, columns: f))
            layer.queryBias = try bias(.attentionQ, layer: i, length: qd)
            layer.keyBias = try bias(.attentionK, layer: i, length: kv)
            layer.valueBias = try bias(.attentionV, layer: i, length: kv)
            if c.family.normsQueriesAndKeys {
                layer.queryNorm = try vector(T.attentionQNorm.name(layer: i), length: hd)
                layer.keyNorm = try vector(T.attentionKNorm.name(layer: i), length: hd)
            }
            return layer
        }
        outputNorm = try vector(T.outputNorm.name(), length: d)
        output = file.tensor(named: T.output.name()) != nil
            ? try matrix(T.output.name(), rows: c.vocabularySize, columns: d) : tokenEmbedding
        ropeFrequencyFactors = file.tensor(named: T.ropeFrequencies.name()) != nil
            ? try vector(T.ropeFrequencies.name(), length: c.ropeDimensionCount / 2) : nil
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
        guard let (tensor, index) = LlamaTensor.parse(name), let layer = index, layers.indices.contains(layer) else { return false }
        switch tensor {
        case .attentionNorm where values.count == layers[layer].attentionNorm.count: layers[layer].attentionNorm = values
        case .ffnNorm where values.count == layers[layer].ffnNorm.count: layers[layer].ffnNorm = values
        default: return false
        }
        return true
    }
}
