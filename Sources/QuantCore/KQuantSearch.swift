/// The scale searches shared by ggml's quantizers (ggml-quants.c: `make_qx_quants`,
/// `make_q3_quants`, `make_qkx2_quants`, `make_qkx3_quants`, `make_qp_quants`,
/// `best_index_int8`). Provenance: ggml-org/llama.cpp, ggml/src/ggml-quants.c. Each returns the
/// block scale and writes the chosen levels; arithmetic order and rounding follow the
/// reference build exactly (see Rounding.swift), because the bytes must match.
enum KQuantSearch {
    /// `GROUP_MAX_EPS`: a group whose largest magnitude is below this is treated as all zero.
    static let groupMaxEps: Float = 1e-15

    /// Symmetric levels l ∈ [-nmax, nmax-1] stored as l + nmax, scale chosen by a 19-step search
    /// maximising (Σw·x·l)²/Σw·l² (`make_qx_quants`, rmse_type 1). Weights are `weights[i]` or,
    /// without them, x².
    static func symmetric(_ n: Int, nmax: Int32, _ x: UnsafePointer<Float>, _ levels: UnsafeMutablePointer<Int8>,
                          weights: UnsafePointer<Float>?) -> Float {
        if let weights { return symmetric(n, nmax: nmax, x, levels, weightsOrSquares: weights) }
        // Without weights the reference uses w = x·x, computed the same way here once.
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { squares in
            for i in 0..<n { squares[i] = x[i] * x[i] }
            return symmetric(n, nmax: nmax, x, levels, weightsOrSquares: squares.baseAddress!)
        }
    }

