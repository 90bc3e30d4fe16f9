/// Q4_1 fast path: min and max as vectorizable reductions (order-independent), then the
/// elementwise reference arithmetic over raw pointers.
extension Q4_1Codec: FastBlockCodec {
    public static func fastQuantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        for block in 0..<count / 32 {
            let xb = x + block * 32, out = blocks + block * 20
            var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
            for j in 0..<32 {
                lo = Swift.min(lo, xb[j])
                hi = Swift.max(hi, xb[j])
            }
            let d = (hi - lo) / 15
            let id: Float = d != 0 ? 1 / d : 0
            out.storeHalf(d, at: 0)
            out.storeHalf(lo, at: 2)
            let qs = (out + 4).assumingMemoryBound(to: UInt8.self)
            for j in 0..<16 {
                let q0 = Swift.min(15, Int32((xb[j] - lo) * id + 0.5)), q1 = Swift.min(15, Int32((xb[j + 16] - lo) * id + 0.5))
                qs[j] = UInt8(truncatingIfNeeded: q0 | q1 << 4)
            }
        }
    }
}
