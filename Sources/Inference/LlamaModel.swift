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
    /// Single-token products of quantized weights use int8 activations and integer kernels
    /// (llama.cpp's method, 2–3× faster); false keeps activations f32.
    public var integerActivations = MatMul.integerActivationsByDefault
    /// Every product rounds its activations as llama.cpp's CPU backend does for the weight type
    /// (q8_0, q8_K, f16 — `LlamaCppActivations`), so logits follow llama.cpp's own arithmetic;
    /// overrides `integerActivations`.
    public var llamaCppRounding = false
    /// W8A8 mode: the int8 form of every linear layer of the blocks, by tensor name (see `enableW8A8`).
    private var int8Weights: [String: Int8Matrix] = [:]
    public var isW8A8: Bool { !int8Weights.isEmpty }
    /// Sees the input of every linear layer (calibration); nil in normal runs.
    public weak var observer: (any ActivationObserver)?

    public init(path: String) throws {
        file = try GGUFFile(path: path)
        tokenizer = try Tokenizer(metadata: file.metadata)
        guard let embedding = file.tensor(named: "token_embd.weight"), embedding.shape.count == 2 else {
            throw InferenceError.missingTensor("token_embd.weight")
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
        integerActivations = model.integerActivations
        llamaCppRounding = model.llamaCppRounding
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
        let T = tokens.count, d = c.embeddingLength, kv = c.kvDimension, f = c.feedForwardLength
        for segment in segments where segment.state.length + segment.rows.count > segment.state.contextLength {
            throw InferenceError.contextTooLarge(requested: segment.state.length + segment.rows.count, trained: segment.state.contextLength)
        }
        for token in tokens where token < 0 || Int(token) >= c.vocabularySize {
            throw InferenceError.tokenOutOfRange(token, vocabulary: c.vocabularySize)
        }
        var x = [Float](repeating: 0, count: T * d), normed = x, attention = x, projected = x
        var q = x, k = [Float](repeating: 0, count: T * kv), v = k
        var gate = [Float](repeating: 0, count: T * f), up = gate
        if let entry {
            x = entry.residual
        } else {
            x.withUnsafeMutableBufferPointer { xp in
                for (t, token) in tokens.enumerated() { weights.tokenEmbedding.dequantizeRows(Int(token) ..< Int(token) + 1, into: xp.baseAddress! + t * d) }
            }
        }
        let rope = RotaryEmbedding(dimensions: c.ropeDimensionCount, base: c.ropeFreqBase, frequencyScale: c.ropeFrequencyScale,
                                   factors: weights.ropeFrequencyFactors)
        var ropeCache: [Float] = []
        for (l, layer) in weights.layers.enumerated() where l >= entry?.layer ?? 0 {
            residuals?(l, x)
            Kernels.rmsNorm(x, weight: layer.attentionNorm, epsilon: c.rmsNormEpsilon, rows: T, n: d, into: &normed)
            observe(.attentionInput, l, normed, T, d)
            linear(normed, T, layer.query, &q)
            linear(normed, T, layer.key, &k)
            linear(normed, T, layer.value, &v)
            q.withUnsafeMutableBufferPointer { qp in
                k.withUnsafeMutableBufferPointer { kp in
                    v.withUnsafeBufferPointer { vp in
                        attention.withUnsafeMutableBufferPointer { ap in
                            for segment in segments {
                                let state = segment.state, first = segment.rows.lowerBound
                                for t in segment.rows {
                                    let position = state.length + t - first
                                    rope.apply(qp.baseAddress! + t * d, heads: c.headCount, headDimension: c.headDimension, position: position, cache: &ropeCache)
                                    rope.apply(kp.baseAddress! + t * kv, heads: c.headCountKV, headDimension: c.headDimension, position: position, cache: &ropeCache)
                                }
                                state.store(layer: l, keys: kp.baseAddress! + first * kv, values: vp.baseAddress! + first * kv, tokens: segment.rows.count)
                                Attention.compute(queries: qp.baseAddress! + first * d, state: state, layer: l, tokens: segment.rows.count,
                                                  configuration: c, into: ap.baseAddress! + first * d, threads: threads)
                            }
                        }
                    }
                }
            }
            observe(.attentionOutputInput, l, attention, T, d)
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
        MatMul.multiply(finalNormed, tokens: n, by: weights.output, into: &logits, threads: threads, integerActivations: integerActivations,
                        llamaCppRounding: llamaCppRounding)
        return logits
    }
}

extension LlamaModel {
    /// Switches the transformer blocks' linear layers to W8A8: per-output-channel int8 weights
    /// (quantized once, here) and per-token dynamic int8 activations, multiplied in integer
    /// arithmetic. The token embedding and the output head stay as stored, as in SmoothQuant's
    /// W8A8 setting (only the blocks' GEMMs are int8).
    /// `only`: just these tensors (SmoothQuant's tuning measures one site's W8A8 cost at a time).
    /// `hadamardBeforeFFNDown`: ffn_down multiplies Hadamard-rotated activations by rotated
    /// weights (QuaRot's one online rotation): the same function, flatter int8 inputs, and a
    /// kernel llama.cpp does not have — so it measures a W8A8 runtime, not a GGUF.
    /// `outlierThreshold`: LLM.int8()'s mixed-precision decomposition in every int8 layer, as
    /// bitsandbytes' `Linear8bitLt(threshold:)` (see `OutlierDecomposition`).
    public func enableW8A8(only names: Set<String>? = nil, hadamardBeforeFFNDown: Bool = false, outlierThreshold: Float? = nil) {
        var converted: [String: Int8Matrix] = [:]
        var rotations: [Int: FactoredRotation] = [:]
        for layer in weights.layers {
            for w in [layer.query, layer.key, layer.value, layer.attentionOutput, layer.gate, layer.up, layer.down]
            where names?.contains(w.name) ?? true {
                var rotation: FactoredRotation?
                if hadamardBeforeFFNDown && w.name == layer.down.name {
                    rotation = rotations[w.columns] ?? OrthogonalMatrix.factoredRotation(order: w.columns, seed: Self.onlineRotationSeed)
                    rotations[w.columns] = rotation
                }
                converted[w.name] = Int8Matrix(w, inputRotation: rotation, outlierThreshold: outlierThreshold)
            }
        }
        int8Weights = converted
    }

    /// With `enableW8A8(outlierThreshold:)`: the share of the int8 layers' input values the
    /// decomposition has multiplied in float so far (nil without it or before any product).
    public var w8a8FloatShare: Double? {
        let totals = int8Weights.values.compactMap { $0.outlierTally?.totals }
        let total = totals.map(\.total).reduce(0, +)
        return total > 0 ? Double(totals.map(\.outliers).reduce(0, +)) / Double(total) : nil
    }

    /// Any seed works; a fixed one makes W8A8 runs repeatable.
    static let onlineRotationSeed: UInt64 = 0x0D0_77D

    @inline(__always)
    fileprivate func linear(_ x: [Float], _ tokens: Int, _ w: WeightMatrix, _ out: inout [Float]) {
        if let int8 = int8Weights[w.name] {
            Int8MatMul.multiply(x, tokens: tokens, by: int8, into: &out, threads: threads)
        } else {
            MatMul.multiply(x, tokens: tokens, by: w, into: &out, threads: threads, integerActivations: integerActivations,
                        llamaCppRounding: llamaCppRounding)
        }
    }

    @inline(__always)
    fileprivate func observe(_ site: ActivationSite, _ layer: Int, _ values: [Float], _ tokens: Int, _ width: Int) {
        guard let observer else { return }
        values.withUnsafeBufferPointer { observer.observe(site, layer: layer, values: UnsafeBufferPointer(rebasing: $0[0 ..< tokens * width]), tokens: tokens, width: width) }
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

    func store(layer: Int, keys newKeys: UnsafePointer<Float>, values newValues: UnsafePointer<Float>, tokens: Int) {
        let offset = length * kvDimension
        keys[layer].withUnsafeMutableBufferPointer { (($0.baseAddress! + offset).update(from: newKeys, count: tokens * kvDimension)) }
        values[layer].withUnsafeMutableBufferPointer { (($0.baseAddress! + offset).update(from: newValues, count: tokens * kvDimension)) }
    }
}

/// Causal grouped-query attention over the cache: for each head, scores = q·kᵀ/√d_head over
/// positions ≤ the query's, softmax, then the weighted sum of values. Heads run in parallel.
enum Attention {
    /// Query rows per unit of batched attention. Units are (head, block of rows) pairs claimed
    /// by the workers one at a time: per head alone, SmolLM2's 9 heads split 5:4 over two
    /// cores, and a block only multiplies the positions its last row can see (the masked
    /// upper triangle is not computed). Measured in `quantkit-bench perplexity`.
    static let rowsPerUnit = 64

    static func compute(queries q: UnsafePointer<Float>, state: LlamaState, layer: Int, tokens T: Int, configuration c: LlamaConfiguration,
                        into out: UnsafeMutablePointer<Float>, threads: Int) {
        let hd = c.headDimension, d = c.embeddingLength, kv = c.kvDimension
        let group = c.headCount / c.headCountKV
        let positions = state.length + T  // cache already holds this batch
        let start = state.length
        let scale = 1 / Float(hd).squareRoot()
        state.keys[layer].withUnsafeBufferPointer { kp in
            state.values[layer].withUnsafeBufferPointer { vp in
                let shared = UnsafeSendableBox((q, kp.baseAddress!, vp.baseAddress!, out))
                if T == 1 {
                    decode(shared.value, positions: positions, configuration: c, scale: scale, threads: threads)
                    return
                }
                let blocks = (T + rowsPerUnit - 1) / rowsPerUnit
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, threads) * rowsPerUnit * positions)
                defer { scratch.deallocate() }
                let buffers = UnsafeSendableBox(scratch)
                // Latest (costliest) blocks first, so the cheap ones fill in at the end.
                WorkerPool.shared.forEachUnit(blocks * c.headCount, threads: threads) { worker, unit in
                    let (q, k, v, o) = shared.value
                    let block = blocks - 1 - unit / c.headCount, h = unit % c.headCount, g = h / group
                    let first = block * rowsPerUnit, rows = min(rowsPerUnit, T - first)
                    let visible = start + first + rows  // positions the block's last row sees
                    let scores = buffers.value + worker * rowsPerUnit * positions
                    // scores[rows × visible] = Q_h · K_gᵀ
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(visible), Int32(hd), scale,
                                q + first * d + h * hd, Int32(d), k + g * hd, Int32(kv), 0, scores, Int32(visible))
                    for t in 0..<rows {
                        let row = scores + t * visible
                        let seen = start + first + t + 1
                        Kernels.softmax(row, seen)
                        for j in seen ..< visible { row[j] = 0 }
                    }
                    // out_h[rows × hd] = scores · V_g
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(hd), Int32(visible), 1,
                                scores, Int32(visible), v + g * hd, Int32(kv), 0, o + first * d + h * hd, Int32(d))
                }
            }
        }
    }
}

