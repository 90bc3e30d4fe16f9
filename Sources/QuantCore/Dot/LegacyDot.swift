/// Fused dots of the 32-element legacy types. Per block the unsigned levels are dotted with x in
/// f32 lanes and scaled once: d·Σ qⱼxⱼ − (d·offset)·Σ xⱼ for the symmetric types, d·Σ qⱼxⱼ +
/// m·Σ xⱼ for the types with a minimum. (Subtracting the offset from each level instead lets
/// LLVM narrow the conversion to byte arithmetic and scalarize it.)

extension Q4_0Codec: RowDotCodec {
    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        let halves = HalfTable.pointer
        var acc = SIMD8<Float>()
        for block in 0..<count / 32 {
            let b = row + block * 18, xb = x + block * 32
            let qa = byteWords8(b, 2), qb = byteWords8(b, 10)
            let x0 = floats8(xb), x1 = floats8(xb + 8), x2 = floats8(xb + 16), x3 = floats8(xb + 24)
            var s = floats8(qa & 0xF) * x0
            s = multiplyAdd(s, floats8(qb & 0xF), x1)
            s = multiplyAdd(s, floats8(qa &>> 4), x2)
            s = multiplyAdd(s, floats8(qb &>> 4), x3)
            let d = halfScale(halves, b, 0)
            acc += s * d - ((x0 + x1) + (x2 + x3)) * (8 * d)
        }
        return acc.sum()
    }
}

extension Q4_1Codec: RowDotCodec {
    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        let halves = HalfTable.pointer
        var acc = SIMD8<Float>()
        for block in 0..<count / 32 {
            let b = row + block * 20, xb = x + block * 32
            let qa = byteWords8(b, 4), qb = byteWords8(b, 12)
            let x0 = floats8(xb), x1 = floats8(xb + 8), x2 = floats8(xb + 16), x3 = floats8(xb + 24)
            var s = floats8(qa & 0xF) * x0
            s = multiplyAdd(s, floats8(qb & 0xF), x1)
            s = multiplyAdd(s, floats8(qa &>> 4), x2)
            s = multiplyAdd(s, floats8(qb &>> 4), x3)
            acc += s * halfScale(halves, b, 0) + ((x0 + x1) + (x2 + x3)) * halfScale(halves, b, 2)
        }
        return acc.sum()
    }
}

extension Q5_0Codec: RowDotCodec {
    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        let halves = HalfTable.pointer
        var acc = SIMD8<Float>()
        for block in 0..<count / 32 {
            let b = row + block * 22, xb = x + block * 32
            let qh = b.loadUInt32(at: 2), qa = byteWords8(b, 6), qb = byteWords8(b, 14)
            let x0 = floats8(xb), x1 = floats8(xb + 8), x2 = floats8(xb + 16), x3 = floats8(xb + 24)
            var s = floats8(qa & 0xF | fifthBits8(qh, from: 0)) * x0
            s = multiplyAdd(s, floats8(qb & 0xF | fifthBits8(qh, from: 8)), x1)
            s = multiplyAdd(s, floats8(qa &>> 4 | fifthBits8(qh, from: 16)), x2)
            s = multiplyAdd(s, floats8(qb &>> 4 | fifthBits8(qh, from: 24)), x3)
            let d = halfScale(halves, b, 0)
            acc += s * d - ((x0 + x1) + (x2 + x3)) * (16 * d)
        }
        return acc.sum()
    }
}

extension Q5_1Codec: RowDotCodec {
    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        let halves = HalfTable.pointer
        var acc = SIMD8<Float>()
        for block in 0..<count / 32 {
            let b = row + block * 24, xb = x + block * 32
            let qh = b.loadUInt32(at: 4), qa = byteWords8(b, 8), qb = byteWords8(b, 16)
            let x0 = floats8(xb), x1 = floats8(xb + 8), x2 = floats8(xb + 16), x3 = floats8(xb + 24)
            var s = floats8(qa & 0xF | fifthBits8(qh, from: 0)) * x0
            s = multiplyAdd(s, floats8(qb & 0xF | fifthBits8(qh, from: 8)), x1)
            s = multiplyAdd(s, floats8(qa &>> 4 | fifthBits8(qh, from: 16)), x2)
            s = multiplyAdd(s, floats8(qb &>> 4 | fifthBits8(qh, from: 24)), x3)
            acc += s * halfScale(halves, b, 0) + ((x0 + x1) + (x2 + x3)) * halfScale(halves, b, 2)
        }
        return acc.sum()
    }
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
