import QuantFormats

/// Which implementation a `TensorCodec` runs.
public enum CodecPath: String, CaseIterable, Sendable {
    /// The scalar code that mirrors llama.cpp's reference functions line by line.
    case reference
    /// SIMD/unsafe implementations, proven bit-identical to `reference` by tests
    /// (`FastPathTests`); types without one fall back to `reference`.
    case fast
}

/// A codec with a fast path. The fast functions must produce exactly the reference bytes and
/// floats: SIMD is used only where the order of floating-point operations per element is
/// unchanged (elementwise work, max/min reductions), never to reorder sums.
public protocol FastBlockCodec: BlockCodec {
    /// The directions this codec implements itself (no default, so a test compares exactly
    /// those with the reference and never the reference with itself).
    static var fastDirections: FastDirections { get }
    static func fastQuantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer)
    static func fastDequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>)
}

/// Which of a codec's row functions have a fast implementation.
public struct FastDirections: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let quantize = FastDirections(rawValue: 1)
    public static let dequantize = FastDirections(rawValue: 2)
}

extension FastBlockCodec {
    /// Types whose fast path only speeds up one direction use the reference for the other.
    public static func fastQuantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        quantizeRow(x, count: count, into: blocks)
    }
    public static func fastDequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        dequantizeRow(blocks, count: count, into: y)
    }
}

extension CodecRegistry {
    public static func hasFastPath(_ type: GGMLType) -> Bool { codec(for: type) is any FastBlockCodec.Type }
}
