import QuantFormats

/// Weights of the 32-element block types repacked for generation: rows in groups of eight, and
/// for each block index the eight rows' blocks side by side — one contiguous stream that feeds
/// eight rows per activation block. llama.cpp's CPU backend repacks Q4_0 and IQ4_NL this way at
/// load time (`block_q4_0x8`, `block_iq4_nlx4`); reading eight separate row streams instead
/// stalled on memory (see `Int8BlockDot`). Measured on the test bed, Q4_0, 1 thread: 77–80 →
/// 89–99 tokens/s (llama.cpp 81–93 in the same run).
public enum InterleavedRows {
    public static let rowsPerGroup = 8

    /// The eight-row kernel for `type`, nil when there is none (or the rows are not whole groups
    /// of eight). Looked up once per matrix: a protocol cast per eight rows would sit in the
    /// generation hot path.
    public static func kernel(for type: GGMLType, rows: Int) -> InterleavedKernel? {
        guard rows % rowsPerGroup == 0 else { return nil }
        #if arch(x86_64) && AVX2
        return kernels[type]
        #else
        return nil
        #endif
    }

    #if arch(x86_64) && AVX2
    /// One row per lane where the block is a scale and plain levels (`RowLanes`); the others read
    /// whole blocks side by side through the generic eight-row kernel, specialized per type here.
    static let kernels: [GGMLType: InterleavedKernel] = [
        .Q4_0: RowLanes.q4_0, .Q5_0: RowLanes.q5_0, .Q8_0: RowLanes.q8_0,
        .Q4_1: blockKernel(Q4_1Codec.self), .Q5_1: blockKernel(Q5_1Codec.self), .IQ4_NL: blockKernel(IQ4_NLCodec.self),
    ]

    private static func blockKernel<C: Int8BlockDot>(_ codec: C.Type) -> InterleavedKernel {
        let blockBytes = C.blockStride
        return InterleavedKernel(blockBytes: blockBytes,
                                 repack: { repack($0, rows: $1, rowBytes: $2, blockBytes: blockBytes, into: $3) },
                                 run: { interleavedBlockDot8(C.self, $0, $1, columns: $2, into: $3) })
    }
    #endif

    public static func byteCount(rows: Int, rowBytes: Int) -> Int { rows * rowBytes }

    /// The interleaved copy of `rows` stored rows of `blockBytes`-byte blocks.
    public static func repack(_ data: UnsafeRawPointer, rows: Int, rowBytes: Int, blockBytes: Int, into out: UnsafeMutableRawPointer) {
        let blocks = rowBytes / blockBytes
        for group in 0..<rows / rowsPerGroup {
            let groupBase = out + group * rowsPerGroup * rowBytes
            for block in 0..<blocks {
                for r in 0..<rowsPerGroup {
                    (groupBase + (block * rowsPerGroup + r) * blockBytes)
                        .copyMemory(from: data + (group * rowsPerGroup + r) * rowBytes + block * blockBytes, byteCount: blockBytes)
                }
            }
        }
    }
}

/// One type's eight-row kernel and the layout it reads (each group of eight rows keeps its
/// stored size, so the copy is as large as the stored matrix).
public struct InterleavedKernel: Sendable {
    public let blockBytes: Int
    /// Writes the kernel's layout of `rows` stored rows of `rowBytes` bytes.
    let repack: @Sendable (_ data: UnsafeRawPointer, _ rows: Int, _ rowBytes: Int, _ out: UnsafeMutableRawPointer) -> Void
    let run: @Sendable (UnsafeRawPointer, QuantizedActivations, Int, UnsafeMutablePointer<Float>) -> Void

    public func repack(_ data: UnsafeRawPointer, rows: Int, rowBytes: Int, into out: UnsafeMutableRawPointer) {
        repack(data, rows, rowBytes, out)
    }

    /// The dots of the eight rows of `group` with `x`, into out[0…7].
    @inline(__always)
    public func dot8(_ interleaved: UnsafeRawPointer, group: Int, rowBytes: Int, _ x: QuantizedActivations, columns: Int,
                     into out: UnsafeMutablePointer<Float>) {
        run(interleaved + group * InterleavedRows.rowsPerGroup * rowBytes, x, columns, out)
    }
}

#if arch(x86_64) && AVX2
import _Builtin_intrinsics.intel

/// Eight rows at once from the interleaved layout, written once and specialized per type like
/// `blockRowDot`. Each row's sum runs over the blocks in order in one
/// accumulator (the per-row kernel alternates two), so results agree with `dot` to rounding, not
/// bit for bit.
@inline(__always)
func interleavedBlockDot8<C: Int8BlockDot>(_: C.Type, _ base: UnsafeRawPointer, _ x: QuantizedActivations, columns: Int,
                                           into out: UnsafeMutablePointer<Float>) {
    let halves = HalfTable.pointer, constant = C.blockConstant
    let levels = x.levels, scales = x.scales, sums = x.scaledSums
    let stride = C.blockStride, blocks = columns / 32
    var a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0
    var minimums = SIMD8<Float>()
    for block in 0..<blocks {
        let b = base + block * InterleavedRows.rowsPerGroup * stride
        let y = loadBytes32(levels + 32 * block), sy = scales[block]
        @inline(__always) func row(_ r: Int, _ acc: inout __m256) {
            let rb = b + r * stride
            acc = scaledAdd(acc, C.blockLanes(rb, y, constant), halfScale(halves, rb, 0) * sy)
            if let m = C.minimumOffset { minimums[r] += halfScale(halves, rb, m) * sums[block] }
        }
        row(0, &a0); row(1, &a1); row(2, &a2); row(3, &a3)
        row(4, &a4); row(5, &a5); row(6, &a6); row(7, &a7)
    }
    out[0] = horizontalSum(a0) + minimums[0]; out[1] = horizontalSum(a1) + minimums[1]
    out[2] = horizontalSum(a2) + minimums[2]; out[3] = horizontalSum(a3) + minimums[3]
    out[4] = horizontalSum(a4) + minimums[4]; out[5] = horizontalSum(a5) + minimums[5]
    out[6] = horizontalSum(a6) + minimums[6]; out[7] = horizontalSum(a7) + minimums[7]
}
#endif
