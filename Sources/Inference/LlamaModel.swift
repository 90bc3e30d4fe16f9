import CBLAS
import Dispatch
import Foundation
import QuantCore
import QuantFormats

/// A llama model ready to run: the mapped GGUF, its configuration, weights and tokenizer.
public final class LlamaModel: @unchecked Sendable {
    public let file: GGUFFile
    public let configuration: LlamaConfiguration
    public let weights: LlamaWeights
    public let tokenizer: Tokenizer
    public var threads = ProcessInfo.activeCores
    /// How the linear layers multiply (`LinearArithmetic`): the stored weights by default.
    public var arithmetic: any LinearArithmetic = StoredWeightArithmetic()
    /// Sees the input of every linear layer (calibration); nil in normal runs.
    public weak var observer: (any ActivationObserver)?

    public init(path: String) throws {
        file = try GGUFFile(path: path)
        tokenizer = try Tokenizer(metadata: file.metadata)
        guard let embedding = file.tensor(named: LlamaTensor.tokenEmbedding.name()), embedding.shape.count == 2 else {
            throw InferenceError.missingTensor(LlamaTensor.tokenEmbedding.name())
        }
        configuration = try LlamaConfiguration(metadata: file.metadata, vocabularySize: Int(embedding.shape[1]))
        weights = try LlamaWeights(file: file, configuration: configuration)
    }

    private init(sharing model: LlamaModel, weights: LlamaWeights) {
        file = model.file
        configuration = model.configuration
        tokenizer = model.tokenizer
        self.weights = weights
        threads = model.threads
        arithmetic = model.arithmetic
    }

    /// This model with one weight matrix stored as `bytes` of `type` instead: the rest is shared,
    /// not copied. How the mix search measures what quantizing a single tensor costs.
    public func replacingWeight(named name: String, type: GGMLType, bytes: [UInt8]) throws -> LlamaModel {
        guard let info = file.tensor(named: name), info.shape.count == 2 else { throw InferenceError.missingTensor(name) }
        let matrix = try WeightMatrix(name: name, type: type, rows: Int(info.shape[1]), columns: Int(info.shape[0]), bytes: bytes)
        var replaced = weights
        guard replaced.replace(with: matrix) else { throw InferenceError.missingTensor(name) }
        return LlamaModel(sharing: self, weights: replaced)
    }

    /// This model with some tensors replaced by f32 values of the same shape — weight matrices
    /// and the blocks' norm vectors alike; the rest is shared. How SmoothQuant's tuning tries a
    /// fold (a norm or producer divided by s, its consumers' columns multiplied by s).
    public func replacingTensors(_ values: [String: [Float]]) throws -> LlamaModel {
        var replaced = weights
        for (name, floats) in values {
            guard let info = file.tensor(named: name) else { throw InferenceError.missingTensor(name) }
            let count = info.shape.reduce(1) { $0 * Int($1) }
            guard floats.count == count else {
                throw InferenceError.shapeMismatch(tensor: name, expected: info.shape, found: [UInt64(floats.count)])
            }
            if info.shape.count == 2 {
                let bytes = floats.withUnsafeBytes { [UInt8]($0) }
                let matrix = try WeightMatrix(name: name, type: .F32, rows: Int(info.shape[1]), columns: Int(info.shape[0]), bytes: bytes)
                guard replaced.replace(with: matrix) else { throw InferenceError.missingTensor(name) }
            } else {
                guard replaced.replaceNorm(named: name, with: floats) else { throw InferenceError.missingTensor(name) }
            }
        }
        return LlamaModel(sharing: self, weights: replaced)
    }

    /// Run state for up to `contextLength` positions (KV cache), allocated once.
    public func makeState(contextLength: Int) throws -> LlamaState {
        guard contextLength <= configuration.contextLength else {
            throw InferenceError.contextTooLarge(requested: contextLength, trained: configuration.contextLength)
        }
        return LlamaState(configuration: configuration, contextLength: contextLength)
    }

    /// Evaluates `tokens` at positions `state.length …` and appends them to the cache. Returns
    /// logits (vocabulary-wide) for the batch rows in `outputs` (relative to this batch), row-major.
    public func forward(_ tokens: [Int32], state: LlamaState, outputs: Range<Int>? = nil) throws -> [Float] {
        try run(tokens, segments: [Segment(state: state, rows: 0 ..< tokens.count)], outputs: outputs ?? (tokens.count - 1 ..< tokens.count))
    }

