/// IEEE half and bfloat16 conversions as ggml performs them, plus little-endian raw stores.
///
/// ggml rounds f32 → f16 to nearest-even (F16C `_cvtss_sh(x, 0)` or its software twin), which is
/// what Swift's `Float16(_:)` does; f32 → bf16 rounds to nearest-even with NaNs kept quiet
/// (`ggml_compute_fp32_to_bf16`).
@inline(__always)
public func halfBits(_ value: Float) -> UInt16 { Float16(value).bitPattern }

@inline(__always)
public func floatFromHalf(_ bits: UInt16) -> Float { HalfTable.values[Int(bits)] }

/// All 65 536 half values as f32. Swift targets baseline x86-64 (no F16C), where each
/// `Float(Float16)` is a call into compiler-rt; a 256 KB table (as ggml keeps one) makes
/// f16 → f32 a load. Built once from the exact conversion.
public enum HalfTable {
    public static let values: [Float] = (0...UInt16.max).map { Float(Float16(bitPattern: $0)) }
    /// The same table at a fixed address, for kernels that fetch it once per row instead of
    /// paying the global's once-check per block.
    nonisolated(unsafe) public static let pointer: UnsafePointer<Float> = {
        let table = UnsafeMutablePointer<Float>.allocate(capacity: values.count)
        table.initialize(from: values, count: values.count)
        return UnsafePointer(table)
    }()
}

/// The value `value` takes after a round trip through f16 (what ggml stores as a block scale).
@inline(__always)
public func roundedToHalf(_ value: Float) -> Float { Float(Float16(value)) }

@inline(__always)
public func bfloat16Bits(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    if bits & 0x7fff_ffff > 0x7f80_0000 { return UInt16(truncatingIfNeeded: bits >> 16) | 64 }  // quiet NaN
    return UInt16(truncatingIfNeeded: (bits &+ (0x7fff &+ ((bits >> 16) & 1))) >> 16)
}

@inline(__always)
public func floatFromBFloat16(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

extension UnsafeMutableRawPointer {
    @inline(__always) func storeHalf(_ value: Float, at offset: Int) {
        storeBytes(of: halfBits(value).littleEndian, toByteOffset: offset, as: UInt16.self)
    }
    @inline(__always) func storeUInt16(_ value: UInt16, at offset: Int) {
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt16.self)
    }
    @inline(__always) func storeUInt32(_ value: UInt32, at offset: Int) {
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
    }
    @inline(__always) func storeFloat(_ value: Float, at offset: Int) {
        storeBytes(of: value.bitPattern.littleEndian, toByteOffset: offset, as: UInt32.self)
    }
    @inline(__always) func storeByte(_ value: UInt8, at offset: Int) {
        storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
    }
}

extension UnsafeRawPointer {
    @inline(__always) func loadHalf(at offset: Int) -> Float {
        floatFromHalf(UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }
    @inline(__always) func loadUInt16(at offset: Int) -> UInt16 {
        UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    @inline(__always) func loadUInt32(at offset: Int) -> UInt32 {
        UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    @inline(__always) func loadFloat(at offset: Int) -> Float {
        Float(bitPattern: UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
    }
    @inline(__always) func loadByte(at offset: Int) -> UInt8 { load(fromByteOffset: offset, as: UInt8.self) }
}
