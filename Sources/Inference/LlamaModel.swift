import CBLAS
import Dispatch
import Foundation
import QuantFormats

/// A llama model ready to run: the mapped GGUF, its configuration, weights and tokenizer.
public final class LlamaModel: @unchecked Sendable {
    public let file: GGUFFile
    public let configuration: LlamaConfiguration
    public let weights: LlamaWeights
    public let tokenizer: Tokenizer
    public var threads = ProcessInfo.activeCores

    public init(path: String) throws {
        file = try GGUFFile(path: path)
        tokenizer = try Tokenizer(metadata: file.metadata)
        guard let embedding = file.tensor(named: "token_embd.weight"), embedding.shape.count == 2 else {
            throw InferenceError.missingTensor("token_embd.weight")
        }
        configuration = try LlamaConfiguration(metadata: file.metadata, vocabularySize: Int(embedding.shape[1]))
        weights = try LlamaWeights(file: file, configuration: configuration)
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
        let c = configuration
        let T = tokens.count, d = c.embeddingLength, kv = c.kvDimension, f = c.feedForwardLength
        guard state.length + T <= state.contextLength else {
            throw InferenceError.contextTooLarge(requested: state.length + T, trained: state.contextLength)
        }
        for token in tokens where token < 0 || Int(token) >= c.vocabularySize {
            throw InferenceError.tokenOutOfRange(token, vocabulary: c.vocabularySize)
        }
        let outputRows = outputs ?? (T - 1 ..< T)
        var x = [Float](repeating: 0, count: T * d), normed = x, attention = x, projected = x
        var q = x, k = [Float](repeating: 0, count: T * kv), v = k
        var gate = [Float](repeating: 0, count: T * f), up = gate
        x.withUnsafeMutableBufferPointer { xp in
            for (t, token) in tokens.enumerated() { weights.tokenEmbedding.dequantizeRows(Int(token) ..< Int(token) + 1, into: xp.baseAddress! + t * d) }
        }
        let rope = RotaryEmbedding(dimensions: c.ropeDimensionCount, base: c.ropeFreqBase)
        var ropeCache: [Float] = []
        for (l, layer) in weights.layers.enumerated() {
            Kernels.rmsNorm(x, weight: layer.attentionNorm, epsilon: c.rmsNormEpsilon, rows: T, n: d, into: &normed)
            MatMul.multiply(normed, tokens: T, by: layer.query, into: &q, threads: threads)
            MatMul.multiply(normed, tokens: T, by: layer.key, into: &k, threads: threads)
            MatMul.multiply(normed, tokens: T, by: layer.value, into: &v, threads: threads)
            q.withUnsafeMutableBufferPointer { qp in
                k.withUnsafeMutableBufferPointer { kp in
                    for t in 0..<T {
                        let position = state.length + t
                        rope.apply(qp.baseAddress! + t * d, heads: c.headCount, headDimension: c.headDimension, position: position, cache: &ropeCache)
                        rope.apply(kp.baseAddress! + t * kv, heads: c.headCountKV, headDimension: c.headDimension, position: position, cache: &ropeCache)
                    }
                }
            }
            state.store(layer: l, keys: k, values: v, tokens: T)
            Attention.compute(queries: q, state: state, layer: l, tokens: T, configuration: c, into: &attention, threads: threads)
            MatMul.multiply(attention, tokens: T, by: layer.attentionOutput, into: &projected, threads: threads)
            Kernels.add(&x, projected, count: T * d)

            Kernels.rmsNorm(x, weight: layer.ffnNorm, epsilon: c.rmsNormEpsilon, rows: T, n: d, into: &normed)
            MatMul.multiply(normed, tokens: T, by: layer.gate, into: &gate, threads: threads)
            MatMul.multiply(normed, tokens: T, by: layer.up, into: &up, threads: threads)
            Kernels.swiGLU(&gate, up, count: T * f)
            MatMul.multiply(gate, tokens: T, by: layer.down, into: &projected, threads: threads)
            Kernels.add(&x, projected, count: T * d)
        }
        state.length += T
        let n = outputRows.count
        var finalNormed = [Float](repeating: 0, count: n * d)
        x.withUnsafeBufferPointer { xp in
            Kernels.rmsNorm(xp.baseAddress! + outputRows.lowerBound * d, weight: weights.outputNorm, epsilon: c.rmsNormEpsilon, rows: n, n: d, into: &finalNormed)
        }
        var logits = [Float](repeating: 0, count: n * c.vocabularySize)
        MatMul.multiply(finalNormed, tokens: n, by: weights.output, into: &logits, threads: threads)
        return logits
    }
}

