/// Q4_0 fast path: dequantization only. (A two-pass quantizer — vectorized max, then the first
/// element attaining it — lost to the reference once `truncatedInt` stopped trapping: 2.7 vs
/// 5.2 GB/s, so quantization runs the reference.)
extension Q4_0Codec: FastBlockCodec {
    public static var fastDirections: FastDirections { .dequantize }

    public static func fastDequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        for block in 0..<count / 32 {
            let b = blocks + block * 18, yb = y + block * 32
            let d = b.loadHalf(at: 0)
            let qs = (b + 2).assumingMemoryBound(to: UInt8.self)
            for j in 0..<16 {
                yb[j] = Float(Int32(qs[j] & 0x0F) &- 8) * d
                yb[j + 16] = Float(Int32(qs[j] >> 4) &- 8) * d
            }
        }
    }
}
