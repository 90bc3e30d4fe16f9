#if arch(x86_64) && AVX2
import _Builtin_intrinsics.intel

// Integer dots of the 256-element K-quants against 32-element activation blocks: every
// sub-block of 32 (Q4_K, Q5_K) or pair of 16s (Q6_K) lines up with one activation block, so the
// activation scale and Σ q_x of that block serve the sub-block's scale and minimum directly.
// Q4_K and Q5_K keep their own copies of the super-block loop: sharing it through a generic
// function taking the level decoding as a closure measured 12 % slower for Q5_K
// (`quantkit-bench rowdot`, 576 columns: 4 122 → 3 500–3 610 MB/s).

extension Q4_KCodec: Int8RowDotCodec {
    public static func dot(_ row: UnsafeRawPointer, _ x: QuantizedActivations, count: Int) -> Float {
        let halves = HalfTable.pointer
        var acc = _mm256_setzero_ps()
        var minimums: Float = 0
        for superBlock in 0..<count / 256 {
            let b = row + superBlock * 144
            let d = halfScale(halves, b, 0), dmin = halfScale(halves, b, 2)
            for run in 0..<4 {
                let packed = loadBytes32(b + 16 + 32 * run)
                let low = _mm256_and_si256(packed, _mm256_set1_epi8(0x0F))
                let high = _mm256_and_si256(_mm256_srli_epi16(packed, 4), _mm256_set1_epi8(0x0F))
                addRun(&acc, &minimums, low: low, high: high, scales: b + 4, run: run, d: d, dmin: dmin,
                       x: x, block: superBlock * 8 + 2 * run)
            }
        }
        return horizontalSum(acc) - minimums
    }
}

extension Q5_KCodec: Int8RowDotCodec {
    public static func dot(_ row: UnsafeRawPointer, _ x: QuantizedActivations, count: Int) -> Float {
        let halves = HalfTable.pointer
        var acc = _mm256_setzero_ps()
        var minimums: Float = 0
        for superBlock in 0..<count / 256 {
            let b = row + superBlock * 176
            let d = halfScale(halves, b, 0), dmin = halfScale(halves, b, 2)
            let fifth = loadBytes32(b + 16)
            for run in 0..<4 {
                let packed = loadBytes32(b + 48 + 32 * run)
                // Bit 2·run of each fifth-bit byte belongs to the low sub-block, bit 2·run + 1 to the high.
                let bits = _mm256_srli_epi16(fifth, Int32(2 * run))
                let low = _mm256_or_si256(_mm256_and_si256(packed, _mm256_set1_epi8(0x0F)),
                                          _mm256_slli_epi16(_mm256_and_si256(bits, _mm256_set1_epi8(1)), 4))
                let high = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(packed, 4), _mm256_set1_epi8(0x0F)),
                                           _mm256_slli_epi16(_mm256_and_si256(bits, _mm256_set1_epi8(2)), 3))
                addRun(&acc, &minimums, low: low, high: high, scales: b + 4, run: run, d: d, dmin: dmin,
                       x: x, block: superBlock * 8 + 2 * run)
            }
        }
        return horizontalSum(acc) - minimums
    }
}

/// One 64-element run of Q4_K/Q5_K: unsigned levels of its two sub-blocks against activation
/// blocks `block` and `block + 1`, scaled by d·scale; dmin·min·(d_x·Σ q_x) goes to `minimums`.
@inline(__always)
func addRun(_ acc: inout __m256, _ minimums: inout Float, low: __m256i, high: __m256i, scales: UnsafeRawPointer, run: Int,
            d: Float, dmin: Float, x: QuantizedActivations, block: Int) {
    let (sc1, m1) = KQuantPacking.scaleMin(2 * run, scales)
    let (sc2, m2) = KQuantPacking.scaleMin(2 * run + 1, scales)
    acc = scaledAdd(acc, unsignedByteDot(low, loadBytes32(x.levels + 32 * block)), d * Float(sc1) * x.scales[block])
    acc = scaledAdd(acc, unsignedByteDot(high, loadBytes32(x.levels + 32 * block + 32)), d * Float(sc2) * x.scales[block + 1])
    minimums += dmin * (Float(m1) * x.scaledSums[block] + Float(m2) * x.scaledSums[block + 1])
}

extension Q6_KCodec: Int8RowDotCodec {
    public static func dot(_ row: UnsafeRawPointer, _ x: QuantizedActivations, count: Int) -> Float {
        let halves = HalfTable.pointer
        var acc = _mm256_setzero_ps()
        for superBlock in 0..<count / 256 {
            let b = row + superBlock * 210
            let d = halfScale(halves, b, 208)
            for half in 0..<2 {
                let lowBits = b + 64 * half, highBits = loadBytes32(b + 128 + 32 * half)
                let scales = (b + 192 + 8 * half).assumingMemoryBound(to: Int8.self)
                let first = loadBytes32(lowBits), second = loadBytes32(lowBits + 32)
                let block = superBlock * 8 + half * 4
                // Written out four times: an array of the four nibble vectors would be allocated.
                sixBitGroup(&acc, _mm256_and_si256(first, _mm256_set1_epi8(0x0F)), highBits, 0, scales, x, block, d)
                sixBitGroup(&acc, _mm256_and_si256(second, _mm256_set1_epi8(0x0F)), highBits, 1, scales, x, block + 1, d)
                sixBitGroup(&acc, _mm256_and_si256(_mm256_srli_epi16(first, 4), _mm256_set1_epi8(0x0F)), highBits, 2, scales, x, block + 2, d)
                sixBitGroup(&acc, _mm256_and_si256(_mm256_srli_epi16(second, 4), _mm256_set1_epi8(0x0F)), highBits, 3, scales, x, block + 3, d)
            }
        }
        return horizontalSum(acc)
    }

    /// Group k (elements 32k…32k + 31 of a 128-element half): the nibbles plus bits 2k, 2k + 1 of
    /// the high-bit bytes, centred by −32, dotted with activation block `block`; elements 0…15
    /// (pair lanes 0…7) carry scale 2k, elements 16…31 scale 2k + 1.
    @inline(__always)
    static func sixBitGroup(_ acc: inout __m256, _ nibbles: __m256i, _ highBits: __m256i, _ k: Int32,
                            _ scales: UnsafePointer<Int8>, _ x: QuantizedActivations, _ block: Int, _ d: Float) {
        let top = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(highBits, 2 * k), _mm256_set1_epi8(3)), 4)
        let levels = _mm256_sub_epi8(_mm256_or_si256(nibbles, top), _mm256_set1_epi8(32))
        let y = loadBytes32(x.levels + 32 * block)
        let products = _mm256_maddubs_epi16(_mm256_sign_epi8(levels, levels), _mm256_sign_epi8(y, levels))
        let scale = _mm256_set_m128i(_mm_set1_epi16(Int16(scales[Int(2 * k + 1)])), _mm_set1_epi16(Int16(scales[Int(2 * k)])))
        acc = scaledAdd(acc, _mm256_madd_epi16(products, scale), d * x.scales[block])
    }
}
#endif
