import QuantFormats

/// F32 — one little-endian IEEE single per weight (ggml stores floats as they are).
public enum F32Codec: BlockCodec {
    public static let type = GGMLType.F32
    public static let fields = [BlockField("value", 0, 4)]

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        for i in 0..<count { blocks.storeFloat(x[i], at: 4 * i) }
    }

    public static func dequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        for i in 0..<count { y[i] = blocks.loadFloat(at: 4 * i) }
    }
}

/// F16 — one IEEE half per weight, rounded to nearest even (`ggml_fp32_to_fp16_row`).
public enum F16Codec: BlockCodec {
    public static let type = GGMLType.F16
    public static let fields = [BlockField("value", 0, 2)]

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        for i in 0..<count { blocks.storeHalf(x[i], at: 2 * i) }
    }

    public static func dequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        HalfTable.values.withUnsafeBufferPointer { table in
            for i in 0..<count { y[i] = table[Int(blocks.loadUInt16(at: 2 * i))] }
        }
    }
}

/// BF16 — the top 16 bits of the f32, rounded to nearest even, NaN kept quiet
/// (`ggml_fp32_to_bf16_row_ref`).
public enum BF16Codec: BlockCodec {
    public static let type = GGMLType.BF16
    public static let fields = [BlockField("value", 0, 2)]

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        for i in 0..<count { blocks.storeUInt16(bfloat16Bits(x[i]), at: 2 * i) }
    }

    public static func dequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        for i in 0..<count { y[i] = floatFromBFloat16(blocks.loadUInt16(at: 2 * i)) }
    }
}
