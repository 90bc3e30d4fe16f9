import QuantFormats

/// IQ4_NL — 32 weights per block, 4.5 bpw, non-linear 4-bit codebook (`block_iq4_nl`):
///   d: f16 | qs: 16 bytes of codebook indices (j low nibble, j+16 high nibble).
///   x = d·kvalues[q], kvalues = {−127, −104, −83, −65, −49, −35, −22, −10, 1, 13, 25, 38, 53, 69, 89, 113}.
public enum IQ4_NLCodec: BlockCodec {
    public static let type = GGMLType.IQ4_NL
    public static let llamaCppActivations = LlamaCppActivations.q8_0
    public static let fields = [BlockField("d", 0, 2), BlockField("qs", 2, 16)]

    /// `kvalues_iq4nl` (ggml-common.h).
    static let codebook: [Int8] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]

    /// What `ggml_quantize_chunk` does without an importance matrix: the weighted search with
    /// w = x² and 7 scale trials each side.
    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        for block in 0..<count / 32 {
            NonLinearQuantizer.quantizeSuperBlock(x + block * 32, size: 32, importance: nil, into: blocks + block * 18, layout: .iq4nl)
        }
    }

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>,
                                   into blocks: UnsafeMutableRawPointer) {
        for block in 0..<count / 32 {
            NonLinearQuantizer.quantizeSuperBlock(x + block * 32, size: 32, importance: importance + block * 32,
                                                  into: blocks + block * 18, layout: .iq4nl)
        }
    }

    public static func dequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        codebook.withUnsafeBufferPointer { values in
            for block in 0..<count / 32 {
                let b = blocks + block * 18, yb = y + block * 32
                let d = b.loadHalf(at: 0)
                for j in 0..<16 {
                    let q = b.loadByte(at: 2 + j)
                    yb[j] = d * Float(values[Int(q & 0xF)])
                    yb[j + 16] = d * Float(values[Int(q >> 4)])
                }
            }
        }
    }
}

/// The search behind IQ4_NL and IQ4_XS (`quantize_row_iq4_nl_impl`, nvalues 16, ntry 7):
/// per 32-block, the scale maximising (Σw·q·x)²/Σw·q² over 15 trial scales; IQ4_XS then encodes
/// the block scales as 6-bit multiples of a super-block scale.
enum NonLinearQuantizer {
    enum Layout {
        /// One 32-block: d at 0, qs at 2.
        case iq4nl
        /// 256 weights: d at 0, scales_h at 2, scales_l at 4, qs at 8.
        case iq4xs
    }

    static let trials = 7

    /// Thresholds of `KQuantSearch.nearestIndex` on the codebook: index = #{t : 2a ≥ c[t−1] + c[t]}
    /// (the binary search finds the last threshold passed, and they increase), and the codebook
    /// value steps c[t] − c[t−1] that the passed thresholds add up to. All small integers, exact.
    private static let thresholds: [Float] = (1..<16).map { Float(Int32(IQ4_NLCodec.codebook[$0 - 1]) + Int32(IQ4_NLCodec.codebook[$0])) }
    private static let steps: [Float] = (1..<16).map { Float(Int32(IQ4_NLCodec.codebook[$0]) - Int32(IQ4_NLCodec.codebook[$0 - 1])) }

    /// The block scale of `quantize_row_iq4_nl_impl`: the absmax scale, then 15 trial scales,
    /// keeping the one maximising (Σw·q·x)²/Σw·q². The 16 candidates are independent, so they run
    /// as two 8-lane registers in one pass over the block (lane 0 the absmax scale, lanes 1…15
    /// the trials −7…7, the reference's order); every lane accumulates over j in the reference's
    /// order with its rounding, and the choice is then made sequentially as the reference makes it.
    private static func bestScale(_ xb: UnsafePointer<Float>, weights: UnsafePointer<Float>, max: Float) -> Float {
        typealias V = SIMD8<Float>
        let first = Float(IQ4_NLCodec.codebook[0])
        var low = V(repeating: 0), high = V(repeating: 0)
        low[0] = 1 / (-max / first)
        for lane in 1..<16 {
            let id = Float(Int32(lane - 1 - trials) + Int32(IQ4_NLCodec.codebook[0])) / max
            if lane < 8 { low[lane] = id } else { high[lane - 8] = id }
        }
        var sumqx = (V(), V()), sumq2 = (V(), V())
        thresholds.withUnsafeBufferPointer { thresholds in
            steps.withUnsafeBufferPointer { steps in
                @inline(__always) func accumulate(_ id: V, _ j: Int, _ sqx: inout V, _ sq2: inout V) {
                    let a = id * xb[j], twice = a + a
                    var q = V(repeating: first)
                    for t in 0..<15 { q += V(repeating: 0).replacing(with: steps[t], where: twice .>= thresholds[t]) }
                    let wq = weights[j] * q
                    sqx += wq * xb[j]
                    sq2 += wq * q
                }
                for j in 0..<32 {
                    accumulate(low, j, &sumqx.0, &sumq2.0)
                    accumulate(high, j, &sumqx.1, &sumq2.1)
                }
            }
        }
        @inline(__always) func lane(_ v: (V, V), _ k: Int) -> Float { k < 8 ? v.0[k] : v.1[k - 8] }
        var d = lane(sumq2, 0) > 0 ? lane(sumqx, 0) / lane(sumq2, 0) : 0
        var best = d * lane(sumqx, 0)
        for k in 1..<16 {
            let sqx = lane(sumqx, k), sq2 = lane(sumq2, k)
            if sq2 > 0 && sqx * sqx > best * sq2 {
                d = sqx / sq2
                best = d * sqx
            }
        }
        return d
    }

