import QuantCore
/// One vectorized pass over a tensor's values answering the two questions conversion asks of
/// every slab: is anything NaN/Inf, and does anything exceed what F16 (and every fp16 block
/// scale) can hold. Comparing |x| as integers (sign bit cleared) orders finite values, puts Inf
/// above them and NaN above Inf, so a single integer maximum answers both.
enum MagnitudeScan {
    /// Bit pattern of F16's largest finite value (65504) as f32.
    static let halfMaximumBits = Float(65504).bitPattern
    static let infinityBits = Float.infinity.bitPattern

    /// The largest |x| as an f32 bit pattern (≥ `infinityBits`: some value is Inf or NaN).
    static func largestMagnitudeBits(_ values: UnsafeBufferPointer<Float>) -> UInt32 {
        // A plain reduction loop: LLVM vectorizes an unsigned max reduction by itself, where
        // hand-written SIMD `replacing(with:where:)` would go lane by lane through memory.
        UnsafeRawBufferPointer(values).withMemoryRebound(to: UInt32.self) { bits in
            var result: UInt32 = 0
            for b in bits { result = max(result, b & 0x7FFF_FFFF) }
            return result
        }
    }

    /// How many values are NaN/Inf and where the first is (only called once a scan found some).
    static func nonFinite(_ values: UnsafeBufferPointer<Float>) -> (count: Int, first: Int) {
        var count = 0, first = -1
        for (i, value) in values.enumerated() where !value.isFinite {
            if first < 0 { first = i }
            count += 1
        }
        return (count, first)
    }
}
