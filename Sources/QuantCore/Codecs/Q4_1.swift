import QuantFormats

/// Q4_1 — 32 weights per block, 5 bpw (`block_q4_1`):
///   d: f16 | m: f16 | qs: 16 bytes (j low nibble, j+16 high nibble).
///   x = d·q + m,  m = block min, d = (max − min)/15.
public enum Q4_1Codec: BlockCodec {
    public static let type = GGMLType.Q4_1
    public static let llamaCppActivations = LlamaCppActivations.q8_0
    public static let fields = [BlockField("d", 0, 2), BlockField("m", 2, 2), BlockField("qs", 4, 16)]

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        for block in 0..<count / 32 {
            let xb = x + block * 32, out = blocks + block * 20
            var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
            for j in 0..<32 {
                if xb[j] < lo { lo = xb[j] }
                if xb[j] > hi { hi = xb[j] }
            }
            let d = (hi - lo) / 15
            let id: Float = d != 0 ? 1 / d : 0
            out.storeHalf(d, at: 0)
            out.storeHalf(lo, at: 2)
            for j in 0..<16 {
                let q0 = min(15, truncatedInt((xb[j] - lo) * id + 0.5))
                let q1 = min(15, truncatedInt((xb[j + 16] - lo) * id + 0.5))
                out.storeByte(UInt8(q0 | q1 << 4), at: 4 + j)
            }
        }
    }

    /// `quantize_row_q4_1_impl`: per-block asymmetric search (`make_qkx3_quants`) with weights
    /// w = qw·√(σ² + x²).
    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>,
                                   into blocks: UnsafeMutableRawPointer) {
        LegacyWeighted.asymmetric(x, count: count, importance: importance, nmax: 15, blockBytes: 20, into: blocks) { d, m, levels, out in
            out.storeHalf(d, at: 0)
            out.storeHalf(m, at: 2)
            for j in 0..<16 { out.storeByte(levels[j] | levels[j + 16] << 4, at: 4 + j) }
        }
    }

    public static func dequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        for block in 0..<count / 32 {
            let b = blocks + block * 20, yb = y + block * 32
            let d = b.loadHalf(at: 0), m = b.loadHalf(at: 2)
            for j in 0..<16 {
                let q = b.loadByte(at: 4 + j)
                yb[j] = mulAdd(Float(q & 0x0F), d, m)
                yb[j + 16] = mulAdd(Float(q >> 4), d, m)
            }
        }
    }
}
