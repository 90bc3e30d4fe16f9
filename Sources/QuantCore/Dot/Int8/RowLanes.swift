#if arch(x86_64) && AVX2
import _Builtin_intrinsics.intel

/// Generation kernels with one row per 32-bit lane, as llama.cpp's `block_q4_0x8` gemv does, for
/// the types whose block is an f16 scale followed by plain level bytes (Q4_0, Q8_0): eight
/// rows' scales side by side (one `vcvtph2ps` gives all eight), then their levels four bytes
/// at a time, so one `pmaddubsw` against four broadcast activation bytes advances all eight
/// rows. The generic eight-row kernel (`interleavedBlockDot8`) keeps one row per register
/// instead and pays a conversion and an FMA per row and block, and a horizontal sum per row.
///
/// Layout of one group of eight rows, per block of 32 columns (eight times the stored block
/// size): the eight f16 scales (16 bytes), then the level bytes in 32-byte chunks; in chunk c,
/// bytes 4r…4r+3 are row r's level bytes 4c…4c+3.
enum RowLanes {
    static func repack(_ data: UnsafeRawPointer, rows: Int, rowBytes: Int, blockBytes: Int, into out: UnsafeMutableRawPointer) {
        let blocks = rowBytes / blockBytes, chunks = (blockBytes - 2) / 4
        for group in 0..<rows / 8 {
            for block in 0..<blocks {
                let target = out + (group * blocks + block) * 8 * blockBytes
                for r in 0..<8 {
                    let source = data + (group * 8 + r) * rowBytes + block * blockBytes
                    (target + 2 * r).copyMemory(from: source, byteCount: 2)
                    for c in 0..<chunks {
                        (target + 16 + 32 * c + 4 * r).copyMemory(from: source + 2 + 4 * c, byteCount: 4)
                    }
                }
            }
        }
    }

    static func kernel(blockBytes: Int, dot8: @escaping @Sendable (UnsafeRawPointer, QuantizedActivations, Int, UnsafeMutablePointer<Float>) -> Void) -> InterleavedKernel {
        InterleavedKernel(blockBytes: blockBytes, repack: { repack($0, rows: $1, rowBytes: $2, blockBytes: blockBytes, into: $3) }, run: dot8)
    }

    /// The eight scales of a block as f32 lanes.
    @inline(__always)
    static func scales(_ b: UnsafeRawPointer) -> __m256 { _mm256_cvtph_ps(_mm_loadu_si128(b.assumingMemoryBound(to: __m128i.self))) }

    /// Activation bytes 4c…4c+3 of block `y` in every lane.
    @inline(__always)
    static func broadcast(_ y: UnsafeRawPointer, _ c: Int) -> __m256i { _mm256_set1_epi32(y.loadUnaligned(fromByteOffset: 4 * c, as: Int32.self)) }

    /// Q4_0. The nibbles enter the product unsigned (0…15) and the offset of 8 comes back through
    /// the activations' block sums: Σ(q−8)·y = Σq·y − 8·Σy. Eight `pmaddubsw` results add up in
    /// 16 bits without saturating: 8 · 2 · 15 · 127 = 30 480 < 32 767 (activation levels are ±127).
    static let q4_0 = kernel(blockBytes: 18) { base, x, columns, out in
        let low = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1)
        let levels = UnsafeRawPointer(x.levels), activationScales = x.scales, sums = x.scaledSums
        var acc = _mm256_setzero_ps()
        for block in 0..<columns / 32 {
            let b = base + block * 8 * 18, y = levels + 32 * block
            @inline(__always) func chunk(_ c: Int) -> __m256i {
                let w = loadBytes32(b + 16 + 32 * c)
                return _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_and_si256(w, low), broadcast(y, c)),
                                        _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(w, 4), low), broadcast(y, 4 + c)))
            }
            let pairs = _mm256_add_epi16(_mm256_add_epi16(chunk(0), chunk(1)), _mm256_add_epi16(chunk(2), chunk(3)))
            let dots = _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, ones))
            // d·(sy·Σq·y − 8·sy·Σy) for all eight rows.
            acc = _mm256_fmadd_ps(scales(b), _mm256_fmadd_ps(dots, _mm256_set1_ps(activationScales[block]), _mm256_set1_ps(-8 * sums[block])), acc)
        }
        UnsafeMutableRawPointer(out).storeBytes(of: acc, as: __m256.self)
    }

    /// Q8_0: signed levels, so |w| meets y carrying w's sign (`signedByteDot`); pair sums reach
    /// 2 · 128 · 127 and are widened to 32 bits per chunk.
    static let q8_0 = kernel(blockBytes: 34) { base, x, columns, out in
        let levels = UnsafeRawPointer(x.levels), activationScales = x.scales
        var acc = _mm256_setzero_ps()
        for block in 0..<columns / 32 {
            let b = base + block * 8 * 34, y = levels + 32 * block
            @inline(__always) func chunk(_ c: Int) -> __m256i { signedByteDot(loadBytes32(b + 16 + 32 * c), broadcast(y, c)) }
            let sum = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(chunk(0), chunk(1)), _mm256_add_epi32(chunk(2), chunk(3))),
                                       _mm256_add_epi32(_mm256_add_epi32(chunk(4), chunk(5)), _mm256_add_epi32(chunk(6), chunk(7))))
            acc = _mm256_fmadd_ps(_mm256_mul_ps(scales(b), _mm256_set1_ps(activationScales[block])), _mm256_cvtepi32_ps(sum), acc)
        }
        UnsafeMutableRawPointer(out).storeBytes(of: acc, as: __m256.self)
    }
}
#endif
