/// The rounding primitives of ggml-quants.c, reproduced exactly.
///
/// Measured against llama.cpp's golden bytes: ggml-quants.c lives in ggml-base, which is compiled
/// for baseline x86-64 without FMA instructions, so every `a*b + c` in the reference quantizers is
/// two roundings. (Fusing even one of them, e.g. Q4_0's `x*id + 8.5f`, changes a level in the
/// golden `ffn_down` case; with none fused, all 12 types match on every case.) `mulAdd` names the
/// places where that matters, so nobody "optimises" them into `addingProduct`.

/// `a·b + c` with the product rounded first, as the reference build computes it.
@inline(__always)
func mulAdd(_ a: Float, _ b: Float, _ c: Float) -> Float { a * b + c }

/// ggml's `nearest_int`: adds 1.5·2^23 so the float's mantissa holds the rounded integer
/// (round half to even), valid for |v| ≤ 2^22.
@inline(__always)
func nearestInt(_ v: Float) -> Int32 {
    let shifted = v + 12_582_912
    return Int32(bitPattern: shifted.bitPattern & 0x007f_ffff) - 0x0040_0000
}

/// `nearestInt` lane by lane, with the same float addition per lane.
@inline(__always)
func nearestInts(_ v: SIMD8<Float>) -> SIMD8<Int32> {
    let shifted = v + 12_582_912
    return (unsafeBitCast(shifted, to: SIMD8<Int32>.self) & 0x007f_ffff) &- 0x0040_0000
}

/// |v| lane by lane (the sign bit cleared, exact).
@inline(__always)
func magnitudes(_ v: SIMD8<Float>) -> SIMD8<Float> {
    unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) & 0x7fff_ffff, to: SIMD8<Float>.self)
}

/// Eight groups of n values (group g at x + g·n) as n lane vectors: lanes[i][g] = x[g·n + i].
@inline(__always)
func transposeGroups(_ x: UnsafePointer<Float>, _ n: Int, into lanes: UnsafeMutablePointer<SIMD8<Float>>) {
    for i in 0..<n {
        for g in 0..<8 { lanes[i][g] = x[g * n + i] }
    }
}

/// C's `(int8_t)f` for the small positive values the legacy quantizers produce: truncation.
/// Exact for 0 ≤ v < 2²³ (the integer part lands in the mantissa of 2²³ + trunc(v)). Not
/// `Int32(v)`: Swift's conversion traps on NaN and out-of-range values, and that check per
/// element kept the quantize loops scalar (Q4_0 quantized at half llama.cpp's speed); a NaN
/// weight passed with --allow-nonfinite gets some level, as C's undefined cast gives it one.
@inline(__always)
func truncatedInt(_ v: Float) -> Int32 {
    Int32(bitPattern: (v.rounded(.towardZero) + 8_388_608).bitPattern & 0x007f_ffff)
}

/// The largest absolute value and the signed value that has it (first wins on ties), as the
/// quantizers' `amax`/`max` loops compute them.
@inline(__always)
func signedAbsMax(_ x: UnsafePointer<Float>, _ n: Int) -> (amax: Float, max: Float) {
    var amax: Float = 0, max: Float = 0
    for i in 0..<n {
        let ax = abs(x[i])
        if ax > amax { amax = ax; max = x[i] }
    }
    return (amax, max)
}
