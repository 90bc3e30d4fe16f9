/// Fused dots of the 256-element K-quant super-blocks, on activations in `interleaved32` order:
/// 32 level bytes load as eight words, byte k of each word (one shift) holds the elements
/// 4i + k that x' keeps in lanes 8k…8k+7. Each sub-block's levels are dotted with x in f32
/// lanes, then scaled by its d·scale; minimums and level offsets multiply the precomputed lane
/// sums of x. The per-byte steps are written out four times by hand: as a loop, LLVM's
/// vectorizer re-vectorizes across iterations and interleaves the lanes with blends.

extension Q4_KCodec: RowDotCodec {
    public static var activationLayout: ActivationLayout { .interleaved32 }

    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        let halves = HalfTable.pointer
        var acc = SIMD8<Float>()
        for block in 0..<count / 256 {
            let b = row + block * 144, xb = x + block * 256
            let d = halfScale(halves, b, 0), dmin = halfScale(halves, b, 2)
            for run in 0..<4 {
                let w = words8(b, 16 + run * 32), xr = xb + run * 64
                var low = SIMD8<Float>(), high = SIMD8<Float>()
                nibbleDot(w, xr, 0, &low, &high)
                nibbleDot(w &>> 8, xr, 1, &low, &high)
                nibbleDot(w &>> 16, xr, 2, &low, &high)
                nibbleDot(w &>> 24, xr, 3, &low, &high)
                addRun(&acc, low, high, scales: b + 4, run: run, d: d, dmin: dmin, sums: x + count + 8 * (block * 8 + 2 * run))
            }
        }
        return acc.sum()
    }

    /// Byte k of each word of `q` (already shifted down by 8k): its low nibbles against x' lanes
    /// 8k… of the run's first group, its high nibbles against the second group.
    @inline(__always)
    static func nibbleDot(_ q: SIMD8<UInt32>, _ x: UnsafePointer<Float>, _ k: Int, _ low: inout SIMD8<Float>, _ high: inout SIMD8<Float>) {
        low = multiplyAdd(low, magicFloats8(q & 0xF), floats8(x + 8 * k))
        high = multiplyAdd(high, magicFloats8(q &>> 4 & 0xF), floats8(x + 32 + 8 * k))
    }
}

/// Adds one 64-element run of Q4_K/Q5_K: its two sub-blocks' level dots times d·scale, minus
/// the lane sums of x (`sums`, two groups) times dmin·min.
@inline(__always)
func addRun(_ acc: inout SIMD8<Float>, _ low: SIMD8<Float>, _ high: SIMD8<Float>, scales: UnsafeRawPointer, run: Int,
            d: Float, dmin: Float, sums: UnsafePointer<Float>) {
    let (sc1, m1) = KQuantPacking.scaleMin(2 * run, scales)
    let (sc2, m2) = KQuantPacking.scaleMin(2 * run + 1, scales)
    acc += low * (d * Float(sc1)) + high * (d * Float(sc2))
    acc -= floats8(sums) * (dmin * Float(m1)) + floats8(sums + 8) * (dmin * Float(m2))
}

