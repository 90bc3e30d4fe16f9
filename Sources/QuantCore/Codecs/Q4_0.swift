import QuantFormats

/// Q4_0 — 32 weights per block, 4.5 bpw (`block_q4_0`):
///   d: f16 | qs: 16 bytes, element j in the low nibble of byte j, element j+16 in the high nibble.
///   x = d·(q − 8),  d = max/−8 where max is the signed value of largest magnitude.
public enum Q4_0Codec: BlockCodec {
    public static let type = GGMLType.Q4_0
    public static let llamaCppActivations = LlamaCppActivations.q8_0
    public static let fields = [BlockField("d", 0, 2), BlockField("qs", 2, 16)]

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        for block in 0..<count / 32 {
            let xb = x + block * 32, out = blocks + block * 18
            let (_, max) = signedAbsMax(xb, 32)
            let d = max / -8
            let id: Float = d != 0 ? 1 / d : 0
            out.storeHalf(d, at: 0)
            for j in 0..<16 {
                // (int8_t)(x·id + 8.5): truncation, after two roundings.
                let q0 = min(15, truncatedInt(xb[j] * id + 8.5))
                let q1 = min(15, truncatedInt(xb[j + 16] * id + 8.5))
                out.storeByte(UInt8(q0 | q1 << 4), at: 2 + j)
            }
        }
    }

    /// `quantize_row_q4_0_impl`: per-block symmetric search with weights w = qw·√(σ² + x²),
    /// σ² the mean square of the whole row.
    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>,
                                   into blocks: UnsafeMutableRawPointer) {
        LegacyWeighted.symmetric(x, count: count, importance: importance, nmax: 8, blockBytes: 18, into: blocks) { d, levels, out in
            out.storeHalf(d, at: 0)
            for j in 0..<16 { out.storeByte(UInt8(levels[j]) | UInt8(levels[j + 16]) << 4, at: 2 + j) }
        }
    }

    public static func dequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        for block in 0..<count / 32 {
            let b = blocks + block * 18, yb = y + block * 32
            let d = b.loadHalf(at: 0)
            for j in 0..<16 {
                let q = b.loadByte(at: 2 + j)
                yb[j] = Float(Int32(q & 0x0F) - 8) * d
                yb[j + 16] = Float(Int32(q >> 4) - 8) * d
            }
        }
    }
}
