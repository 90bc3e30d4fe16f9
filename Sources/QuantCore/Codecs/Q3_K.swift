import QuantFormats

/// Q3_K — 256 weights per super-block of 16 × 16, 3.4375 bpw (`block_q3_K`):
///   hmask: 32 bytes (third bit of each level) | qs: 64 bytes of low 2 bits | scales: 12 bytes of
///   16 signed 6-bit scales | d: f16.   x = d·(sc − 32)·(q − 4).
public enum Q3_KCodec: BlockCodec {
    public static let type = GGMLType.Q3_K
    public static let llamaCppActivations = LlamaCppActivations.q8_K
    public static let fallbackType: GGMLType? = .Q4_0
    public static let fields = [BlockField("hmask", 0, 32), BlockField("qs", 32, 64), BlockField("scales", 96, 12), BlockField("d", 108, 2)]

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        var levels = [Int8](repeating: 0, count: 256)
        var scales = [Float](repeating: 0, count: 16), codes = [Int32](repeating: 0, count: 16)
        for block in 0..<count / 256 {
            let xb = x + block * 256, out = blocks + block * 110
            levels.withUnsafeMutableBufferPointer { l in
                scales.withUnsafeMutableBufferPointer { s in
                    for half in 0..<2 {
                        KQuantSearch.q3x8(16, nmax: 4, xb + 128 * half, l.baseAddress! + 128 * half, scales: s.baseAddress! + 8 * half)
                    }
                }
            }
            var maxScale: Float = 0, amax: Float = 0
            for j in 0..<16 {
                let scale = abs(scales[j])
                if scale > amax { amax = scale; maxScale = scales[j] }
            }
            if maxScale != 0 {
                let iscale = -32 / maxScale
                for j in 0..<16 { codes[j] = Int32(max(-32, min(31, Int8(truncatingIfNeeded: nearestInt(iscale * scales[j]))))) + 32 }
                KQuantPacking.storeQ3Scales(codes, into: out, at: 96)
                out.storeHalf(1 / iscale, at: 108)
            } else {
                for k in 0..<12 { out.storeByte(0, at: 96 + k) }
                out.storeHalf(0, at: 108)
            }
            finish(xb, levels: &levels, out: out)
        }
    }

    /// `quantize_row_q3_K_impl`: symmetric search per 16-group with w = qw·√(2σ² + x²)… (σ² of the
    /// super-block doubled, as the reference does), then the 6-bit scales by a second symmetric
    /// search weighted by each group's Σw.
    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>,
                                   into blocks: UnsafeMutableRawPointer) {
        var levels = [Int8](repeating: 0, count: 256), scaleLevels = [Int8](repeating: 0, count: 16)
        var weights = [Float](repeating: 0, count: 16), groupWeights = [Float](repeating: 0, count: 16)
        var scales = [Float](repeating: 0, count: 16)
        for block in 0..<count / 256 {
            let xb = x + block * 256, qw = importance + block * 256, out = blocks + block * 110
            var sumx2: Float = 0
            for j in 0..<256 { sumx2 = mulAdd(xb[j], xb[j], sumx2) }
            let sigma2 = 2 * sumx2 / 256
            for j in 0..<16 {
                for l in 0..<16 { weights[l] = qw[16 * j + l] * mulAdd(xb[16 * j + l], xb[16 * j + l], sigma2).squareRoot() }
                var sumw: Float = 0
                for l in 0..<16 { sumw += weights[l] }
                groupWeights[j] = sumw
                scales[j] = levels.withUnsafeMutableBufferPointer {
                    KQuantSearch.symmetric(16, nmax: 4, xb + 16 * j, $0.baseAddress! + 16 * j, weights: weights)
                }
            }
            let dBlock = KQuantSearch.symmetric(16, nmax: 32, scales, &scaleLevels, weights: groupWeights)
            KQuantPacking.storeQ3Scales(scaleLevels.map(Int32.init), into: out, at: 96)
            out.storeHalf(dBlock, at: 108)
            finish(xb, levels: &levels, out: out)
        }
    }

    /// Re-derives levels from the stored scales, then writes hmask and qs.
    private static func finish(_ xb: UnsafePointer<Float>, levels: inout [Int8], out: UnsafeMutableRawPointer) {
        let d = UnsafeRawPointer(out).loadHalf(at: 108)
        for j in 0..<16 {
            let dl = d * Float(KQuantPacking.q3Scale(j, UnsafeRawPointer(out) + 96))
            if dl == 0 { continue }
            for i in 0..<16 { levels[16 * j + i] = Int8(max(-4, min(3, nearestInt(xb[16 * j + i] / dl))) + 4) }
        }
        // hmask byte m holds bit 2 of levels m, m + 32, …, m + 224 (bit k for level m + 32k);
        // qs holds the low two bits. Built on the stack, one byte store each.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { low in
            levels.withUnsafeBufferPointer { levels in
                for m in 0..<32 {
                    var mask: UInt8 = 0
                    for k in 0..<8 {
                        let level = UInt8(bitPattern: levels[m + 32 * k])
                        mask |= (level >> 2 & 1) << k
                        low[m + 32 * k] = level & 3
                    }
                    out.storeByte(mask, at: m)
                }
            }
            KQuantPacking.pack2Bit(UnsafePointer(low.baseAddress!), into: out, at: 32)
        }
    }

    public static func dequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        for block in 0..<count / 256 {
            let b = blocks + block * 110
            var yb = y + block * 256
            let d = b.loadHalf(at: 108)
            var group = 0
            var mask: UInt8 = 1
            for half in 0..<2 {
                let q = 32 + half * 32
                for shift in stride(from: 0, to: 8, by: 2) {
                    for part in 0..<2 {
                        let dl = d * Float(KQuantPacking.q3Scale(group, b + 96))
                        group += 1
                        for l in 0..<16 {
                            let low = Int32((b.loadByte(at: q + part * 16 + l) >> shift) & 3)
                            let high: Int32 = b.loadByte(at: part * 16 + l) & mask != 0 ? 0 : 4
                            yb[l] = dl * Float(low - high)
                        }
                        yb += 16
                    }
                    mask <<= 1
                }
            }
        }
    }
}
