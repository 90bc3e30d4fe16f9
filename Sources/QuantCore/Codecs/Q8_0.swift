import QuantFormats

/// Q8_0 — 32 weights per block, 8.5 bpw (ggml-common.h `block_q8_0`):
///   d: f16 scale | qs: 32 × int8.   x = d·q,  d = absmax/127.
/// llama.cpp quantizes Q8_0 the same way with or without an importance matrix.
public enum Q8_0Codec: BlockCodec {
    public static let type = GGMLType.Q8_0
    public static let llamaCppActivations = LlamaCppActivations.q8_0
    public static let fields = [BlockField("d", 0, 2), BlockField("qs", 2, 32)]

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        for block in 0..<count / 32 {
            let xb = x + block * 32, out = blocks + block * 34
            var amax: Float = 0
            for j in 0..<32 { amax = max(amax, abs(xb[j])) }
            let d = amax / 127
            let id: Float = d != 0 ? 1 / d : 0
            out.storeHalf(d, at: 0)
            for j in 0..<32 {
                // roundf: half away from zero.
                out.storeByte(UInt8(bitPattern: Int8((xb[j] * id).rounded())), at: 2 + j)
            }
        }
    }

    public static func dequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        for block in 0..<count / 32 {
            let b = blocks + block * 34, yb = y + block * 32
            let d = b.loadHalf(at: 0)
            for j in 0..<32 { yb[j] = Float(Int8(bitPattern: b.loadByte(at: 2 + j))) * d }
        }
    }
}
