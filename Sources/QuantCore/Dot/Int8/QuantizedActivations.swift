/// Activations quantized once per matrix-vector product for the integer kernels, as llama.cpp
/// does with its q8_0/q8_1 `vec_dot_type`: blocks of 32 int8 levels, each with its scale
/// d = max|x|/127 and d·Σ levels (the term a weight type's minimum or level offset multiplies).
///
/// One 32-element scale everywhere, also for the K-quants, where llama.cpp uses q8_K (one scale
/// per 256): the finer scale is never less accurate, and one format keeps one quantizer.
///
/// A plain struct of pointers (the owner calls `deallocate()`): the kernels run per row, and a
/// class here cost a retain/release per row call (10 % of generation time in a profile).
public struct QuantizedActivations: @unchecked Sendable {
    public let count: Int
    public let levels: UnsafeMutablePointer<Int8>
    public let scales: UnsafeMutablePointer<Float>
    public let scaledSums: UnsafeMutablePointer<Float>

    /// Room for `count` activations (a multiple of 32); free it with `deallocate()`.
    public init(count: Int) {
        precondition(count % 32 == 0, "activations are quantized in blocks of 32")
        self.count = count
        levels = .allocate(capacity: count)
        scales = .allocate(capacity: count / 32)
        scaledSums = .allocate(capacity: count / 32)
    }

    public func deallocate() {
        levels.deallocate()
        scales.deallocate()
        scaledSums.deallocate()
    }

    /// Quantizes `x` (`count` floats): q = round(x/d), ties to even as llama.cpp's AVX2
    /// quantize_row_q8_0 rounds (`_mm256_round_ps`, nearest).
    public func quantize(_ x: UnsafePointer<Float>) {
        for block in 0..<count / 32 {
            let xb = x + block * 32, qb = levels + block * 32
            var maximum: Float = 0
            for i in 0..<32 { maximum = max(maximum, abs(xb[i])) }
            let d = maximum / 127
            let inverse: Float = d > 0 ? 1 / d : 0
            var sum: Int32 = 0
            for i in 0..<32 {
                let q = Int32((xb[i] * inverse).rounded(.toNearestOrEven))
                qb[i] = Int8(truncatingIfNeeded: q)
                sum &+= q
            }
            scales[block] = d
            scaledSums[block] = d * Float(sum)
        }
    }

    /// The value the kernels see for activation `i`: d·q.
    public func value(_ i: Int) -> Float { scales[i / 32] * Float(levels[i]) }
}
