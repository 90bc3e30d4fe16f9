import QuantFormats

/// Q6_K — 256 weights per super-block of 16 × 16, 6.5625 bpw (`block_q6_K`):
///   ql: 128 bytes of low nibbles | qh: 64 bytes of high 2-bit pairs | scales: 16 × int8 | d: f16.
///   x = d·sc·(q − 32).
public enum Q6_KCodec: BlockCodec {
    public static let type = GGMLType.Q6_K
    public static let llamaCppActivations = LlamaCppActivations.q8_K
    public static let fallbackType: GGMLType? = .Q8_0
    public static let fields = [BlockField("ql", 0, 128), BlockField("qh", 128, 64), BlockField("scales", 192, 16), BlockField("d", 208, 2)]

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        quantize(x, count: count, importance: nil, into: blocks)
    }

    /// `quantize_row_q6_K_impl`: the importance values are the search weights as they are.
    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>,
                                   into blocks: UnsafeMutableRawPointer) {
        quantize(x, count: count, importance: importance, into: blocks)
    }

    private static func quantize(_ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>?, into blocks: UnsafeMutableRawPointer) {
        var levels = [Int8](repeating: 0, count: 256)
        var scales = [Float](repeating: 0, count: 16)
        for block in 0..<count / 256 {
            let xb = x + block * 256, out = blocks + block * 210
            var maxScale: Float = 0, maxAbsScale: Float = 0
            for group in 0..<16 {
                scales[group] = levels.withUnsafeMutableBufferPointer {
                    KQuantSearch.symmetric(16, nmax: 32, xb + 16 * group, $0.baseAddress! + 16 * group,
                                           weights: importance.map { $0 + block * 256 + 16 * group })
                }
                let absScale = abs(scales[group])
                if absScale > maxAbsScale { maxAbsScale = absScale; maxScale = scales[group] }
            }
            if maxAbsScale < KQuantSearch.groupMaxEps {
                for k in 0..<210 { out.storeByte(0, at: k) }
                continue
            }
            let iscale = -128 / maxScale
            out.storeHalf(1 / iscale, at: 208)
            for group in 0..<16 {
                let code = Int8(truncatingIfNeeded: min(127, nearestInt(iscale * scales[group])))
                out.storeByte(UInt8(bitPattern: code), at: 192 + group)
            }
            let d = UnsafeRawPointer(out).loadHalf(at: 208)
            for group in 0..<16 {
                let dl = d * Float(Int8(bitPattern: UnsafeRawPointer(out).loadByte(at: 192 + group)))
                if dl == 0 { continue }
                for i in 0..<16 { levels[16 * group + i] = Int8(max(-32, min(31, nearestInt(xb[16 * group + i] / dl))) + 32) }
            }
            for (half, j) in stride(from: 0, to: 256, by: 128).enumerated() {
                for l in 0..<32 {
                    let q0 = UInt8(bitPattern: levels[j + l]), q1 = UInt8(bitPattern: levels[j + l + 32])
                    let q2 = UInt8(bitPattern: levels[j + l + 64]), q3 = UInt8(bitPattern: levels[j + l + 96])
                    out.storeByte((q0 & 0xF) | (q2 & 0xF) << 4, at: half * 64 + l)
                    out.storeByte((q1 & 0xF) | (q3 & 0xF) << 4, at: half * 64 + l + 32)
                    out.storeByte(q0 >> 4 | (q1 >> 4) << 2 | (q2 >> 4) << 4 | (q3 >> 4) << 6, at: 128 + half * 32 + l)
                }
            }
        }
    }

    public static func dequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        for block in 0..<count / 256 {
            let b = blocks + block * 210
            let d = b.loadHalf(at: 208)
            for half in 0..<2 {
                let yb = y + block * 256 + half * 128
                let ql = half * 64, qh = 128 + half * 32, sc = 192 + half * 8
                for l in 0..<32 {
                    let group = l / 16
                    let h = b.loadByte(at: qh + l)
                    let q1 = Int32((b.loadByte(at: ql + l) & 0xF) | (h & 3) << 4) - 32
                    let q2 = Int32((b.loadByte(at: ql + l + 32) & 0xF) | (h >> 2 & 3) << 4) - 32
                    let q3 = Int32((b.loadByte(at: ql + l) >> 4) | (h >> 4 & 3) << 4) - 32
                    let q4 = Int32((b.loadByte(at: ql + l + 32) >> 4) | (h >> 6 & 3) << 4) - 32
                    let s0 = d * Float(Int8(bitPattern: b.loadByte(at: sc + group)))
                    let s2 = d * Float(Int8(bitPattern: b.loadByte(at: sc + group + 2)))
                    let s4 = d * Float(Int8(bitPattern: b.loadByte(at: sc + group + 4)))
                    let s6 = d * Float(Int8(bitPattern: b.loadByte(at: sc + group + 6)))
                    yb[l] = s0 * Float(q1)
                    yb[l + 32] = s2 * Float(q2)
                    yb[l + 64] = s4 * Float(q3)
                    yb[l + 96] = s6 * Float(q4)
                }
            }
        }
    }
}
