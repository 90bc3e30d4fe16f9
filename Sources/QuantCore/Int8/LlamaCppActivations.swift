import QuantFormats

/// The activations llama.cpp's CPU backend really multiplies a weight type with. Before a product
/// ggml converts the f32 activations to the weight type's `vec_dot_type` — q8_0 for the 32-element
/// integer types, q8_K (one scale per 256) for the K-quants, f16/bf16 for the float types — and
/// the integer kernels then compute Σ d_w·d_x·Σ q_w·q_x exactly. Rounding the activations the
/// same way and multiplying in f32 therefore reproduces llama.cpp's products up to f32
/// summation order, which is what makes logit-level comparisons with llama.cpp meaningful (our
/// own int8 path, `QuantizedActivations`, uses 32-element scales everywhere and differs on the
/// K-quants by design).
public enum LlamaCppActivations: Sendable, Equatable {
    /// Activations stay f32 (F32 weights; QuantKit's own types, which llama.cpp cannot run).
    case exact
    /// block_q8_0 (and q8_1, the same levels): d = max|x|/127 stored as f16, q = round(x·127/max),
    /// ties to even as `_mm256_round_ps` rounds in the AVX quantize_row_q8_0.
    case q8_0
    /// block_q8_K: 256 values share d = 1/iscale with iscale = −127/x_m, x_m the first value of
    /// largest magnitude (sign kept), q = min(127, nearest_int(iscale·x)) — quantize_row_q8_K_ref,
    /// which the x86 build calls.
    case q8_K
    case f16
    case bf16

    /// Which rounding llama.cpp applies to the activations of products with `type` weights: the
    /// codec's `llamaCppActivations`.
    public static func forWeights(_ type: GGMLType) -> LlamaCppActivations {
        CodecRegistry.codec(for: type)?.llamaCppActivations ?? .exact
    }

    /// Elements sharing one scale; rows must be whole blocks.
    public var blockSize: Int {
        switch self {
        case .q8_0: 32
        case .q8_K: 256
        case .exact, .f16, .bf16: 1
        }
    }

    /// Replaces `count` activations (a multiple of `blockSize`) by the values llama.cpp's kernels see.
    public func round(_ x: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count % blockSize == 0, "activations of \(count) are not whole \(self) blocks")
        switch self {
        case .exact:
            return
        case .f16:
            for i in 0..<count { x[i] = roundedToHalf(x[i]) }
        case .bf16:
            for i in 0..<count { x[i] = floatFromBFloat16(bfloat16Bits(x[i])) }
        case .q8_0:
            for block in stride(from: 0, to: count, by: 32) { Self.roundQ8_0(x + block) }
        case .q8_K:
            for block in stride(from: 0, to: count, by: 256) { Self.roundQ8_K(x + block) }
        }
    }

    private static func roundQ8_0(_ x: UnsafeMutablePointer<Float>) {
        var maximum: Float = 0
        for i in 0..<32 { maximum = max(maximum, abs(x[i])) }
        let d = roundedToHalf(maximum / 127)
        let inverse: Float = maximum != 0 ? 127 / maximum : 0
        for i in 0..<32 { x[i] = d * (x[i] * inverse).rounded(.toNearestOrEven) }
    }

    private static func roundQ8_K(_ x: UnsafeMutablePointer<Float>) {
        var largest: Float = 0, magnitude: Float = 0
        for i in 0..<256 where abs(x[i]) > magnitude {
            magnitude = abs(x[i])
            largest = x[i]
        }
        guard magnitude != 0 else {
            for i in 0..<256 { x[i] = 0 }
            return
        }
        let inverseScale = -127 / largest, d = 1 / inverseScale
        for i in 0..<256 { x[i] = d * min(127, (inverseScale * x[i]).rounded(.toNearestOrEven)) }
    }
}
