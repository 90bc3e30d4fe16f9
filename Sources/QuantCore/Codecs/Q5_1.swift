import QuantFormats

/// Q5_1 — 32 weights per block, 6 bpw (`block_q5_1`):
///   d: f16 | m: f16 | qh: 4 bytes of fifth bits | qs: 16 bytes of low nibbles.
///   x = d·q + m,  d = (max − min)/31.
public enum Q5_1Codec: BlockCodec {
    public static let type = GGMLType.Q5_1
    public static let llamaCppActivations = LlamaCppActivations.q8_0
    public static let fields = [BlockField("d", 0, 2), BlockField("m", 2, 2), BlockField("qh", 4, 4), BlockField("qs", 8, 16)]

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        for block in 0..<count / 32 {
            let xb = x + block * 32, out = blocks + block * 24
            var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
            for j in 0..<32 {
                if xb[j] < lo { lo = xb[j] }
                if xb[j] > hi { hi = xb[j] }
            }
            let d = (hi - lo) / 31
            let id: Float = d != 0 ? 1 / d : 0
            out.storeHalf(d, at: 0)
            out.storeHalf(lo, at: 2)
            // (uint8_t)(x + 0.5): no clamp in the reference.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { levels in
                for j in 0..<32 { levels[j] = UInt8(truncatingIfNeeded: truncatedInt((xb[j] - lo) * id + 0.5)) }
                Q5_0Codec.pack5(levels.baseAddress!, into: out, qhOffset: 4)
            }
        }
    }

    /// `quantize_row_q5_1_impl`: asymmetric search (`make_qkx3_quants`, nmax 31).
    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>,
                                   into blocks: UnsafeMutableRawPointer) {
        LegacyWeighted.asymmetric(x, count: count, importance: importance, nmax: 31, blockBytes: 24, into: blocks) { d, m, levels, out in
            out.storeHalf(d, at: 0)
            out.storeHalf(m, at: 2)
            Q5_0Codec.pack5(levels, into: out, qhOffset: 4)
        }
    }

    public static func dequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        for block in 0..<count / 32 {
            let b = blocks + block * 24, yb = y + block * 32
            let d = b.loadHalf(at: 0), m = b.loadHalf(at: 2), qh = b.loadUInt32(at: 4)
            for j in 0..<16 {
                let q = b.loadByte(at: 8 + j)
                let h0 = UInt8((qh >> j) & 1) << 4, h1 = UInt8((qh >> (j + 16)) & 1) << 4
                yb[j] = mulAdd(Float((q & 0x0F) | h0), d, m)
                yb[j + 16] = mulAdd(Float((q >> 4) | h1), d, m)
            }
        }
    }
}
