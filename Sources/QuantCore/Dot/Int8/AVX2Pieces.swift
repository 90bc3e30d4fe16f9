#if arch(x86_64) && AVX2
import _Builtin_intrinsics.intel

// The AVX2 building blocks of the integer kernels (llama.cpp's ggml-cpu quants.c uses the same
// instruction sequences; these are written from the instruction semantics).

/// Σ of byte products in eight 32-bit lanes, for signed `x` (weights) and signed `y`
/// (activations): `pmaddubsw` multiplies unsigned by signed bytes, so |x| meets y carrying x's
/// sign. Pair sums reach at most 2·128·127, inside Int16.
@inline(__always)
func signedByteDot(_ x: __m256i, _ y: __m256i) -> __m256i {
    let products = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x))
    return _mm256_madd_epi16(products, _mm256_set1_epi16(1))
}

/// As `signedByteDot` for unsigned `x` (levels 0…63 that need no sign trick).
@inline(__always)
func unsignedByteDot(_ x: __m256i, _ y: __m256i) -> __m256i {
    _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), _mm256_set1_epi16(1))
}

/// The 16 bytes at `p` as 32 nibbles: low nibbles in bytes 0…15, high nibbles in 16…31 (the
/// element order of every 32-element ggml block).
@inline(__always)
func nibbleBytes32(_ p: UnsafeRawPointer) -> __m256i {
    let packed = _mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self))
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F))
}

/// 0xFF in byte j where bit j of the 32-bit word at `p` is set, else 0 (Q5_0/Q5_1 fifth bits).
@inline(__always)
func bitBytes32(_ p: UnsafeRawPointer) -> __m256i {
    let bits = Int32(bitPattern: p.loadUnaligned(as: UInt32.self))
    // Byte j gets the word's byte j/8, then every bit except j % 8 is set: all ones iff bit j was.
    let spread = _mm256_shuffle_epi8(_mm256_set1_epi32(bits),
                                     _mm256_set_epi64x(0x0303_0303_0303_0303, 0x0202_0202_0202_0202, 0x0101_0101_0101_0101, 0))
    let others = _mm256_or_si256(spread, _mm256_set1_epi64x(0x7FBF_DFEF_F7FB_FDFE))
    return _mm256_cmpeq_epi8(others, _mm256_set1_epi64x(-1))
}

@inline(__always)
func loadBytes32(_ p: UnsafeRawPointer) -> __m256i { _mm256_loadu_si256(p.assumingMemoryBound(to: __m256i.self)) }

@inline(__always)
func horizontalSum(_ v: __m256) -> Float { v.sum() }  // __m256 imports as SIMD8<Float>

/// acc + Float(lanes)·scale.
@inline(__always)
func scaledAdd(_ acc: __m256, _ lanes: __m256i, _ scale: Float) -> __m256 {
    _mm256_fmadd_ps(_mm256_set1_ps(scale), _mm256_cvtepi32_ps(lanes), acc)
}
#endif
