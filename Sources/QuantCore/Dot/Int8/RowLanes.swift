#if arch(x86_64) && AVX2
import _Builtin_intrinsics.intel

/// Generation kernels with one row per 32-bit lane, as llama.cpp's `block_q4_0x8` gemv does, for
/// the types whose block is an f16 scale followed by level bytes (Q4_0, Q5_0, Q8_0): eight
/// rows' scales side by side (one `vcvtph2ps` gives all eight), then their levels four bytes
/// at a time, so one `pmaddubsw` against four broadcast activation bytes advances all eight
/// rows. The generic eight-row kernel (`interleavedBlockDot8`) keeps one row per register
/// instead and pays a conversion and an FMA per row and block, and a horizontal sum per row.
///
/// Layout of one group of eight rows, per block of 32 columns (eight times the stored block
/// size): the eight f16 scales (16 bytes), any per-type side data (Q5_0's fifth bits), then the
/// level bytes in 32-byte chunks; in chunk c, bytes 4r…4r+3 are row r's level bytes 4c…4c+3.
enum RowLanes {
    /// Writes the layout for blocks of `blockBytes` whose level bytes start at `payloadOffset`;
    /// `sideData(block, area)` fills the bytes between the scales and the levels (Q5_0's fifth
    /// bits), `payloadOffset − 2` bytes per row, for all eight rows together.
    static func repack(_ data: UnsafeRawPointer, rows: Int, rowBytes: Int, blockBytes: Int, payloadOffset: Int = 2,
                       into out: UnsafeMutableRawPointer, sideData: (_ block: UnsafeRawPointer, _ area: UnsafeMutableRawPointer) -> Void = { _, _ in }) {
        let blocks = rowBytes / blockBytes, chunks = (blockBytes - payloadOffset) / 4
        let levelsStart = 16 + 8 * (payloadOffset - 2)
        for group in 0..<rows / 8 {
            for block in 0..<blocks {
                let target = out + (group * blocks + block) * 8 * blockBytes
                for r in 0..<8 {
                    let source = data + (group * 8 + r) * rowBytes + block * blockBytes
                    (target + 2 * r).copyMemory(from: source, byteCount: 2)
                    sideData(source, target + 16 + r)
                    for c in 0..<chunks {
                        (target + levelsStart + 32 * c + 4 * r).copyMemory(from: source + payloadOffset + 4 * c, byteCount: 4)
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

    /// Q5_0: the Q4_0 kernel plus each level's fifth bit. The repack regroups the bits per chunk:
    /// byte 8c + r of the 32 bytes after the scales holds row r's fifth bits of columns 4c…4c+3
    /// (bits 0–3) and 16+4c…16+4c+3 (bits 4–7), so one 8-byte broadcast and a byte shuffle put
    /// each row's bits in its lane. Levels 0…31 with the offset of 16 through the activation
    /// sums; two `pmaddubsw` results fit 16 bits (2 · 2 · 31 · 127 = 15 748), so each chunk is
    /// widened to 32 bits.
    static let q5_0 = InterleavedKernel(blockBytes: 22, repack: { data, rows, rowBytes, out in
        repack(data, rows: rows, rowBytes: rowBytes, blockBytes: 22, payloadOffset: 6, into: out) { source, target in
            let high = source.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
            for c in 0..<4 {
                let bits = UInt8(truncatingIfNeeded: (high >> UInt32(4 * c)) & 0xF | ((high >> UInt32(16 + 4 * c)) & 0xF) << 4)
                target.storeBytes(of: bits, toByteOffset: 8 * c, as: UInt8.self)
            }
        }
    }, run: { base, x, columns, out in
        let low = _mm256_set1_epi8(0x0F), fifth = _mm256_set1_epi8(0x10), ones = _mm256_set1_epi16(1)
        let spread = _mm256_set_epi32(0x0707_0707, 0x0606_0606, 0x0505_0505, 0x0404_0404, 0x0303_0303, 0x0202_0202, 0x0101_0101, 0)
        let lowBits = _mm256_set1_epi32(0x0804_0201), highBits = _mm256_set1_epi32(Int32(bitPattern: 0x8040_2010))
        let levels = UnsafeRawPointer(x.levels), activationScales = x.scales, sums = x.scaledSums
        var acc = _mm256_setzero_ps()
        for block in 0..<columns / 32 {
            let b = base + block * 8 * 22, y = levels + 32 * block
            @inline(__always) func chunk(_ c: Int) -> __m256i {
                let w = loadBytes32(b + 48 + 32 * c)
                let bits = _mm256_shuffle_epi8(_mm256_set1_epi64x(b.loadUnaligned(fromByteOffset: 16 + 8 * c, as: Int64.self)), spread)
                let lowFifth = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(bits, lowBits), lowBits), fifth)
                let highFifth = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(bits, highBits), highBits), fifth)
                let pairs = _mm256_add_epi16(
                    _mm256_maddubs_epi16(_mm256_or_si256(_mm256_and_si256(w, low), lowFifth), broadcast(y, c)),
                    _mm256_maddubs_epi16(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(w, 4), low), highFifth), broadcast(y, 4 + c)))
                return _mm256_madd_epi16(pairs, ones)
            }
            let dots = _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_add_epi32(chunk(0), chunk(1)), _mm256_add_epi32(chunk(2), chunk(3))))
            acc = _mm256_fmadd_ps(scales(b), _mm256_fmadd_ps(dots, _mm256_set1_ps(activationScales[block]), _mm256_set1_ps(-16 * sums[block])), acc)
        }
        UnsafeMutableRawPointer(out).storeBytes(of: acc, as: __m256.self)
    })

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