extension Attention {
    /// Generating one token: each head's cached positions are cut into parts of about 64 (at
    /// least two), and the workers claim (head, part) units, so 9 heads do not split 5:4 over two
    /// cores (13 % of generation time idle in perf). Each part returns an unnormalized softmax
    /// (its maximum score, Σ exp, Σ exp·v); the parts of a head are then combined. The parts
    /// depend only on the position count, so results do not depend on `threads`.
    static func decode(_ pointers: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>),
                       positions: Int, configuration c: LlamaConfiguration, scale: Float, threads: Int) {
        let (q, k, v, o) = pointers
        let hd = c.headDimension, kv = c.kvDimension, group = c.headCount / c.headCountKV
        let parts = positions < 2 ? 1 : max(2, (positions + 63) / 64)
        let units = c.headCount * parts
        let longest = (positions + parts - 1) / parts
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: units * hd)
        let maxima = UnsafeMutablePointer<Float>.allocate(capacity: units)
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: units)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, threads) * longest)
        defer { partial.deallocate(); maxima.deallocate(); sums.deallocate(); scratch.deallocate() }
        let shared = UnsafeSendableBox((q, k, v, partial, maxima, sums, scratch))
        WorkerPool.shared.forEachUnit(units, threads: threads) { worker, unit in
            let (q, k, v, partial, maxima, sums, scratch) = shared.value
            let h = unit / parts, part = unit % parts, g = h / group
            let range = positions * part / parts ..< positions * (part + 1) / parts
            (maxima[unit], sums[unit]) = decodeHeadPart(q + h * hd, keys: k + g * hd, values: v + g * hd, stride: kv, range: range,
                                                        headDimension: hd, scale: scale, scores: scratch + worker * longest,
                                                        into: partial + unit * hd)
        }
        for h in 0..<c.headCount {
            let first = h * parts
            var maximum = -Float.infinity
            for p in first ..< first + parts { maximum = max(maximum, maxima[p]) }
            var total = 0.0
            for p in first ..< first + parts { total += Double(expf(maxima[p] - maximum)) * sums[p] }
            let out = o + h * hd
            out.update(repeating: 0, count: hd)
            for p in first ..< first + parts {
                let weight = Float(Double(expf(maxima[p] - maximum)) / total)
                for i in 0..<hd { out[i] += weight * partial[p * hd + i] }
            }
        }
    }

    /// One query head against cached positions `range` (row stride `stride` floats): returns the
    /// largest score m and Σ exp(sⱼ − m), and writes Σ exp(sⱼ − m)·vⱼ into `out`.
    static func decodeHeadPart(_ q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, stride: Int,
                               range: Range<Int>, headDimension hd: Int, scale: Float, scores: UnsafeMutablePointer<Float>,
                               into out: UnsafeMutablePointer<Float>) -> (Float, Double) {
        var maximum = -Float.infinity
        for (n, j) in range.enumerated() {
            scores[n] = scale * dotFloats(q, keys + j * stride, count: hd)
            maximum = max(maximum, scores[n])
        }
        var sum = 0.0
        out.update(repeating: 0, count: hd)
        for (n, j) in range.enumerated() {
            let e = expf(scores[n] - maximum), value = values + j * stride
            sum += Double(e)
            var i = 0
            while i + 8 <= hd {
                let o = UnsafeMutableRawPointer(out + i)
                o.storeBytes(of: o.loadUnaligned(as: SIMD8<Float>.self)
                             + e * UnsafeRawPointer(value + i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                i += 8
            }
            while i < hd { out[i] += e * value[i]; i += 1 }
        }
        return (maximum, sum)
    }
}