/// The KV cache of one sequence: per layer, keys and values for each position (f32).
public final class LlamaState: @unchecked Sendable {
    public let contextLength: Int
    /// Positions already evaluated.
    public internal(set) var length = 0
    let kvDimension: Int
    var keys: [[Float]]
    var values: [[Float]]

    init(configuration: LlamaConfiguration, contextLength: Int) {
        self.contextLength = contextLength
        kvDimension = configuration.kvDimension
        keys = Array(repeating: [Float](repeating: 0, count: contextLength * configuration.kvDimension), count: configuration.blockCount)
        values = keys
    }

    /// Forgets all positions (a new sequence).
    public func reset() { length = 0 }

    func store(layer: Int, keys newKeys: [Float], values newValues: [Float], tokens: Int) {
        let offset = length * kvDimension
        keys[layer].withUnsafeMutableBufferPointer { k in
            newKeys.withUnsafeBufferPointer { (k.baseAddress! + offset).update(from: $0.baseAddress!, count: tokens * kvDimension) }
        }
        values[layer].withUnsafeMutableBufferPointer { v in
            newValues.withUnsafeBufferPointer { (v.baseAddress! + offset).update(from: $0.baseAddress!, count: tokens * kvDimension) }
        }
    }
}

/// Causal grouped-query attention over the cache: for each head, scores = q·kᵀ/√d_head over
/// positions ≤ the query's, softmax, then the weighted sum of values. Heads run in parallel.
enum Attention {
    static func compute(queries q: [Float], state: LlamaState, layer: Int, tokens T: Int, configuration c: LlamaConfiguration,
                        into out: inout [Float], threads: Int) {
        let hd = c.headDimension, d = c.embeddingLength, kv = c.kvDimension
        let group = c.headCount / c.headCountKV
        let positions = state.length + T  // cache already holds this batch
        let start = state.length
        let scale = 1 / Float(hd).squareRoot()
        q.withUnsafeBufferPointer { qp in
            state.keys[layer].withUnsafeBufferPointer { kp in
                state.values[layer].withUnsafeBufferPointer { vp in
                    out.withUnsafeMutableBufferPointer { op in
                        let shared = UnsafeSendableBox((qp.baseAddress!, kp.baseAddress!, vp.baseAddress!, op.baseAddress!))
                        DispatchQueue.concurrentPerform(iterations: min(threads, c.headCount)) { worker in
                            let (q, k, v, o) = shared.value
                            let scores = UnsafeMutablePointer<Float>.allocate(capacity: T * positions)
                            defer { scores.deallocate() }
                            var h = worker
                            while h < c.headCount {
                                let g = h / group
                                // scores[T × positions] = Q_h · K_gᵀ
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(T), Int32(positions), Int32(hd), scale,
                                            q + h * hd, Int32(d), k + g * hd, Int32(kv), 0, scores, Int32(positions))
                                for t in 0..<T {
                                    let row = scores + t * positions
                                    let visible = start + t + 1
                                    for j in visible ..< positions { row[j] = -Float.infinity }
                                    Kernels.softmax(row, visible)
                                    for j in visible ..< positions { row[j] = 0 }
                                }
                                // out_h[T × hd] = scores · V_g
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(T), Int32(hd), Int32(positions), 1,
                                            scores, Int32(positions), v + g * hd, Int32(kv), 0, o + h * hd, Int32(d))
                                h += min(threads, c.headCount)
                            }
                        }
                    }
                }
            }
        }
    }
}
