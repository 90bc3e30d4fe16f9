import QuantFormats

/// Q5_0 — 32 weights per block, 5.5 bpw (`block_q5_0`):
///   d: f16 | qh: 4 bytes, bit j = 5th bit of element j | qs: 16 bytes of low nibbles
///   (j low, j+16 high).  x = d·(q − 16),  d = max/−16.
public enum Q5_0Codec: BlockCodec {
    public static let type = GGMLType.Q5_0
    public static let llamaCppActivations = LlamaCppActivations.q8_0
    public static let fields = [BlockField("d", 0, 2), BlockField("qh", 2, 4), BlockField("qs", 6, 16)]

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        for block in 0..<count / 32 {
            let xb = x + block * 32, out = blocks + block * 22
            let (_, max) = signedAbsMax(xb, 32)
            let d = max / -16
            let id: Float = d != 0 ? 1 / d : 0
            out.storeHalf(d, at: 0)
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { levels in
                for j in 0..<32 { levels[j] = UInt8(truncatingIfNeeded: min(31, truncatedInt(xb[j] * id + 16.5))) }
                pack5(levels.baseAddress!, into: out)
            }
        }
    }

    /// `quantize_row_q5_0_impl`: symmetric search with w = qw·√(σ² + x²).
    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>,
                                   into blocks: UnsafeMutableRawPointer) {
        LegacyWeighted.symmetric(x, count: count, importance: importance, nmax: 16, blockBytes: 22, into: blocks) { d, levels, out in
            out.storeHalf(d, at: 0)
            UnsafeRawPointer(levels).withMemoryRebound(to: UInt8.self, capacity: 32) { pack5($0, into: out) }
        }
    }

    /// Writes 32 five-bit levels as qh (fifth bits) at offset 2 and qs (low nibbles) at offset 6.
    static func pack5(_ levels: UnsafePointer<UInt8>, into out: UnsafeMutableRawPointer, qhOffset: Int = 2) {
        var qh: UInt32 = 0
        for j in 0..<16 {
            let l0 = levels[j], l1 = levels[j + 16]
            out.storeByte((l0 & 0x0F) | (l1 & 0x0F) << 4, at: qhOffset + 4 + j)
            qh |= UInt32(l0 >> 4 & 1) << j
            qh |= UInt32(l1 >> 4 & 1) << (j + 16)
        }
        out.storeUInt32(qh, at: qhOffset)
    }

    public static func dequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        for block in 0..<count / 32 {
            let b = blocks + block * 22, yb = y + block * 32
            let d = b.loadHalf(at: 0), qh = b.loadUInt32(at: 2)
            for j in 0..<16 {
                let q = b.loadByte(at: 6 + j)
                let h0 = Int32((qh >> j) & 1) << 4, h1 = Int32((qh >> (j + 16)) & 1) << 4
                yb[j] = Float((Int32(q & 0x0F) | h0) - 16) * d
                yb[j + 16] = Float((Int32(q >> 4) | h1) - 16) * d
            }
        }
    }
}
