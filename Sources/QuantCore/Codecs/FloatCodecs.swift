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
    public static let llamaCppActivations = LlamaCppActivations.f16
    public static let fields = [BlockField("value", 0, 2)]

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        for i in 0..<count { blocks.storeHalf(x[i], at: 2 * i) }
    }

    public static func dequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        let halves = blocks.assumingMemoryBound(to: UInt16.self)
        for i in 0..<count { y[i] = Float(bitPattern: widenHalf(UInt16(littleEndian: halves[i]))) }
    }

    /// f16 bits → f32 bits with integer operations and selects only, so the compiler vectorizes
    /// rows of it (baseline x86-64 has no F16C). Exact for every finite value and infinity; NaNs
    /// stay NaN with their payload (tested over all 65 536 inputs).
    @inline(__always)
    static func widenHalf(_ h: UInt16) -> UInt32 {
        let magnitude = UInt32(h & 0x7fff) << 13
        let exponent = magnitude & (0x7c00 << 13)
        var bits = magnitude &+ ((127 - 15) << 23)
        // Inf/NaN: finish the exponent to all ones.
        bits = exponent == (0x7c00 << 13) ? bits &+ ((128 - 16) << 23) : bits
        // Zero/subnormal: renormalise by subtracting 2^-14 in float arithmetic.
        let renormalised = (Float(bitPattern: bits &+ (1 << 23)) - Float(bitPattern: 113 << 23)).bitPattern
        bits = exponent == 0 ? renormalised : bits
        return bits | UInt32(h & 0x8000) << 16
    }
}

/// BF16 — the top 16 bits of the f32, rounded to nearest even, NaN kept quiet
/// (`ggml_fp32_to_bf16_row_ref`).
public enum BF16Codec: BlockCodec {
    public static let type = GGMLType.BF16
    public static let llamaCppActivations = LlamaCppActivations.bf16
    public static let fields = [BlockField("value", 0, 2)]

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        for i in 0..<count { blocks.storeUInt16(bfloat16Bits(x[i]), at: 2 * i) }
    }

    public static func dequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        for i in 0..<count { y[i] = floatFromBFloat16(blocks.loadUInt16(at: 2 * i)) }
    }
}
