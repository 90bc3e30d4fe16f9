import QuantFormats

/// Q5_K — 256 weights per super-block of 8 × 32, 5.5 bpw (`block_q5_K`):
///   d: f16 | dmin: f16 | scales: 12 bytes (6-bit scales and mins) | qh: 32 bytes (fifth bits:
///   bit 2r of byte l for element 64r+l, bit 2r+1 for 64r+32+l) | qs: 128 bytes of low nibbles.
///   x = d·sc·q − dmin·m.
public enum Q5_KCodec: BlockCodec {
    public static let type = GGMLType.Q5_K
    public static let llamaCppActivations = LlamaCppActivations.q8_K
    public static let fallbackType: GGMLType? = .Q5_1
    public static let fields = [BlockField("d", 0, 2), BlockField("dmin", 2, 2), BlockField("scales", 4, 12),
                                BlockField("qh", 16, 32), BlockField("qs", 48, 128)]

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        KQuant32.quantizeReference(x, count: count, nmax: 31, rmin: -0.5, rdelta: 0.1, nstep: 15, blockBytes: 176, into: blocks,
                                   pack: { levels, out in pack(levels, out) })
    }

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>,
                                   into blocks: UnsafeMutableRawPointer) {
        KQuant32.quantizeWeighted(x, count: count, importance: importance, nmax: 31, blockBytes: 176, into: blocks,
                                  pack: { levels, out in pack(levels, out) })
    }

    private static func pack(_ levels: [UInt8], _ out: UnsafeMutableRawPointer) {
        var qh = [UInt8](repeating: 0, count: 32)
        var m1: UInt8 = 1, m2: UInt8 = 2
        for (run, n) in stride(from: 0, to: 256, by: 64).enumerated() {
            for j in 0..<32 {
                var l1 = levels[n + j], l2 = levels[n + j + 32]
                if l1 > 15 { l1 -= 16; qh[j] |= m1 }
                if l2 > 15 { l2 -= 16; qh[j] |= m2 }
                out.storeByte(l1 | l2 << 4, at: 48 + run * 32 + j)
            }
            m1 <<= 2
            m2 <<= 2
        }
        for j in 0..<32 { out.storeByte(qh[j], at: 16 + j) }
    }

    public static func dequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        for block in 0..<count / 256 {
            let b = blocks + block * 176
            var yb = y + block * 256
            let d = b.loadHalf(at: 0), dmin = b.loadHalf(at: 2)
            var u1: UInt8 = 1, u2: UInt8 = 2
            for run in 0..<4 {
                let (sc1, m1) = KQuantPacking.scaleMin(2 * run, b + 4)
                let (sc2, m2) = KQuantPacking.scaleMin(2 * run + 1, b + 4)
                let d1 = d * Float(sc1), min1 = dmin * Float(m1)
                let d2 = d * Float(sc2), min2 = dmin * Float(m2)
                let ql = 48 + run * 32
                for l in 0..<32 {
                    let high: UInt8 = b.loadByte(at: 16 + l) & u1 != 0 ? 16 : 0
                    yb[l] = mulAdd(d1, Float((b.loadByte(at: ql + l) & 0xF) + high), -min1)
                }
                for l in 0..<32 {
                    let high: UInt8 = b.loadByte(at: 16 + l) & u2 != 0 ? 16 : 0
                    yb[32 + l] = mulAdd(d2, Float((b.loadByte(at: ql + l) >> 4) + high), -min2)
                }
                yb += 64
                u1 <<= 2
                u2 <<= 2
            }
        }
    }
}
