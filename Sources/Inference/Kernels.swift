import Foundation

/// The elementwise kernels of the llama forward pass (shapes in the doc comments, row-major).
/// Formulas follow ggml's CPU ops so that results track llama.cpp's closely.
enum Kernels {
    /// y[t] = x[t] · 1/√(mean(x[t]²) + ε) · weight, for T rows of `n` (ggml_rms_norm, sum in double).
    static func rmsNorm(_ x: UnsafePointer<Float>, weight: [Float], epsilon: Float, rows: Int, n: Int, into y: UnsafeMutablePointer<Float>) {
        weight.withUnsafeBufferPointer { w in
            for t in 0..<rows {
                let xr = x + t * n, yr = y + t * n
                var sum: Double = 0
                for i in 0..<n { sum += Double(xr[i] * xr[i]) }
                let scale = 1 / (Float(sum / Double(n)) + epsilon).squareRoot()
                for i in 0..<n { yr[i] = (xr[i] * scale) * w[i] }
            }
        }
    }

    /// In-place softmax of `n` values (max-subtracted, sum in double as ggml does).
    static func softmax(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
        var maximum = -Float.infinity
        for i in 0..<n { maximum = max(maximum, x[i]) }
        var sum: Double = 0
        for i in 0..<n {
            let e = expf(x[i] - maximum)
            x[i] = e
            sum += Double(e)
        }
        let scale = Float(1 / sum)
        for i in 0..<n { x[i] *= scale }
    }

    /// gate[i] ← silu(gate[i])·up[i] for `count` values (SwiGLU; silu(x) = x/(1 + e^−x)).
    static func swiGLU(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let g = gate[i]
            gate[i] = g / (1 + expf(-g)) * up[i]
        }
    }

    /// x ← x + y for `count` values.
    static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += y[i] }
    }

    /// RMSNorm of each `n`-value row of `x` in place (Qwen3's per-head q/k norms: one row per head).
    static func rmsNormInPlace(_ x: inout [Float], weight: [Float], epsilon: Float, rows: Int, n: Int) {
        x.withUnsafeMutableBufferPointer { p in rmsNorm(p.baseAddress!, weight: weight, epsilon: epsilon, rows: rows, n: n, into: p.baseAddress!) }
    }

    /// Adds `bias` to each of `rows` rows of `x` (a projection's bias, after the product).
    static func addRows(_ x: inout [Float], _ bias: [Float], rows: Int) {
        let n = bias.count
        x.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows { for i in 0..<n { p[r * n + i] += bias[i] } }
        }
    }
}

/// Rotary position embedding in llama.cpp's "normal" layout — adjacent pairs (2i, 2i+1) of each
/// head rotated by pos·base^(−2i/n_dims); GGUF llama weights are stored permuted for it (the
/// converter's q/k permutation) — or its NEOX layout, pairs (i, i + n_dims/2), for architectures
/// stored as Hugging Face has them (Qwen). The angles are built as ggml_rope_cache_init does:
/// θ starts at pos and is multiplied by base^(−2/n_dims) per pair, in f32.
struct RotaryEmbedding {
    let dimensions: Int
    let thetaScale: Float
    /// llama.cpp's freq_scale (1/factor for linear scaling).
    let frequencyScale: Float
    /// Per-pair divisors of the angle (`rope_freqs.weight`), or nil.
    let factors: [Float]?
    /// Pair i is (2i, 2i+1), or (i, i + dimensions/2) for `.halves` (ggml's NEOX mode).
    let style: ModelArchitecture.RopeStyle

    init(dimensions: Int, base: Float, frequencyScale: Float = 1, factors: [Float]? = nil, style: ModelArchitecture.RopeStyle = .adjacentPairs) {
        self.dimensions = dimensions
        thetaScale = powf(base, -2 / Float(dimensions))
        self.frequencyScale = frequencyScale
        self.factors = factors
        self.style = style
    }

    /// Rotates `heads` heads of `headDimension` values at `x` (one token) for position `position`.
    /// The angles follow ggml's `rope_cache_init` with no YaRN ramp: θᵢ = scale·(p·θsⁱ)/factorᵢ,
    /// θsⁱ accumulated by repeated multiplication as ggml does.
    func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, headDimension: Int, position: Int, cache: inout [Float]) {
        let pairs = dimensions / 2
        if cache.count < 2 * pairs { cache = [Float](repeating: 0, count: 2 * pairs) }
        var theta = Float(position)
        for i in 0..<pairs {
            let angle = frequencyScale * (factors.map { theta / $0[i] } ?? theta)
            cache[2 * i] = cosf(angle)
            cache[2 * i + 1] = sinf(angle)
            theta *= thetaScale
        }
        let (firstStride, secondOffset) = style == .adjacentPairs ? (2, 1) : (1, pairs)
        for h in 0..<heads {
            let v = x + h * headDimension
            for i in 0..<pairs {
                let cosine = cache[2 * i], sine = cache[2 * i + 1]
                let a = firstStride * i, b = a + secondOffset
                let x0 = v[a], x1 = v[b]
                v[a] = x0 * cosine - x1 * sine
                v[b] = x0 * sine + x1 * cosine
            }
        }
    }
}
