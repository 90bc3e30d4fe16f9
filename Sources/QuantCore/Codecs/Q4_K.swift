import QuantFormats

/// Q4_K — 256 weights per super-block of 8 × 32, 4.5 bpw (`block_q4_K`):
///   d: f16 | dmin: f16 | scales: 12 bytes (8 × 6-bit scale, 8 × 6-bit min) | qs: 128 bytes
///   (each 64-run: 32 low nibbles then 32 high nibbles).   x = d·sc·q − dmin·m.
public enum Q4_KCodec: BlockCodec {
    public static let type = GGMLType.Q4_K
    public static let llamaCppActivations = LlamaCppActivations.q8_K
    public static let fallbackType: GGMLType? = .Q5_0
    public static let fields = [BlockField("d", 0, 2), BlockField("dmin", 2, 2), BlockField("scales", 4, 12), BlockField("qs", 16, 128)]

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        KQuant32.quantizeReference(x, count: count, nmax: 15, rmin: -1, rdelta: 0.1, nstep: 20, blockBytes: 144, into: blocks,
                                   pack: { levels, out in packNibbles(levels, out) })
    }

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>,
                                   into blocks: UnsafeMutableRawPointer) {
        KQuant32.quantizeWeighted(x, count: count, importance: importance, nmax: 15, blockBytes: 144, into: blocks,
                                  pack: { levels, out in packNibbles(levels, out) })
    }

    private static func packNibbles(_ levels: [UInt8], _ out: UnsafeMutableRawPointer) {
        for (run, j) in stride(from: 0, to: 256, by: 64).enumerated() {
            for l in 0..<32 { out.storeByte(levels[j + l] | levels[j + l + 32] << 4, at: 16 + run * 32 + l) }
        }
    }

    public static func dequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        for block in 0..<count / 256 {
            let b = blocks + block * 144
            var yb = y + block * 256
            let d = b.loadHalf(at: 0), dmin = b.loadHalf(at: 2)
            for run in 0..<4 {
                let (sc1, m1) = KQuantPacking.scaleMin(2 * run, b + 4)
                let (sc2, m2) = KQuantPacking.scaleMin(2 * run + 1, b + 4)
                let d1 = d * Float(sc1), min1 = dmin * Float(m1)
                let d2 = d * Float(sc2), min2 = dmin * Float(m2)
                let q = 16 + run * 32
                for l in 0..<32 { yb[l] = mulAdd(d1, Float(b.loadByte(at: q + l) & 0xF), -min1) }
                for l in 0..<32 { yb[32 + l] = mulAdd(d2, Float(b.loadByte(at: q + l) >> 4), -min2) }
                yb += 64
            }
        }
    }
}

/// The quantizer shared by Q4_K and Q5_K (8 sub-blocks of 32 with 6-bit scales and mins); they
/// differ in nmax, search parameters and how levels are packed.
enum KQuant32 {
    /// `quantize_row_q4_K_ref` / `quantize_row_q5_K_ref`.
    static func quantizeReference(_ x: UnsafePointer<Float>, count: Int, nmax: Int32, rmin: Float, rdelta: Float, nstep: Int,
                                  blockBytes: Int, into blocks: UnsafeMutableRawPointer,
                                  pack: ([UInt8], UnsafeMutableRawPointer) -> Void) {
        var levels = [UInt8](repeating: 0, count: 256)
        var weights = [Float](repeating: 0, count: 256)
        var scales = [Float](repeating: 0, count: 8), mins = [Float](repeating: 0, count: 8)
        for block in 0..<count / 256 {
            let xb = x + block * 256, out = blocks + block * blockBytes
            for j in 0..<8 {
                let xs = xb + 32 * j
                var sumx2: Float = 0
                for l in 0..<32 { sumx2 = mulAdd(xs[l], xs[l], sumx2) }
                let av = (sumx2 / 32).squareRoot()
                for l in 0..<32 { weights[32 * j + l] = av + abs(xs[l]) }
            }
            searchGroups(xb, weights: weights, levels: &levels, scales: &scales, mins: &mins, nmax: nmax,
                         rmin: rmin, rdelta: rdelta, nstep: nstep, variant: .qkx2(useMad: false))
            var maxScale: Float = 0, maxMin: Float = 0
            for j in 0..<8 {
                if scales[j] > maxScale { maxScale = scales[j] }
                if mins[j] > maxMin { maxMin = mins[j] }
            }
            let invScale: Float = maxScale > 0 ? 63 / maxScale : 0
            let invMin: Float = maxMin > 0 ? 63 / maxMin : 0
            let scaleCodes = (0..<8).map { min(63, UInt8(truncatingIfNeeded: nearestInt(invScale * scales[$0]))) }
            let minCodes = (0..<8).map { min(63, UInt8(truncatingIfNeeded: nearestInt(invMin * mins[$0]))) }
            KQuantPacking.storeScaleMins(scaleCodes, minCodes, into: out, at: 4)
            out.storeHalf(maxScale / 63, at: 0)
            out.storeHalf(maxMin / 63, at: 2)
            requantize(xb, nmax: nmax, levels: &levels, out: out)
            pack(levels, out)
        }
    }