extension Q5_KCodec: RowDotCodec {
    public static var activationLayout: ActivationLayout { .interleaved32 }

    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        let halves = HalfTable.pointer
        var acc = SIMD8<Float>()
        for block in 0..<count / 256 {
            let b = row + block * 176, xb = x + block * 256
            let d = halfScale(halves, b, 0), dmin = halfScale(halves, b, 2)
            let fifth = words8(b, 16)
            for run in 0..<4 {
                let w = words8(b, 48 + run * 32), xr = xb + run * 64
                let h = fifth &>> UInt32(2 * run)
                var low = SIMD8<Float>(), high = SIMD8<Float>()
                fiveBitDot(w, h, xr, 0, &low, &high)
                fiveBitDot(w &>> 8, h &>> 8, xr, 1, &low, &high)
                fiveBitDot(w &>> 16, h &>> 16, xr, 2, &low, &high)
                fiveBitDot(w &>> 24, h &>> 24, xr, 3, &low, &high)
                addRun(&acc, low, high, scales: b + 4, run: run, d: d, dmin: dmin, sums: x + count + 8 * (block * 8 + 2 * run))
            }
        }
        return acc.sum()
    }

    /// As Q4_K's, with the fifth bits in bit 0 (low sub-block) and bit 1 (high) of `h`.
    @inline(__always)
    static func fiveBitDot(_ q: SIMD8<UInt32>, _ h: SIMD8<UInt32>, _ x: UnsafePointer<Float>, _ k: Int,
                           _ low: inout SIMD8<Float>, _ high: inout SIMD8<Float>) {
        low = multiplyAdd(low, magicFloats8(q & 0xF | (h & 1) &<< 4), floats8(x + 8 * k))
        high = multiplyAdd(high, magicFloats8(q &>> 4 & 0xF | (h & 2) &<< 3), floats8(x + 32 + 8 * k))
    }
}

extension Q6_KCodec: RowDotCodec {
    public static var activationLayout: ActivationLayout { .interleaved32 }

    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        let halves = HalfTable.pointer
        var acc = SIMD8<Float>()
        for block in 0..<count / 256 {
            let b = row + block * 210, xb = x + block * 256
            let d = halfScale(halves, b, 208)
            for half in 0..<2 {
                let ql = half * 64, sc = 192 + half * 8
                let wa = words8(b, ql), wc = words8(b, ql + 32), wh = words8(b, 128 + half * 32)
                let xh = xb + half * 128
                var s = HalfBlockSums()
                s.addSixBit(wa, wc, wh, xh, 0)
                s.addSixBit(wa &>> 8, wc &>> 8, wh &>> 8, xh, 1)
                s.addSixBit(wa &>> 16, wc &>> 16, wh &>> 16, xh, 2)
                s.addSixBit(wa &>> 24, wc &>> 24, wh &>> 24, xh, 3)
                // Levels are q + 32 (0…63).
                s.accumulate(into: &acc, levelOffset: 32, xSums: x + count + 8 * (block * 8 + half * 4)) { scales(b, sc + 2 * $0, d) }
            }
        }
        return acc.sum()
    }

    /// d·scale of the sub-block at `offset` in lanes 0-3 and of the next one in lanes 4-7.
    @inline(__always)
    private static func scales(_ b: UnsafeRawPointer, _ offset: Int, _ d: Float) -> SIMD8<Float> {
        let first = d * Float(Int8(bitPattern: b.loadByte(at: offset)))
        let second = d * Float(Int8(bitPattern: b.loadByte(at: offset + 1)))
        return SIMD8(lowHalf: SIMD4(repeating: first), highHalf: SIMD4(repeating: second))
    }
}

extension Q3_KCodec: RowDotCodec {
    public static var activationLayout: ActivationLayout { .interleaved32 }

    public static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        let halves = HalfTable.pointer
        var acc = SIMD8<Float>()
        for block in 0..<count / 256 {
            let b = row + block * 110, xb = x + block * 256
            let d = halfScale(halves, b, 108)
            let hmask = words8(b, 0)
            for half in 0..<2 {
                let q = words8(b, 32 + half * 32), h = hmask &>> UInt32(4 * half)
                let xh = xb + half * 128
                // Levels stored as low + 4·high (0…7), i.e. q + 4.
                var s = HalfBlockSums()
                s.addThreeBit(q, h, xh, 0)
                s.addThreeBit(q &>> 8, h &>> 8, xh, 1)
                s.addThreeBit(q &>> 16, h &>> 16, xh, 2)
                s.addThreeBit(q &>> 24, h &>> 24, xh, 3)
                s.accumulate(into: &acc, levelOffset: 4, xSums: x + count + 8 * (block * 8 + half * 4)) { scales(b, 8 * half + 2 * $0, d) }
            }
        }
        return acc.sum()
    }

    /// d·scale of sub-block j (16 elements) in lanes 0-3 and of j + 1 in lanes 4-7.
    @inline(__always)
    private static func scales(_ b: UnsafeRawPointer, _ j: Int, _ d: Float) -> SIMD8<Float> {
        SIMD8(lowHalf: SIMD4(repeating: d * Float(KQuantPacking.q3Scale(j, b + 96))),
              highHalf: SIMD4(repeating: d * Float(KQuantPacking.q3Scale(j + 1, b + 96))))
    }
}

