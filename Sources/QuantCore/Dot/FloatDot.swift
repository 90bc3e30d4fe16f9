/// Fused dots of the float types: f16 widens with F16C's `vcvtph2ps` under native codegen and in
/// integer lanes otherwise (exact as `F16Codec.widenHalf`), bf16 by a shift, f32 is a plain
/// lane-wise dot.

extension F32Codec: RowDotCodec {
    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        dotFloats(row.assumingMemoryBound(to: Float.self), x, count: count)
    }
}

extension F16Codec: RowDotCodec {
    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        // Two accumulators: one would chain every FMA on the previous one's latency.
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= count {
            acc0 = multiplyAdd(acc0, halves8(row, i), floats8(x + i))
            acc1 = multiplyAdd(acc1, halves8(row, i + 8), floats8(x + i + 8))
            i += 16
        }
        if i + 8 <= count {
            acc0 = multiplyAdd(acc0, halves8(row, i), floats8(x + i))
            i += 8
        }
        var sum = (acc0 + acc1).sum()
        while i < count {
            sum += Float(bitPattern: widenHalf(row.loadUInt16(at: 2 * i))) * x[i]
            i += 1
        }
        return sum
    }

    /// Eight halves from element `i` on as floats.
    @inline(__always)
    static func halves8(_ row: UnsafeRawPointer, _ i: Int) -> SIMD8<Float> {
        #if F16C
        // One vcvtph2ps (Package.swift defines F16C when it compiles for the CPU's F16C).
        SIMD8<Float>(row.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<Float16>.self))
        #else
        widenHalves(row.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<UInt16>.self))
        #endif
    }

    /// `widenHalf` in 8 lanes, with arithmetic masks instead of `replacing(with:where:)`
    /// (which the compiler turns into a lane-by-lane loop through memory).
    @inline(__always)
    static func widenHalves(_ h: SIMD8<UInt16>) -> SIMD8<Float> {
        let h32 = SIMD8<UInt32>(truncatingIfNeeded: h)
        let magnitude = (h32 & 0x7fff) &<< 13
        let exponent = magnitude &>> 23                       // 0 … 31
        let isInfOrNaN = (exponent &+ 1) &>> 5                 // 1 where exponent = 31
        let isZeroOrSubnormal = SIMD8<UInt32>(repeating: 1) &- ((exponent &+ 31) &>> 5)  // 1 where exponent = 0
        let bias = SIMD8<UInt32>(repeating: (127 - 15) << 23), infBias = SIMD8<UInt32>(repeating: (128 - 16) << 23)
        let bits = magnitude &+ bias &+ isInfOrNaN &* infBias
        // Zero/subnormal: renormalise by subtracting 2^-14 in float arithmetic.
        let shifted = unsafeBitCast(bits &+ (1 << 23), to: SIMD8<Float>.self) - Float(bitPattern: 113 << 23)
        let renormalised = unsafeBitCast(shifted, to: SIMD8<UInt32>.self)
        let select = SIMD8<UInt32>() &- isZeroOrSubnormal
        let chosen = bits ^ ((bits ^ renormalised) & select)
        let sign = (h32 & 0x8000) &<< 16
        return unsafeBitCast(chosen | sign, to: SIMD8<Float>.self)
    }
}

extension BF16Codec: RowDotCodec {
    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            let h = SIMD8<UInt32>(truncatingIfNeeded: row.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<UInt16>.self))
            acc = multiplyAdd(acc, unsafeBitCast(h &<< 16, to: SIMD8<Float>.self), floats8(x + i))
            i += 8
        }
        var sum = acc.sum()
        while i < count {
            sum += floatFromBFloat16(row.loadUInt16(at: 2 * i)) * x[i]
            i += 1
        }
        return sum
    }
}