    /// Evaluates `window` from an empty `state` in forward passes of at most `batch` tokens
    /// (llama-perplexity's `-b`) and returns the logits rows `outputs` of the window. Passes of
    /// up to `MatMul.fusedTokenLimit` tokens multiply quantized weights with int8 activations,
    /// as llama.cpp does in every pass; larger passes use f32 activations.
    public func evaluate(window: [Int32], state: LlamaState, outputs: Range<Int>, batch: Int) throws -> [Float] {
        precondition(batch > 0, "batch must be positive")
        guard batch < window.count else { return try forward(window, state: state, outputs: outputs) }
        var logits: [Float] = []
        logits.reserveCapacity(outputs.count * configuration.vocabularySize)
        for start in stride(from: 0, to: window.count, by: batch) {
            let piece = start ..< min(window.count, start + batch)
            let wanted = outputs.clamped(to: piece)
            logits += try forward(Array(window[piece]), state: state, outputs: wanted.lowerBound - start ..< wanted.upperBound - start)
        }
        return logits
    }

    /// Advances several independent sequences by one token each in one batch: `tokens[i]` is
    /// appended to `states[i]`. The linear layers see all of them at once (weights are decoded
    /// once per step, not once per sequence); attention stays per sequence. Returns one logits
    /// row per sequence.
    public func forward(parallel tokens: [Int32], states: [LlamaState]) throws -> [Float] {
        precondition(tokens.count == states.count, "one token per sequence")
        precondition(Set(states.map(ObjectIdentifier.init)).count == states.count, "each sequence needs its own state")
        return try run(tokens, segments: states.enumerated().map { Segment(state: $1, rows: $0 ..< $0 + 1) }, outputs: 0 ..< tokens.count)
    }

    /// Evaluates one sequence from an empty `state` with logits at every position, entering at
    /// block `entry.layer` with `entry.residual` (T × d), the residual stream a model with the same
    /// earlier blocks has there; without `entry`, from the token embeddings. `residuals` sees the
    /// stream entering each block run and, last, entering the output norm (layer = block count).
    /// The mix search runs the blocks before a changed tensor once instead of once per tensor.
    public func forwardAll(_ tokens: [Int32], state: LlamaState, entry: (layer: Int, residual: [Float])? = nil,
                           residuals: ((Int, [Float]) -> Void)? = nil) throws -> [Float] {
        precondition(entry.map { $0.residual.count == tokens.count * configuration.embeddingLength } ?? true, "one residual row per token")
        return try run(tokens, segments: [Segment(state: state, rows: 0 ..< tokens.count)], outputs: 0 ..< tokens.count,
                       entry: entry, residuals: residuals)
    }

    /// Consecutive batch rows that belong to one sequence.
    struct Segment {
        let state: LlamaState
        let rows: Range<Int>
    }