    /// `quantize_row_q4_K_impl` / `quantize_row_q5_K_impl` with an importance vector.
    static func quantizeWeighted(_ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>, nmax: Int32,
                                 blockBytes: Int, into blocks: UnsafeMutableRawPointer,
                                 pack: ([UInt8], UnsafeMutableRawPointer) -> Void) {
        var levels = [UInt8](repeating: 0, count: 256)
        var weights = [Float](repeating: 0, count: 256), groupWeights = [Float](repeating: 0, count: 8)
        var scales = [Float](repeating: 0, count: 8), mins = [Float](repeating: 0, count: 8)
        var scaleCodes = [UInt8](repeating: 0, count: 8), minCodes = [UInt8](repeating: 0, count: 8)
        for block in 0..<count / 256 {
            let xb = x + block * 256, qw = importance + block * 256, out = blocks + block * blockBytes
            var sumx2: Float = 0
            for l in 0..<256 { sumx2 = mulAdd(xb[l], xb[l], sumx2) }
            let sigma2 = 2 * sumx2 / 256
            for j in 0..<8 {
                let xs = xb + 32 * j
                for l in 0..<32 { weights[32 * j + l] = qw[32 * j + l] * mulAdd(xs[l], xs[l], sigma2).squareRoot() }
                var sumw: Float = 0
                for l in 0..<32 { sumw += weights[32 * j + l] }
                groupWeights[j] = sumw
            }
            searchGroups(xb, weights: weights, levels: &levels, scales: &scales, mins: &mins, nmax: nmax,
                         rmin: -0.9, rdelta: 0.05, nstep: 36, variant: .qkx3)
            let dBlock = KQuantSearch.positive(8, nmax: 63, scales, &scaleCodes, weights: groupWeights)
            let mBlock = KQuantSearch.positive(8, nmax: 63, mins, &minCodes, weights: groupWeights)
            KQuantPacking.storeScaleMins(scaleCodes.map { min(63, $0) }, minCodes.map { min(63, $0) }, into: out, at: 4)
            out.storeHalf(dBlock, at: 0)
            out.storeHalf(mBlock, at: 2)
            requantize(xb, nmax: nmax, levels: &levels, out: out)
            pack(levels, out)
        }
    }

    /// The asymmetric search for the 8 groups of 32 of a super-block, all at once.
    private static func searchGroups(_ xb: UnsafePointer<Float>, weights: [Float], levels: inout [UInt8], scales: inout [Float],
                                     mins: inout [Float], nmax: Int32, rmin: Float, rdelta: Float, nstep: Int,
                                     variant: KQuantSearch.AsymmetricVariant) {
        weights.withUnsafeBufferPointer { w in
            levels.withUnsafeMutableBufferPointer { l in
                scales.withUnsafeMutableBufferPointer { s in
                    mins.withUnsafeMutableBufferPointer { m in
                        KQuantSearch.asymmetric8(32, nmax: nmax, xb, weights: w.baseAddress!, l.baseAddress!, scales: s.baseAddress!,
                                                 mins: m.baseAddress!, rmin: rmin, rdelta: rdelta, nstep: nstep, variant: variant)
                    }
                }
            }
        }
    }

    /// Levels from the stored f16 scales and 6-bit codes, as both paths end.
    private static func requantize(_ xb: UnsafePointer<Float>, nmax: Int32, levels: inout [UInt8], out: UnsafeMutableRawPointer) {
        let block = UnsafeRawPointer(out)
        let d = block.loadHalf(at: 0), dmin = block.loadHalf(at: 2)
        for j in 0..<8 {
            let (sc, m) = KQuantPacking.scaleMin(j, block + 4)
            let dl = d * Float(sc)
            if dl == 0 { continue }
            let dm = dmin * Float(m)
            for i in 0..<32 { levels[32 * j + i] = UInt8(max(0, min(nmax, nearestInt((xb[32 * j + i] + dm) / dl)))) }
        }
    }
}
