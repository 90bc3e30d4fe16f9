/// Q4_0 fast path. The reference finds the signed value of largest magnitude with a first-wins
/// scan; here the magnitude comes from a vectorizable max and the sign from the first element
/// that attains it — the same element, so the same scale and bytes.
extension Q4_0Codec: FastBlockCodec {
    public static func fastQuantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        for block in 0..<count / 32 {
            let xb = x + block * 32, out = blocks + block * 18
            let max = firstValueOfLargestMagnitude(xb, 32)
            let d = max / -8
            let id: Float = d != 0 ? 1 / d : 0
            out.storeHalf(d, at: 0)
            let qs = (out + 2).assumingMemoryBound(to: UInt8.self)
            for j in 0..<16 {
                // (int8_t)(x·id + 8.5): truncation; values stay in [0, 17).
                let q0 = Swift.min(15, Int32(xb[j] * id + 8.5)), q1 = Swift.min(15, Int32(xb[j + 16] * id + 8.5))
                qs[j] = UInt8(truncatingIfNeeded: q0 | q1 << 4)
            }
        }
    }

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

/// The first x[j] with |x[j]| = max|x| (0 for an all-zero group): `signedAbsMax`'s `max`.
@inline(__always)
func firstValueOfLargestMagnitude(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var amax: Float = 0
    for j in 0..<n { amax = Swift.max(amax, abs(x[j])) }
    guard amax > 0 else { return 0 }
    for j in 0..<n where abs(x[j]) == amax { return x[j] }
    return 0
}
