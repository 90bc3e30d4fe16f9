import QuantFormats
#if arch(x86_64) && AVX2
import _Builtin_intrinsics.intel
#endif

/// Fused decode-and-dot: Σⱼ wⱼ·xⱼ over one stored row against f32 activations, decoding each
/// block into SIMD registers instead of writing the row out as floats first.
///
/// This is the single-token (generation) path. Decoding a row to memory and reading it back
/// costs more than the arithmetic itself, so a matrix-vector product that goes through f32 tiles
/// is bound by the decode stores, not by memory bandwidth. Sums are reordered (lane-wise partial
/// sums), so results differ from the tile path in the last bits; they are not part of any
/// bit-exactness promise (`FastBlockCodec` is).
public protocol RowDotCodec: BlockCodec {
    /// The order the kernel wants the activations in (prepared once per product, reused for
    /// every row).
    static var activationLayout: ActivationLayout { get }
    /// `x` is in `activationLayout` order.
    static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float
}

extension RowDotCodec {
    public static var activationLayout: ActivationLayout { .natural }
}

/// How a kernel's activations are ordered.
public enum ActivationLayout: Sendable {
    case natural
    /// Within each group of 32: x'[8k + i] = x[4i + k]. A kernel that loads 32 level bytes as
    /// eight 32-bit words and takes byte k of every word with one shift then holds elements
    /// 4i + k in lane i, which meet x' lane for lane. This keeps the K-quant kernels to shifts,
    /// masks and float arithmetic: the standard library's lane-widening conversions stop being
    /// inlined in kernels this size and become calls per vector. After the count floats come
    /// count/4 lane sums, eight per group: Σₖ x'[8k + i] (the Σx that the K-quants' minimums
    /// and offsets multiply, computed once per product instead of once per row).
    case interleaved32

    /// Floats `arrange` writes for `count` activations.
    public func arrangedCount(_ count: Int) -> Int {
        switch self {
        case .natural: count
        case .interleaved32: count + count / 4
        }
    }

    /// `x` (count floats, a multiple of 32 for `interleaved32`) in this layout.
    public func arrange(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        switch self {
        case .natural:
            y.update(from: x, count: count)
        case .interleaved32:
            for group in stride(from: 0, to: count, by: 32) {
                for k in 0..<4 {
                    for i in 0..<8 { y[group + 8 * k + i] = x[group + 4 * i + k] }
                }
                let sums = y + count + group / 4
                for i in 0..<8 { sums[i] = (y[group + i] + y[group + 8 + i]) + (y[group + 16 + i] + y[group + 24 + i]) }
            }
        }
    }
}

extension CodecRegistry {
    /// The fused dot of `type`, or nil when rows must be decoded first.
    public static func rowDot(for type: GGMLType) -> (any RowDotCodec.Type)? { codec(for: type) as? any RowDotCodec.Type }
}

/// Σ xᵢ·yᵢ of two f32 vectors in 8 lanes (for rows decoded to floats first).
@inline(__always)
public func dotFloats(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
    var i = 0
    while i + 16 <= count {
        acc0 = multiplyAdd(acc0, floats8(x + i), floats8(y + i))
        acc1 = multiplyAdd(acc1, floats8(x + i + 8), floats8(y + i + 8))
        i += 16
    }
    var sum = (acc0 + acc1).sum()
    while i < count {
        sum += x[i] * y[i]
        i += 1
    }
    return sum
}

// MARK: - SIMD pieces shared by the kernels
//
// Everything is written in 8 lanes: the standard library's lane-type conversions
// (`SIMD8<Int32>(truncatingIfNeeded:)`, `SIMD8<Float>(_:)`) inline into packed instructions at
// that width, while at 16 lanes they stay out-of-line calls that cost more than the work.

/// A block's f16 scale, looked up in `HalfTable.pointer` (fetched once per row by the caller):
/// a global's once-check per block showed up in profiles, and widening in integer arithmetic
/// invites the SLP vectorizer to pair the scale computations and scalarize the lanes around them.
/// (Measured against F16C's scalar `_cvtsh_ss`: the table is faster, one thread, SmolLM2 Q8_0
/// 67–70 vs 51 t/s, Q4_0 72–80 vs 64 t/s.)
@inline(__always)
func halfScale(_ halves: UnsafePointer<Float>, _ b: UnsafeRawPointer, _ offset: Int) -> Float { halves[Int(b.loadUInt16(at: offset))] }

/// acc + a·b, fused where the build targets FMA (Package.swift defines FMA with native codegen;
/// without it `addingProduct` would be a libm call per lane).
@inline(__always)
func multiplyAdd(_ acc: SIMD8<Float>, _ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    #if FMA
    acc.addingProduct(a, b)
    #else
    acc + a * b
    #endif
}

@inline(__always)
func floats8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// Eight little-endian 32-bit words (32 level bytes).
@inline(__always)
func words8(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD8<UInt32> {
    p.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt32>.self)
}

/// Levels below 2²³ as floats without a conversion instruction: placed in the mantissa of
/// 2²³, the float is 2²³ + level exactly.
@inline(__always)
func magicFloats8(_ levels: SIMD8<UInt32>) -> SIMD8<Float> {
    unsafeBitCast(levels | 0x4B00_0000, to: SIMD8<Float>.self) - 8_388_608
}

/// Eight bytes zero-extended to 32-bit lanes (`vpmovzxbd`). Level arithmetic (masks, shifts,
/// fifth bits) then happens in 32-bit lanes: left in byte lanes, LLVM narrows `Float(q) − 8`
/// into byte arithmetic and scalarizes the conversion.
@inline(__always)
func byteWords8(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD8<UInt32> {
    #if arch(x86_64) && AVX2
    unsafeBitCast(_mm256_cvtepu8_epi32(eightBytes(p + offset)), to: SIMD8<UInt32>.self)
    #else
    SIMD8<UInt32>(truncatingIfNeeded: p.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt8>.self))
    #endif
}

/// Levels (< 2³¹) as floats.
@inline(__always)
func floats8(_ levels: SIMD8<UInt32>) -> SIMD8<Float> { SIMD8<Float>(unsafeBitCast(levels, to: SIMD8<Int32>.self)) }

/// Signed bytes as floats.
@inline(__always)
func signedLevels8(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD8<Float> {
    #if arch(x86_64) && AVX2
    _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(eightBytes(p + offset)))  // __m256 imports as SIMD8<Float>
    #else
    SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: p.loadUnaligned(fromByteOffset: offset, as: SIMD8<Int8>.self)))
    #endif
}

#if arch(x86_64) && AVX2
/// Eight bytes in the low half of a vector. Why intrinsics for the widenings above: the standard
/// library's `SIMD8<Int32>(truncatingIfNeeded: SIMD8<Int8>)` is inlined or not at the optimizer's
/// whim — after unrelated code was added to this module it became an out-of-line call per vector
/// in every legacy kernel (12 % of Q8_0 generation in a profile; one thread, 65–70 t/s before,
/// 67–70 after).
@inline(__always)
func eightBytes(_ p: UnsafeRawPointer) -> __m128i {
    _mm_cvtsi64_si128(Int64(bitPattern: p.loadUnaligned(as: UInt64.self)))
}
#endif

/// 16 where bit `first + lane` of `bits` is set, else 0: the fifth bit of Q5_0/Q5_1 levels.
@inline(__always)
func fifthBits8(_ bits: UInt32, from first: UInt32) -> SIMD8<UInt32> {
    ((SIMD8<UInt32>(repeating: bits) &>> (SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7) &+ first)) & 1) &<< 4
}
