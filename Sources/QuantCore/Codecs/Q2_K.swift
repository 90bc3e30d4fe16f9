import QuantFormats

/// Q2_K — 256 weights per super-block of 16 × 16, 2.625 bpw (`block_q2_K`):
///   scales: 16 bytes (low nibble scale, high nibble min, 4 bits each) | qs: 64 bytes of 2-bit
///   levels | d: f16 | dmin: f16.   x = d·sc·q − dmin·m.
public enum Q2_KCodec: BlockCodec {
    public static let type = GGMLType.Q2_K
    public static let llamaCppActivations = LlamaCppActivations.q8_K
    public static let fallbackType: GGMLType? = .Q4_0
    public static let fields = [BlockField("scales", 0, 16), BlockField("qs", 16, 64), BlockField("d", 80, 2), BlockField("dmin", 82, 2)]

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        var levels = [UInt8](repeating: 0, count: 256)
        var weights = [Float](repeating: 0, count: 256)
        var scales = [Float](repeating: 0, count: 16), mins = [Float](repeating: 0, count: 16)
        for block in 0..<count / 256 {
            let xb = x + block * 256, out = blocks + block * 84
            for l in 0..<256 { weights[l] = abs(xb[l]) }
            searchGroups(xb, weights: weights, levels: &levels, scales: &scales, mins: &mins,
                         rmin: -0.5, rdelta: 0.1, nstep: 15, variant: .qkx2(useMad: true))
            var maxScale: Float = 0, maxMin: Float = 0
            for j in 0..<16 {
                if scales[j] > maxScale { maxScale = scales[j] }
                if mins[j] > maxMin { maxMin = mins[j] }
            }
            var codes = [UInt8](repeating: 0, count: 16)
            if maxScale > 0 {
                let iscale = 15 / maxScale
                for j in 0..<16 { codes[j] = UInt8(truncatingIfNeeded: nearestInt(iscale * scales[j])) }
                out.storeHalf(maxScale / 15, at: 80)
            } else {
                out.storeHalf(0, at: 80)
            }
            if maxMin > 0 {
                let iscale = 15 / maxMin
                for j in 0..<16 { codes[j] |= UInt8(truncatingIfNeeded: nearestInt(iscale * mins[j])) << 4 }
                out.storeHalf(maxMin / 15, at: 82)
            } else {
                out.storeHalf(0, at: 82)
            }
            finish(xb, codes: codes, levels: &levels, out: out)
        }
    }

    /// `quantize_row_q2_K_impl`: `make_qkx3_quants` per 16-group with w = qw·√(σ² + x²), then the
    /// 4-bit scales and mins chosen by `make_qp_quants` weighted by each group's Σw.
    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>,
                                   into blocks: UnsafeMutableRawPointer) {
        var levels = [UInt8](repeating: 0, count: 256)
        var weights = [Float](repeating: 0, count: 256), groupWeights = [Float](repeating: 0, count: 16)
        var scales = [Float](repeating: 0, count: 16), mins = [Float](repeating: 0, count: 16)
        var scaleCodes = [UInt8](repeating: 0, count: 16), minCodes = [UInt8](repeating: 0, count: 16)
        for block in 0..<count / 256 {
            let xb = x + block * 256, qw = importance + block * 256, out = blocks + block * 84
            var sumx2: Float = 0
            for j in 0..<256 { sumx2 = mulAdd(xb[j], xb[j], sumx2) }
            let sigma2 = sumx2 / 256
            for j in 0..<16 {
                for l in 0..<16 { weights[16 * j + l] = qw[16 * j + l] * mulAdd(xb[16 * j + l], xb[16 * j + l], sigma2).squareRoot() }
                groupWeights[j] = 0
                for l in 0..<16 { groupWeights[j] += weights[16 * j + l] }
            }
            searchGroups(xb, weights: weights, levels: &levels, scales: &scales, mins: &mins,
                         rmin: -0.9, rdelta: 0.05, nstep: 36, variant: .qkx3)
            let dm = KQuantSearch.positive(16, nmax: 15, scales, &scaleCodes, weights: groupWeights)
            let mm = KQuantSearch.positive(16, nmax: 15, mins, &minCodes, weights: groupWeights)
            out.storeHalf(dm, at: 80)
            out.storeHalf(mm, at: 82)
            finish(xb, codes: (0..<16).map { scaleCodes[$0] | minCodes[$0] << 4 }, levels: &levels, out: out)
        }
    }

    /// The asymmetric search for the 16 groups of a super-block, eight at a time.
    private static func searchGroups(_ xb: UnsafePointer<Float>, weights: [Float], levels: inout [UInt8], scales: inout [Float],
                                     mins: inout [Float], rmin: Float, rdelta: Float, nstep: Int, variant: KQuantSearch.AsymmetricVariant) {
        weights.withUnsafeBufferPointer { w in
            levels.withUnsafeMutableBufferPointer { l in
                scales.withUnsafeMutableBufferPointer { s in
                    mins.withUnsafeMutableBufferPointer { m in
                        for half in 0..<2 {
                            KQuantSearch.asymmetric8(16, nmax: 3, xb + 128 * half, weights: w.baseAddress! + 128 * half,
                                                     l.baseAddress! + 128 * half, scales: s.baseAddress! + 8 * half,
                                                     mins: m.baseAddress! + 8 * half, rmin: rmin, rdelta: rdelta, nstep: nstep, variant: variant)
                        }
                    }
                }
            }
        }
    }

    /// Stores the scale codes, re-derives every level from the stored (f16) scales, packs.
    private static func finish(_ xb: UnsafePointer<Float>, codes: [UInt8], levels: inout [UInt8], out: UnsafeMutableRawPointer) {
        for j in 0..<16 { out.storeByte(codes[j], at: j) }
        let d = UnsafeRawPointer(out).loadHalf(at: 80), dmin = UnsafeRawPointer(out).loadHalf(at: 82)
        for j in 0..<16 {
            let dl = d * Float(codes[j] & 0xF)
            if dl == 0 { continue }
            let ml = dmin * Float(codes[j] >> 4)
            for i in 0..<16 { levels[16 * j + i] = UInt8(max(0, min(3, nearestInt((xb[16 * j + i] + ml) / dl)))) }
        }
        levels.withUnsafeBufferPointer { KQuantPacking.pack2Bit($0.baseAddress!, into: out, at: 16) }
    }

    public static func dequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        for block in 0..<count / 256 {
            let b = blocks + block * 84
            var yb = y + block * 256
            let d = b.loadHalf(at: 80), dmin = b.loadHalf(at: 82)
            var group = 0
            for half in 0..<2 {
                let q = 16 + half * 32
                for shift in stride(from: 0, to: 8, by: 2) {
                    for part in 0..<2 {
                        let sc = b.loadByte(at: group)
                        group += 1
                        let dl = d * Float(sc & 0xF), ml = dmin * Float(sc >> 4)
                        for l in 0..<16 { yb[l] = mulAdd(dl, Float((b.loadByte(at: q + part * 16 + l) >> shift) & 3), -ml) }
                        yb += 16
                    }
                }
            }
        }
    }
}