/// Levels·x of one 128-element half of Q6_K or Q3_K for its four 32-element groups (elements
/// l, l+32, l+64, l+96 of the half), lane i of group j holding element 4i + k after the k-th step.
/// Q2_K has no fused kernel: written this way without high bits it measured 0.8 GB/s against 0.9
/// for decoding the row and dotting it, for reasons the profile did not make plain.
struct HalfBlockSums {
    var s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>(), s4 = SIMD8<Float>()

    /// Q6_K: low nibbles from `a` (l) and `c` (l+32), two high bits per group from `h`.
    @inline(__always)
    mutating func addSixBit(_ a: SIMD8<UInt32>, _ c: SIMD8<UInt32>, _ h: SIMD8<UInt32>, _ x: UnsafePointer<Float>, _ k: Int) {
        add(a & 0xF | (h & 3) &<< 4, c & 0xF | (h &>> 2 & 3) &<< 4,
            a &>> 4 & 0xF | (h &>> 4 & 3) &<< 4, c &>> 4 & 0xF | (h &>> 6 & 3) &<< 4, x, k)
    }

    /// Q3_K: bits 2j…2j+1 of `q` and bit j of `h` (as 4) for group j.
    @inline(__always)
    mutating func addThreeBit(_ q: SIMD8<UInt32>, _ h: SIMD8<UInt32>, _ x: UnsafePointer<Float>, _ k: Int) {
        add(q & 3 | (h & 1) &<< 2, q &>> 2 & 3 | (h & 2) &<< 1, q &>> 4 & 3 | h & 4, q &>> 6 & 3 | (h & 8) &>> 1, x, k)
    }

    @inline(__always)
    private mutating func add(_ l1: SIMD8<UInt32>, _ l2: SIMD8<UInt32>, _ l3: SIMD8<UInt32>, _ l4: SIMD8<UInt32>,
                              _ x: UnsafePointer<Float>, _ k: Int) {
        s1 = multiplyAdd(s1, magicFloats8(l1), floats8(x + 8 * k))
        s2 = multiplyAdd(s2, magicFloats8(l2), floats8(x + 32 + 8 * k))
        s3 = multiplyAdd(s3, magicFloats8(l3), floats8(x + 64 + 8 * k))
        s4 = multiplyAdd(s4, magicFloats8(l4), floats8(x + 96 + 8 * k))
    }

    /// acc += Σⱼ (sⱼ − offset·Σx) · scale(j): levels stored with `levelOffset` added, the lane
    /// sums of x at `xSums` (four groups), `scale(j)` the d·scale of group j's two sub-blocks of
    /// 16 (lanes 0-3 and 4-7).
    @inline(__always)
    func accumulate(into acc: inout SIMD8<Float>, levelOffset: Float, xSums: UnsafePointer<Float>, scale: (Int) -> SIMD8<Float>) {
        acc += (s1 - levelOffset * floats8(xSums)) * scale(0)
        acc += (s2 - levelOffset * floats8(xSums + 8)) * scale(1)
        acc += (s3 - levelOffset * floats8(xSums + 16)) * scale(2)
        acc += (s4 - levelOffset * floats8(xSums + 24)) * scale(3)
    }
}
