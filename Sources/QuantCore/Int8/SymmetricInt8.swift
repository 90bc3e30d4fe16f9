/// Symmetric int8 quantization with one scale per row, the scheme of W8A8 (SmoothQuant's
/// per-channel weights, per-token activations): scale = max|x| / 127, q = round(x / scale) in
/// [-127, 127].
///
/// The int8 values are held in 16-bit lanes. Why: the integer multiply-add this CPU class has
/// without AVX-512 VNNI is SSE2/AVX2 `pmaddwd` (16-bit × 16-bit → 32-bit pair sums); LLVM emits it
/// for the loops below when both operands are Int16, while Swift's generic int8 → int16 SIMD
/// conversions are not lowered to vector instructions (measured 0.06 vs 8.9 G multiply-adds/s
/// per core). The arithmetic is still exactly int8 × int8 with int32 accumulation.
public enum SymmetricInt8 {
    /// Quantizes one row of `count` values into `out`; returns its scale (0 for an all-zero row).
    @discardableResult @inline(__always)
    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Int16>) -> Float {
        var maximum: Float = 0
        for i in 0..<count { maximum = max(maximum, abs(x[i])) }
        guard maximum > 0, maximum.isFinite else {
            out.initialize(repeating: 0, count: count)
            return 0
        }
        let inverse = 127 / maximum
        for i in 0..<count { out[i] = Int16(max(-127, min(127, (x[i] * inverse).rounded()))) }
        return maximum / 127
    }

    /// Quantizes `rows` rows of `columns` (row-major); returns the per-row scales.
    public static func quantizeRows(_ x: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Int16>) -> [Float] {
        (0..<rows).map { quantizeRow(x + $0 * columns, count: columns, into: out + $0 * columns) }
    }

    /// Σ a[i]·b[i], exact (|a|, |b| ≤ 127, so any realistic length stays far inside Int32).
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Int16>, _ b: UnsafePointer<Int16>, count: Int) -> Int32 {
        var sum: Int32 = 0
        for i in 0..<count { sum &+= Int32(a[i]) &* Int32(b[i]) }
        return sum
    }

    /// Four dot products of consecutive rows of `a` (`stride` apart) with one row `b`: `b` is
    /// loaded once for four rows, which doubles the throughput of `dot` (8.9 vs 4.8 G/s).
    @inline(__always)
    public static func dot4(_ a: UnsafePointer<Int16>, stride: Int, _ b: UnsafePointer<Int16>, count: Int) -> SIMD4<Int32> {
        var s0: Int32 = 0, s1: Int32 = 0, s2: Int32 = 0, s3: Int32 = 0
        let a1 = a + stride, a2 = a1 + stride, a3 = a2 + stride
        for i in 0..<count {
            let w = Int32(b[i])
            s0 &+= Int32(a[i]) &* w
            s1 &+= Int32(a1[i]) &* w
            s2 &+= Int32(a2[i]) &* w
            s3 &+= Int32(a3[i]) &* w
        }
        return SIMD4(s0, s1, s2, s3)
    }
}