    private func run(_ tokens: [Int32], segments: [Segment], outputs outputRows: Range<Int>,
                     entry: (layer: Int, residual: [Float])? = nil, residuals: ((Int, [Float]) -> Void)? = nil) throws -> [Float] {
        let c = configuration
        let T = tokens.count, d = c.embeddingLength, qd = c.queryDimension, kv = c.kvDimension, f = c.feedForwardLength
        for segment in segments where segment.state.length + segment.rows.count > segment.state.contextLength {
            throw InferenceError.contextTooLarge(requested: segment.state.length + segment.rows.count, trained: segment.state.contextLength)
        }
        for token in tokens where token < 0 || Int(token) >= c.vocabularySize {
            throw InferenceError.tokenOutOfRange(token, vocabulary: c.vocabularySize)
        }
        var x = [Float](repeating: 0, count: T * d), normed = x, projected = x
        var q = [Float](repeating: 0, count: T * qd), attention = q, k = [Float](repeating: 0, count: T * kv), v = k
        var gate = [Float](repeating: 0, count: T * f), up = gate
        if let entry {
            x = entry.residual
        } else {
            x.withUnsafeMutableBufferPointer { xp in
                for (t, token) in tokens.enumerated() { weights.tokenEmbedding.dequantizeRows(Int(token) ..< Int(token) + 1, into: xp.baseAddress! + t * d) }
            }
        }
        let rope = RotaryEmbedding(dimensions: c.ropeDimensionCount, base: c.ropeFreqBase, frequencyScale: c.ropeFrequencyScale,
                                   factors: weights.ropeFrequencyFactors, style: c.family.ropeStyle)
        var ropeCache: [Float] = []
        for (l, layer) in weights.layers.enumerated() where l >= entry?.layer ?? 0 {
            residuals?(l, x)
            Kernels.rmsNorm(x, weight: layer.attentionNorm, epsilon: c.rmsNormEpsilon, rows: T, n: d, into: &normed)
            observe(.attentionInput, l, normed, T, d)
            linear(normed, T, layer.query, &q)
            linear(normed, T, layer.key, &k)
            linear(normed, T, layer.value, &v)
            if let bias = layer.queryBias { Kernels.addRows(&q, bias, rows: T) }
            if let bias = layer.keyBias { Kernels.addRows(&k, bias, rows: T) }
            if let bias = layer.valueBias { Kernels.addRows(&v, bias, rows: T) }
            if let norm = layer.queryNorm { Kernels.rmsNormInPlace(&q, weight: norm, epsilon: c.rmsNormEpsilon, rows: T * c.headCount, n: c.headDimension) }
            if let norm = layer.keyNorm { Kernels.rmsNormInPlace(&k, weight: norm, epsilon: c.rmsNormEpsilon, rows: T * c.headCountKV, n: c.headDimension) }
            q.withUnsafeMutableBufferPointer { qp in
                k.withUnsafeMutableBufferPointer { kp in
                    v.withUnsafeBufferPointer { vp in
                        attention.withUnsafeMutableBufferPointer { ap in
                            for segment in segments {
                                let state = segment.state, first = segment.rows.lowerBound
                                for t in segment.rows {
                                    let position = state.length + t - first
                                    rope.apply(qp.baseAddress! + t * qd, heads: c.headCount, headDimension: c.headDimension, position: position, cache: &ropeCache)
                                    rope.apply(kp.baseAddress! + t * kv, heads: c.headCountKV, headDimension: c.headDimension, position: position, cache: &ropeCache)
                                }
                                state.store(layer: l, keys: kp.baseAddress! + first * kv, values: vp.baseAddress! + first * kv, tokens: segment.rows.count)
                                Attention.compute(queries: qp.baseAddress! + first * qd, state: state, layer: l, tokens: segment.rows.count,
                                                  configuration: c, into: ap.baseAddress! + first * qd, threads: threads)
                            }
                        }
                    }
                }
            }
            observe(.attentionOutputInput, l, attention, T, qd)
            linear(attention, T, layer.attentionOutput, &projected)
            Kernels.add(&x, projected, count: T * d)

            Kernels.rmsNorm(x, weight: layer.ffnNorm, epsilon: c.rmsNormEpsilon, rows: T, n: d, into: &normed)
            observe(.ffnInput, l, normed, T, d)
            linear(normed, T, layer.gate, &gate)
            linear(normed, T, layer.up, &up)
            gate.withUnsafeMutableBufferPointer { gp in
                up.withUnsafeBufferPointer { upp in
                    let shared = UnsafeSendableBox((gp.baseAddress!, upp.baseAddress!))
                    WorkerPool.shared.forEachSlice(T * f, threads: threads) { slice in
                        let (g, u) = shared.value
                        Kernels.swiGLU(g + slice.lowerBound, u + slice.lowerBound, count: slice.count)
                    }
                }
            }
            observe(.ffnDownInput, l, gate, T, f)
            linear(gate, T, layer.down, &projected)
            Kernels.add(&x, projected, count: T * d)
        }
        residuals?(weights.layers.count, x)
        for segment in segments { segment.state.length += segment.rows.count }
        let n = outputRows.count
        guard n > 0 else { return [] }
        var finalNormed = [Float](repeating: 0, count: n * d)
        x.withUnsafeBufferPointer { xp in
            Kernels.rmsNorm(xp.baseAddress! + outputRows.lowerBound * d, weight: weights.outputNorm, epsilon: c.rmsNormEpsilon, rows: n, n: d, into: &finalNormed)
        }
        observe(.outputInput, 0, finalNormed, n, d)
        var logits = [Float](repeating: 0, count: n * c.vocabularySize)
        linear(finalNormed, n, weights.output, &logits)
        return logits
    }
}
