/// The importance-weighted quantizers of the legacy 32-element types (`quantize_row_q4_0_impl`,
/// `_q4_1_`, `_q5_0_`, `_q5_1_`): per block, weights w = qw·√(σ² + x²) with σ² the mean square of
/// the whole row, then the symmetric (`make_qx_quants`) or asymmetric (`make_qkx3_quants`) search.
/// The codecs differ only in nmax and how they store the result.
enum LegacyWeighted {
    /// Symmetric types: `store(d, levels, block)` with levels in [0, 2·nmax).
    static func symmetric(_ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>, nmax: Int32,
                          blockBytes: Int, into blocks: UnsafeMutableRawPointer,
                          store: (Float, UnsafePointer<Int8>, UnsafeMutableRawPointer) -> Void) {
        let sigma2 = rowMeanSquare(x, count)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 32) { weights in
            withUnsafeTemporaryAllocation(of: Int8.self, capacity: 32) { levels in
                for block in 0..<count / 32 {
                    let xb = x + block * 32, qw = importance + block * 32
                    for j in 0..<32 { weights[j] = qw[j] * mulAdd(xb[j], xb[j], sigma2).squareRoot() }
                    let d = KQuantSearch.symmetric(32, nmax: nmax, xb, levels.baseAddress!, weights: weights.baseAddress!)
                    store(d, levels.baseAddress!, blocks + block * blockBytes)
                }
            }
        }
    }

    /// Asymmetric types: `store(d, −min, levels, block)` with levels in [0, nmax].
    static func asymmetric(_ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>, nmax: Int32,
                           blockBytes: Int, into blocks: UnsafeMutableRawPointer,
                           store: (Float, Float, UnsafePointer<UInt8>, UnsafeMutableRawPointer) -> Void) {
        let sigma2 = rowMeanSquare(x, count)
        // Eight blocks at a time through the lane-parallel search, the rest one by one.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 8 * 32 + 16) { buffer in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 8 * 32) { levels in
                let weights = buffer.baseAddress!, scales = weights + 8 * 32, mins = scales + 8
                let blockCount = count / 32
                var block = 0
                while block < blockCount {
                    let group = blockCount - block >= 8 ? 8 : 1
                    let xb = x + block * 32, qw = importance + block * 32
                    for j in 0..<32 * group { weights[j] = qw[j] * mulAdd(xb[j], xb[j], sigma2).squareRoot() }
                    if group == 8 {
                        KQuantSearch.asymmetric8(32, nmax: nmax, xb, weights: weights, levels.baseAddress!, scales: scales, mins: mins,
                                                 rmin: -0.9, rdelta: 0.05, nstep: 36, variant: .qkx3)
                    } else {
                        scales[0] = KQuantSearch.asymmetric(32, nmax: nmax, xb, weights: weights, levels.baseAddress!, theMin: &mins[0],
                                                            rmin: -0.9, rdelta: 0.05, nstep: 36, variant: .qkx3)
                    }
                    for g in 0..<group { store(scales[g], -mins[g], levels.baseAddress! + 32 * g, blocks + (block + g) * blockBytes) }
                    block += group
                }
            }
        }
    }
}

/// Σx²/n over a row, accumulated in order as the reference build does.
@inline(__always)
func rowMeanSquare(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var sum: Float = 0
    for j in 0..<n { sum = mulAdd(x[j], x[j], sum) }
    return sum / Float(n)
}
