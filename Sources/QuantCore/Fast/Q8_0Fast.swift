/// Q8_0 fast path: the reference arithmetic as straight loops over raw pointers, written so the
/// compiler vectorizes them (no per-element stores through helper calls, no overflow checks).
/// Absmax and the per-element scale/round are independent per element, so the bytes are the
/// reference bytes.
extension Q8_0Codec: FastBlockCodec {
    public static var fastDirections: FastDirections { [.quantize, .dequantize] }

    public static func fastQuantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        for block in 0..<count / 32 {
            let xb = x + block * 32, out = blocks + block * 34
            var amax: Float = 0
            for j in 0..<32 { amax = Swift.max(amax, abs(xb[j])) }
            let d = amax / 127
            let id: Float = d != 0 ? 1 / d : 0
            out.storeHalf(d, at: 0)
            let q = (out + 2).assumingMemoryBound(to: Int8.self)
            for j in 0..<32 { q[j] = Int8(truncatingIfNeeded: Int32((xb[j] * id).rounded(.toNearestOrAwayFromZero))) }
        }
    }

    public static func fastDequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        for block in 0..<count / 32 {
            let b = blocks + block * 34, yb = y + block * 32
            let d = b.loadHalf(at: 0)
            let q = (b + 2).assumingMemoryBound(to: Int8.self)
            for j in 0..<32 { yb[j] = Float(q[j]) * d }
        }
    }
}