    static func quantizeSuperBlock(_ x: UnsafePointer<Float>, size: Int, importance: UnsafePointer<Float>?,
                                   into out: UnsafeMutableRawPointer, layout: Layout) {
        IQ4_NLCodec.codebook.withUnsafeBufferPointer { codebookBuffer in
            let values = codebookBuffer.baseAddress!
            var sigma2: Float = 0
            for j in 0..<size { sigma2 = mulAdd(x[j], x[j], sigma2) }
            sigma2 *= 2 / Float(size)
            let blocks = size / 32
            var scales = [Float](repeating: 0, count: blocks)
            var levels = [UInt8](repeating: 0, count: size)
            var weight = [Float](repeating: 0, count: 32)
            var maxScale: Float = 0, amaxScale: Float = 0
            for ib in 0..<blocks {
                let xb = x + ib * 32
                if let importance {
                    for j in 0..<32 { weight[j] = importance[ib * 32 + j] * mulAdd(xb[j], xb[j], sigma2).squareRoot() }
                } else {
                    for j in 0..<32 { weight[j] = xb[j] * xb[j] }
                }
                let (amax, max) = signedAbsMax(xb, 32)
                if amax < KQuantSearch.groupMaxEps {
                    scales[ib] = 0
                    for j in 0..<32 { levels[ib * 32 + j] = 0 }
                    continue
                }
                let d = weight.withUnsafeBufferPointer { bestScale(xb, weights: $0.baseAddress!, max: max) }
                scales[ib] = d
                if abs(d) > amaxScale { amaxScale = abs(d); maxScale = d }
            }

            let qsOffset: Int
            switch layout {
            case .iq4nl:
                qsOffset = 2
                out.storeHalf(scales[0], at: 0)
                let id: Float = scales[0] != 0 ? 1 / scales[0] : 0
                for j in 0..<size { levels[j] = UInt8(KQuantSearch.nearestIndex(values, count: 16, id * x[j])) }
            case .iq4xs:
                qsOffset = 8
                let d = -maxScale / 32
                out.storeHalf(d, at: 0)
                let id: Float = d != 0 ? 1 / d : 0
                var scalesHigh: UInt16 = 0
                for ib in 0..<blocks {
                    var l = nearestInt(id * scales[ib])
                    l = Swift.max(-32, Swift.min(31, l))
                    let dl = d * Float(l)
                    let idl: Float = dl != 0 ? 1 / dl : 0
                    for j in 0..<32 { levels[ib * 32 + j] = UInt8(KQuantSearch.nearestIndex(values, count: 16, idl * x[ib * 32 + j])) }
                    let code = UInt8(l + 32)
                    let low = code & 0xF
                    if ib % 2 == 0 {
                        out.storeByte(low, at: 4 + ib / 2)
                    } else {
                        out.storeByte(out.load(fromByteOffset: 4 + ib / 2, as: UInt8.self) | low << 4, at: 4 + ib / 2)
                    }
                    scalesHigh |= UInt16(code >> 4) << (2 * (ib % 8))
                }
                out.storeUInt16(scalesHigh, at: 2)
            }
            for i in 0..<size / 32 {
                for j in 0..<16 { out.storeByte(levels[32 * i + j] | levels[32 * i + 16 + j] << 4, at: qsOffset + 16 * i + j) }
            }
        }
    }
}
