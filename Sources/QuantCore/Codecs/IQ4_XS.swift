import QuantFormats

/// IQ4_XS — 256 weights per super-block of 8 × 32, 4.25 bpw (`block_iq4_xs`):
///   d: f16 | scales_h: u16 (2 high bits per block) | scales_l: 4 bytes (4 low bits per block) |
///   qs: 128 bytes of IQ4_NL codebook indices.   x = d·(ls − 32)·kvalues[q].
public enum IQ4_XSCodec: BlockCodec {
    public static let type = GGMLType.IQ4_XS
    public static let llamaCppActivations = LlamaCppActivations.q8_K
    public static let fallbackType: GGMLType? = .IQ4_NL
    public static let fields = [BlockField("d", 0, 2), BlockField("scales_h", 2, 2), BlockField("scales_l", 4, 4), BlockField("qs", 8, 128)]

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        for block in 0..<count / 256 {
            NonLinearQuantizer.quantizeSuperBlock(x + block * 256, size: 256, importance: nil, into: blocks + block * 136, layout: .iq4xs)
        }
    }

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>,
                                   into blocks: UnsafeMutableRawPointer) {
        for block in 0..<count / 256 {
            NonLinearQuantizer.quantizeSuperBlock(x + block * 256, size: 256, importance: importance + block * 256,
                                                  into: blocks + block * 136, layout: .iq4xs)
        }
    }

    public static func dequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        IQ4_NLCodec.codebook.withUnsafeBufferPointer { values in
            for block in 0..<count / 256 {
                let b = blocks + block * 136
                let d = b.loadHalf(at: 0)
                let scalesHigh = b.loadUInt16(at: 2)
                for ib in 0..<8 {
                    let low = (b.loadByte(at: 4 + ib / 2) >> (4 * (ib % 2))) & 0xF
                    let high = UInt8((scalesHigh >> (2 * ib)) & 3)
                    let dl = d * Float(Int32(low | high << 4) - 32)
                    let yb = y + block * 256 + ib * 32
                    for j in 0..<16 {
                        let q = b.loadByte(at: 8 + ib * 16 + j)
                        yb[j] = dl * Float(values[Int(q & 0xF)])
                        yb[j + 16] = dl * Float(values[Int(q >> 4)])
                    }
                }
            }
        }
    }
}