    /// The reference tries 19 inverse scales one after another, each a pass over the group. Here
    /// the candidates are SIMD lanes (lane 0: −nmax/max; lanes 1…18: steps −9…−1, 1…9, the
    /// reference's order) and one pass over the group accumulates all of them. Each lane sums
    /// over i in the reference's order with the same two-rounding arithmetic, so every lane's
    /// (Σw·x·l, Σw·l²) is bit-identical to the scalar loop's, and the sequential choice below picks
    /// the same candidate. (Vectorising over i instead would reorder the sums and flip
    /// near-ties.) Measured: Q6_K quantize 99 → 179–212 MB/s on one core.
    private static func symmetric(_ n: Int, nmax: Int32, _ x: UnsafePointer<Float>, _ levels: UnsafeMutablePointer<Int8>,
                                  weightsOrSquares w: UnsafePointer<Float>) -> Float {
        let (amax, max) = signedAbsMax(x, n)
        if amax < groupMaxEps {
            for i in 0..<n { levels[i] = 0 }
            return 0
        }
        // 24 lanes (three AVX registers); lanes 19…23 repeat lane 0 and are never chosen.
        let (scale, iscale) = CandidateLanes.with(repeating: -Float(nmax) / max) { lanes -> (Float, Float) in
            for step in -9...9 where step != 0 {
                lanes.iscale[step < 0 ? step + 10 : step + 9] = -mulAdd(0.1, Float(step), Float(nmax)) / max
            }
            let iscales = CandidateLanes.load(lanes.iscale)
            let lowest = SIMD8<Int32>(repeating: -nmax), highest = SIMD8<Int32>(repeating: nmax &- 1)
            var sumlx = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>()), suml2 = sumlx
            @inline(__always) func accumulate(_ iscale: SIMD8<Float>, _ i: Int, _ slx: inout SIMD8<Float>, _ sl2: inout SIMD8<Float>) {
                let fl = SIMD8<Float>(nearestInts(iscale * x[i]).clamped(lowerBound: lowest, upperBound: highest))
                slx += (w[i] * x[i]) * fl
                sl2 += (w[i] * fl) * fl
            }
            for i in 0..<n {
                accumulate(iscales.0, i, &sumlx.0, &suml2.0)
                accumulate(iscales.1, i, &sumlx.1, &suml2.1)
                accumulate(iscales.2, i, &sumlx.2, &suml2.2)
            }
            CandidateLanes.store(sumlx, into: lanes.first)
            CandidateLanes.store(suml2, into: lanes.second)
            let slx = lanes.first, sl2 = lanes.second
            var scale = sl2[0] != 0 ? slx[0] / sl2[0] : 0
            var best = scale * slx[0]
            var chosen = 0
            for k in 1..<19 where sl2[k] > 0 && slx[k] * slx[k] > best * sl2[k] {
                scale = slx[k] / sl2[k]
                best = scale * slx[k]
                chosen = k
            }
            return (scale, lanes.iscale[chosen])
        }
        for i in 0..<n {
            levels[i] = Int8(truncatingIfNeeded: Swift.max(-nmax, Swift.min(nmax &- 1, nearestInt(iscale * x[i]))) &+ nmax)
        }
        return scale
    }

    /// Q3_K's search (`make_q3_quants` with do_rmse): start from the absmax scale, then up to five
    /// passes that move single levels while the weighted fit (w = x²) improves.
    static func q3(_ n: Int, nmax: Int32, _ x: UnsafePointer<Float>, _ levels: UnsafeMutablePointer<Int8>) -> Float {
        let (amax, max) = signedAbsMax(x, n)
        if amax < groupMaxEps {
            for i in 0..<n { levels[i] = 0 }
            return 0
        }
        let iscale = -Float(nmax) / max
        var sumlx: Float = 0, suml2: Float = 0
        for i in 0..<n {
            let l = Swift.max(-nmax, Swift.min(nmax - 1, nearestInt(iscale * x[i])))
            levels[i] = Int8(l)
            let w = x[i] * x[i], fl = Float(l)
            sumlx = mulAdd(w * x[i], fl, sumlx)
            suml2 = mulAdd(w * fl, fl, suml2)
        }
        refineLevels(n, x, levels, weights: nil, sumlx: &sumlx, suml2: &suml2, clamp: { Swift.max(-nmax, Swift.min(nmax - 1, $0)) },
                     requirePositiveSl2First: false)
        for i in 0..<n { levels[i] += Int8(nmax) }
        return suml2 > 0 ? sumlx / suml2 : 0
    }

    /// `q3` for eight groups at once, one per SIMD lane (group g's n values at x + g·n, levels to
    /// levels + g·n, scale to scales[g]); each lane is the exact sequential search, its
    /// accept/reject decisions masks. A lane whose pass changed nothing would change nothing in
    /// further passes either, so running passes until no lane changes equals stopping per lane.
    static func q3x8(_ n: Int, nmax: Int32, _ x: UnsafePointer<Float>, _ levels: UnsafeMutablePointer<Int8>,
                     scales: UnsafeMutablePointer<Float>) {
        typealias V = SIMD8<Float>
        withUnsafeTemporaryAllocation(of: V.self, capacity: 2 * n) { buffer in
            let xs = buffer.baseAddress!, ls = xs + n
            transposeGroups(x, n, into: xs)
            var amax = V(), maximum = V()
            for i in 0..<n {
                let ax = magnitudes(xs[i])
                let larger = ax .> amax
                amax.replace(with: ax, where: larger)
                maximum.replace(with: xs[i], where: larger)
            }
            let zeroGroup = amax .< groupMaxEps
            let lowest = SIMD8<Int32>(repeating: -nmax), highest = SIMD8<Int32>(repeating: nmax - 1)
            let iscale = -Float(nmax) / maximum
            var sumlx = V(), suml2 = V()
            for i in 0..<n {
                let fl = V(nearestInts(iscale * xs[i]).clamped(lowerBound: lowest, upperBound: highest))
                ls[i] = fl
                let w = xs[i] * xs[i]
                sumlx = (w * xs[i]) * fl + sumlx
                suml2 = (w * fl) * fl + suml2
            }
            for _ in 0..<5 {
                var changed = SIMDMask<SIMD8<Int32>>(repeating: false)
                for i in 0..<n {
                    let w = xs[i] * xs[i], wx = w * xs[i], current = ls[i]
                    let slx = -wx * current + sumlx
                    let sl2 = -(w * current) * current + suml2
                    let newL = V(nearestInts(xs[i] * sl2 / slx).clamped(lowerBound: lowest, upperBound: highest))
                    let slxNew = wx * newL + slx, sl2New = (w * newL) * newL + sl2
                    let accept = (slx .> 0) .& (newL .!= current) .& (sl2New .> 0)
                        .& ((slxNew * slxNew) * suml2 .> (sumlx * sumlx) * sl2New)
                    ls[i].replace(with: newL, where: accept)
                    sumlx.replace(with: slxNew, where: accept)
                    suml2.replace(with: sl2New, where: accept)
                    changed .|= accept
                }
                if !any(changed) { break }
            }
            var scale = sumlx / suml2
            scale.replace(with: 0, where: .!(suml2 .> 0) .| zeroGroup)
            for g in 0..<8 {
                scales[g] = scale[g]
                for i in 0..<n { levels[g * n + i] = zeroGroup[g] ? 0 : Int8(ls[i][g]) + Int8(nmax) }
            }
        }
    }

    /// Non-negative levels in [0, nmax] for a set of positive values (the sub-block scales and mins
    /// of the K-quants), `make_qp_quants`: a 9-step scale search on weighted squared error, then
    /// level refinement.
    static func positive(_ n: Int, nmax: Int32, _ x: UnsafePointer<Float>, _ levels: UnsafeMutablePointer<UInt8>,
                         weights: UnsafePointer<Float>) -> Float {
        var max: Float = 0
        for i in 0..<n { max = Swift.max(max, x[i]) }
        if max < groupMaxEps {
            for i in 0..<n { levels[i] = 0 }
            return 0
        }
        var iscale = Float(nmax) / max
        for i in 0..<n { levels[i] = UInt8(truncatingIfNeeded: nearestInt(iscale * x[i])) }
        let scale = 1 / iscale
        var bestMse: Float = 0
        for i in 0..<n {
            let diff = mulAdd(-scale, Float(levels[i]), x[i])
            bestMse = mulAdd(weights[i] * diff, diff, bestMse)
        }
        for step in -4...4 where step != 0 {
            let iscaleStep = mulAdd(0.1, Float(step), Float(nmax)) / max
            let scaleStep = 1 / iscaleStep
            var mse: Float = 0
            for i in 0..<n {
                let l = Swift.min(nmax, nearestInt(iscaleStep * x[i]))
                let diff = mulAdd(-scaleStep, Float(l), x[i])
                mse = mulAdd(weights[i] * diff, diff, mse)
            }
            if mse < bestMse {
                bestMse = mse
                iscale = iscaleStep
            }
        }
        var sumlx: Float = 0, suml2: Float = 0
        var signed = [Int8](repeating: 0, count: n)
        for i in 0..<n {
            let l = Swift.min(nmax, nearestInt(iscale * x[i]))
            signed[i] = Int8(l)
            let w = weights[i], fl = Float(l)
            sumlx = mulAdd(w * x[i], fl, sumlx)
            suml2 = mulAdd(w * fl, fl, suml2)
        }
        signed.withUnsafeMutableBufferPointer { buffer in
            refineLevels(n, x, buffer.baseAddress!, weights: weights, sumlx: &sumlx, suml2: &suml2,
                         clamp: { Swift.min(nmax, $0) }, requirePositiveSl2First: true)
        }
        for i in 0..<n { levels[i] = UInt8(bitPattern: signed[i]) }
        return suml2 > 0 ? sumlx / suml2 : 0
    }

    /// Up to five passes moving one level at a time to x·Σ'l²/Σ'lx (the sums without that element)
    /// while (Σlx)²/Σl² improves; shared by `make_q3_quants` (w = x²) and `make_qp_quants`.
    private static func refineLevels(_ n: Int, _ x: UnsafePointer<Float>, _ levels: UnsafeMutablePointer<Int8>,
                                     weights: UnsafePointer<Float>?, sumlx: inout Float, suml2: inout Float,
                                     clamp: (Int32) -> Int32, requirePositiveSl2First: Bool) {
        for _ in 0..<5 {
            var changed = 0
            for i in 0..<n {
                let w = weights?[i] ?? x[i] * x[i]
                let wx = w * x[i]
                let current = Float(levels[i])
                var slx = mulAdd(-wx, current, sumlx)
                if requirePositiveSl2First {
                    var sl2 = mulAdd(-(w * current), current, suml2)
                    guard slx > 0 && sl2 > 0 else { continue }
                    let newL = clamp(nearestInt(x[i] * sl2 / slx))
                    if newL != Int32(levels[i]) {
                        slx = mulAdd(wx, Float(newL), slx)
                        sl2 = mulAdd(w * Float(newL), Float(newL), sl2)
                        if slx * slx * suml2 > sumlx * sumlx * sl2 {
                            levels[i] = Int8(newL)
                            sumlx = slx
                            suml2 = sl2
                            changed += 1
                        }
                    }
                } else {
                    guard slx > 0 else { continue }
                    var sl2 = mulAdd(-(w * current), current, suml2)
                    let newL = clamp(nearestInt(x[i] * sl2 / slx))
                    if newL != Int32(levels[i]) {
                        slx = mulAdd(wx, Float(newL), slx)
                        sl2 = mulAdd(w * Float(newL), Float(newL), sl2)
                        if sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2 {
                            levels[i] = Int8(newL)
                            sumlx = slx
                            suml2 = sl2
                            changed += 1
                        }
                    }
                }
            }
            if changed == 0 { break }
        }
    }

    /// Index of the codebook value nearest to `x` in a sorted codebook of power-of-two size
    /// (`best_index_int8`); ties go to the larger value.
    @inline(__always)
    static func nearestIndex(_ codebook: UnsafePointer<Int8>, count: Int, _ x: Float) -> Int {
        let twice = x + x
        var index = 0
        var step = count >> 1
        while step > 0 {
            let j = index + step
            if twice >= Float(Int32(codebook[j - 1]) + Int32(codebook[j])) { index = j }
            step >>= 1
        }
        return index
    }
}
