/// Fused dots of the 32-element legacy types. Per block the unsigned levels are dotted with x in
/// f32 lanes and scaled once: d·Σ qⱼxⱼ − (d·offset)·Σ xⱼ for the symmetric types, d·Σ qⱼxⱼ +
/// m·Σ xⱼ for the types with a minimum. (Subtracting the offset from each level instead lets
/// LLVM narrow the conversion to byte arithmetic and scalarize it.)

extension Q4_0Codec: RowDotCodec {
    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        let halves = HalfTable.pointer
        var acc = SIMD8<Float>()
        for block in 0..<count / 32 {
            let b = row + block * 18
            let (s, sx) = legacyLevelDot(b, levels: 2, fifthBits: nil, x + block * 32)
            let d = halfScale(halves, b, 0)
            acc += s * d - sx * (8 * d)
        }
        return acc.sum()
    }
}

extension Q4_1Codec: RowDotCodec {
    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        let halves = HalfTable.pointer
        var acc = SIMD8<Float>()
        for block in 0..<count / 32 {
            let b = row + block * 20
            let (s, sx) = legacyLevelDot(b, levels: 4, fifthBits: nil, x + block * 32)
            acc += s * halfScale(halves, b, 0) + sx * halfScale(halves, b, 2)
        }
        return acc.sum()
    }
}

extension Q5_0Codec: RowDotCodec {
    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        let halves = HalfTable.pointer
        var acc = SIMD8<Float>()
        for block in 0..<count / 32 {
            let b = row + block * 22
            let (s, sx) = legacyLevelDot(b, levels: 6, fifthBits: b.loadUInt32(at: 2), x + block * 32)
            let d = halfScale(halves, b, 0)
            acc += s * d - sx * (16 * d)
        }
        return acc.sum()
    }
}

extension Q5_1Codec: RowDotCodec {
    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        let halves = HalfTable.pointer
        var acc = SIMD8<Float>()
        for block in 0..<count / 32 {
            let b = row + block * 24
            let (s, sx) = legacyLevelDot(b, levels: 8, fifthBits: b.loadUInt32(at: 4), x + block * 32)
            acc += s * halfScale(halves, b, 0) + sx * halfScale(halves, b, 2)
        }
        return acc.sum()
    }
}

/// One 32-element block of Q4_0/Q4_1/Q5_0/Q5_1: Σ levelⱼ·xⱼ and Σ xⱼ in lanes, from the 16
/// nibble bytes at offset `levels` (element j low, j + 16 high) and, for the 5-bit types, the
/// fifth bits (bit j of `fifthBits` for element j).
@inline(__always)
func legacyLevelDot(_ b: UnsafeRawPointer, levels offset: Int, fifthBits: UInt32?, _ xb: UnsafePointer<Float>)
    -> (levels: SIMD8<Float>, x: SIMD8<Float>) {
    var qa = byteWords8(b, offset), qb = byteWords8(b, offset + 8)
    var qc = qa &>> 4, qd = qb &>> 4
    qa &= 0xF
    qb &= 0xF
    if let bits = fifthBits {
        qa |= fifthBits8(bits, from: 0)
        qb |= fifthBits8(bits, from: 8)
        qc |= fifthBits8(bits, from: 16)
        qd |= fifthBits8(bits, from: 24)
    }
    let x0 = floats8(xb), x1 = floats8(xb + 8), x2 = floats8(xb + 16), x3 = floats8(xb + 24)
    var s = floats8(qa) * x0
    s = multiplyAdd(s, floats8(qb), x1)
    s = multiplyAdd(s, floats8(qc), x2)
    s = multiplyAdd(s, floats8(qd), x3)
    return (s, (x0 + x1) + (x2 + x3))
}

extension Q8_0Codec: RowDotCodec {
    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        let halves = HalfTable.pointer
        var acc = SIMD8<Float>()
        for block in 0..<count / 32 {
            let b = row + block * 34, xb = x + block * 32
            var s = signedLevels8(b, 2) * floats8(xb)
            s = multiplyAdd(s, signedLevels8(b, 10), floats8(xb + 8))
            s = multiplyAdd(s, signedLevels8(b, 18), floats8(xb + 16))
            s = multiplyAdd(s, signedLevels8(b, 26), floats8(xb + 24))
            acc += s * halfScale(halves, b, 0)
        }
        return acc.sum()
    }
}
