/// Q4_0 weights repacked for generation: rows in groups of eight, and for each block index the
/// eight rows' f16 scales (16 bytes) followed by their eight 16-byte nibble arrays — one
/// contiguous stream that feeds eight rows per activation block. llama.cpp's CPU backend does
/// the same at load time (`block_q4_0x8`); reading eight separate row streams instead stalled on
/// memory (see `Int8BlockDot`).
public enum InterleavedQ4_0 {
    public static let rowsPerGroup = 8
    static let groupBlockBytes = 8 * 18

    /// Whether a matrix can be interleaved (and the integer kernels exist on this build).
    public static func applies(rows: Int, columns: Int) -> Bool {
        #if arch(x86_64) && AVX2
        return rows % rowsPerGroup == 0 && columns % 32 == 0
        #else
        return false
        #endif
    }

    /// The interleaved copy of `rows` rows of stored Q4_0 blocks.
    public static func repack(_ data: UnsafeRawPointer, rows: Int, columns: Int, into out: UnsafeMutableRawPointer) {
        let blocks = columns / 32, rowBytes = blocks * 18
        for group in 0..<rows / rowsPerGroup {
            for block in 0..<blocks {
                let target = out + (group * blocks + block) * groupBlockBytes
                for r in 0..<rowsPerGroup {
                    let source = data + (group * rowsPerGroup + r) * rowBytes + block * 18
                    (target + 2 * r).copyMemory(from: source, byteCount: 2)
                    (target + 16 + 16 * r).copyMemory(from: source + 2, byteCount: 16)
                }
            }
        }
    }

    public static func byteCount(rows: Int, columns: Int) -> Int { rows / rowsPerGroup * (columns / 32) * groupBlockBytes }
}

#if arch(x86_64) && AVX2
import _Builtin_intrinsics.intel

extension InterleavedQ4_0 {
    /// The dots of the eight rows of group `group` with `x`, into out[0…7]. Each row's sum runs
    /// over the blocks in order in one accumulator (the per-row kernel alternates two), so results
    /// agree with `Q4_0Codec.dot` to rounding, not bit for bit.
    public static func dot8(_ interleaved: UnsafeRawPointer, group: Int, _ x: QuantizedActivations, columns: Int,
                            into out: UnsafeMutablePointer<Float>) {
        let halves = HalfTable.pointer, levels = x.levels, scales = x.scales
        let blocks = columns / 32
        let base = interleaved + group * blocks * groupBlockBytes
        let eight = _mm256_set1_epi8(8)
        var a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0
        for block in 0..<blocks {
            let b = base + block * groupBlockBytes
            let y = loadBytes32(levels + 32 * block), sy = scales[block]
            @inline(__always) func row(_ r: Int, _ acc: inout __m256) {
                let q = _mm256_sub_epi8(nibbleBytes32(b + 16 + 16 * r), eight)
                acc = scaledAdd(acc, signedByteDot(q, y), halfScale(halves, b, 2 * r) * sy)
            }
            row(0, &a0); row(1, &a1); row(2, &a2); row(3, &a3)
            row(4, &a4); row(5, &a5); row(6, &a6); row(7, &a7)
        }
        out[0] = horizontalSum(a0); out[1] = horizontalSum(a1); out[2] = horizontalSum(a2); out[3] = horizontalSum(a3)
        out[4] = horizontalSum(a4); out[5] = horizontalSum(a5); out[6] = horizontalSum(a6); out[7] = horizontalSum(a7)
    }
}
#endif
