/// The asymmetric scale-and-min searches of the K-quants (`make_qkx2_quants`,
/// `make_qkx3_quants`), eight groups at a time in `asymmetric8`. Provenance: ggml-org/llama.cpp,
/// ggml/src/ggml-quants.c; see `KQuantSearch` for the rules they share.
extension KQuantSearch {
    /// The two asymmetric searches of ggml-quants.c, which differ in three details.
    enum AsymmetricVariant {
        /// `make_qkx2_quants`: levels clamped to [0, nmax]; error |d| (MAD) or d².
        case qkx2(useMad: Bool)
        /// `make_qkx3_quants`: squared error; a level is 0 unless iscale·(x − min) > 0 and is
        /// taken from min(v, nmax), guarding a min that sits at or near the max.
        case qkx3
    }

    /// Asymmetric levels l ∈ [0, nmax] with a min: x ≈ scale·l − min, searching `nstep + 1`
    /// scales from (rmin + nmax)/(max − min) in steps of rdelta, each solved by weighted least
    /// squares for scale and min. Returns the scale; `theMin` receives −min (≥ 0).
    static func asymmetric(_ n: Int, nmax: Int32, _ x: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                           _ levels: UnsafeMutablePointer<UInt8>, theMin: inout Float,
                           rmin: Float, rdelta: Float, nstep: Int, variant: AsymmetricVariant) -> Float {
        let useMad: Bool
        if case let .qkx2(mad) = variant { useMad = mad } else { useMad = false }
        @inline(__always) func error(_ diff: Float) -> Float { useMad ? abs(diff) : diff * diff }
        var min = x[0], max = x[0]
        var sumW = weights[0]
        var sumX = sumW * x[0]
        for i in 1..<n {
            if x[i] < min { min = x[i] }
            if x[i] > max { max = x[i] }
            let w = weights[i]
            sumW += w
            sumX = mulAdd(w, x[i], sumX)
        }
        if min > 0 { min = 0 }
        let degenerate: Bool
        switch variant {
        case .qkx2: degenerate = max == min
        case .qkx3: degenerate = max <= min
        }
        if degenerate {
            for i in 0..<n { levels[i] = 0 }
            theMin = -min
            return 0
        }
        var iscale = Float(nmax) / (max - min)
        var scale = 1 / iscale
        var bestError: Float = 0
        for i in 0..<n {
            let l = nearestInt(iscale * (x[i] - min))
            levels[i] = UInt8(Swift.max(0, Swift.min(nmax, l)))
            bestError = mulAdd(weights[i], error(mulAdd(scale, Float(levels[i]), min) - x[i]), bestError)
        }
        if nstep < 1 {
            theMin = -min
            return scale
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n) { candidate in
            let scratch = candidate.baseAddress!
            for step in 0...nstep {
                iscale = (mulAdd(rdelta, Float(step), rmin) + Float(nmax)) / (max - min)
                var sumL: Float = 0, sumL2: Float = 0, sumXL: Float = 0
                for i in 0..<n {
                    let l: Int32
                    switch variant {
                    case .qkx2:
                        l = Swift.max(0, Swift.min(nmax, nearestInt(iscale * (x[i] - min))))
                    case .qkx3:
                        let v = iscale * (x[i] - min)
                        l = v > 0 ? nearestInt(Swift.min(v, Float(nmax))) : 0
                    }
                    scratch[i] = UInt8(truncatingIfNeeded: l)
                    let w = weights[i], fl = Float(l)
                    sumL = mulAdd(w, fl, sumL)
                    sumL2 = mulAdd(w * fl, fl, sumL2)
                    sumXL = mulAdd(w * fl, x[i], sumXL)
                }
                let D = mulAdd(sumW, sumL2, -(sumL * sumL))
                if D > 0 {
                    var thisScale = mulAdd(sumW, sumXL, -(sumX * sumL)) / D
                    var thisMin = mulAdd(sumL2, sumX, -(sumL * sumXL)) / D
                    if thisMin > 0 {
                        thisMin = 0
                        thisScale = sumXL / sumL2
                    }
                    var candidateError: Float = 0
                    for i in 0..<n {
                        candidateError = mulAdd(weights[i], error(mulAdd(thisScale, Float(scratch[i]), thisMin) - x[i]), candidateError)
                    }
                    if candidateError < bestError {
                        for i in 0..<n { levels[i] = scratch[i] }
                        bestError = candidateError
                        scale = thisScale
                        min = thisMin
                    }
                }
            }
        }
        theMin = -min
        return scale
    }

    /// `asymmetric` for eight groups at once, one group per SIMD lane: group g's n values at
    /// x + g·n with weights at weights + g·n; levels to levels + g·n, the scale to scales[g] and
    /// −min to mins[g]. Every lane runs the reference's sequential search exactly — same order,
    /// same roundings, the same data-dependent choices as masks — so the results are
    /// `asymmetric`'s bit for bit. The scalar search is a chain of dependent additions per
    /// candidate (latency-bound); eight independent groups fill the pipeline. (Running the
    /// candidates as lanes instead does not work here: a better candidate moves min, which later
    /// candidates depend on; speculating on it measured Q4_K 53 → 34 MB/s.)
    static func asymmetric8(_ n: Int, nmax: Int32, _ x: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                            _ levels: UnsafeMutablePointer<UInt8>, scales: UnsafeMutablePointer<Float>,
                            mins: UnsafeMutablePointer<Float>, rmin: Float, rdelta: Float, nstep: Int,
                            variant: AsymmetricVariant) {
        typealias V = SIMD8<Float>
        withUnsafeTemporaryAllocation(of: V.self, capacity: 4 * n) { buffer in
            let xs = buffer.baseAddress!, ws = xs + n, best = xs + 2 * n, candidate = xs + 3 * n
            transposeGroups(x, n, into: xs)
            transposeGroups(weights, n, into: ws)
            let useMad: Bool
            if case let .qkx2(mad) = variant { useMad = mad } else { useMad = false }
            @inline(__always) func error(_ diff: V) -> V {
                useMad ? magnitudes(diff) : diff * diff
            }
            let top = V(repeating: Float(nmax)), zero = SIMD8<Int32>(), topLevel = SIMD8<Int32>(repeating: nmax)
            @inline(__always) func clampedLevel(_ iscale: V, _ shifted: V) -> V {
                V(nearestInts(iscale * shifted).clamped(lowerBound: zero, upperBound: topLevel))
            }
            @inline(__always) func level(_ iscale: V, _ shifted: V) -> V {
                switch variant {
                case .qkx2:
                    return clampedLevel(iscale, shifted)
                case .qkx3:
                    let v = iscale * shifted
                    return V(nearestInts(v.replacing(with: top, where: v .> top)).replacing(with: zero, where: .!(v .> 0)))
                }
            }
            var minimum = xs[0], maximum = xs[0]
            let sumW0 = ws[0]
            var sumW = sumW0, sumX = sumW0 * xs[0]
            for i in 1..<n {
                minimum.replace(with: xs[i], where: xs[i] .< minimum)
                maximum.replace(with: xs[i], where: xs[i] .> maximum)
                sumW += ws[i]
                sumX = ws[i] * xs[i] + sumX
            }
            minimum.replace(with: 0, where: minimum .> 0)
            let degenerate: SIMDMask<SIMD8<Int32>>
            switch variant {
            case .qkx2: degenerate = maximum .== minimum
            case .qkx3: degenerate = maximum .<= minimum
            }
            let degenerateMin = minimum
            let iscale0 = top / (maximum - minimum)
            var scale = 1 / iscale0
            var bestError = V()
            for i in 0..<n {
                best[i] = clampedLevel(iscale0, xs[i] - minimum)
                bestError = ws[i] * error((scale * best[i] + minimum) - xs[i]) + bestError
            }
            for step in 0..<(nstep < 1 ? 0 : nstep + 1) {
                let iscale = (mulAdd(rdelta, Float(step), rmin) + Float(nmax)) / (maximum - minimum)
                var sumL = V(), sumL2 = V(), sumXL = V()
                for i in 0..<n {
                    let l = level(iscale, xs[i] - minimum)
                    candidate[i] = l
                    let wl = ws[i] * l
                    sumL = wl + sumL
                    sumL2 = wl * l + sumL2
                    sumXL = wl * xs[i] + sumXL
                }
                let d = sumW * sumL2 - sumL * sumL
                var thisScale = (sumW * sumXL - sumX * sumL) / d
                var thisMin = (sumL2 * sumX - sumL * sumXL) / d
                let positive = thisMin .> 0
                thisMin.replace(with: 0, where: positive)
                thisScale.replace(with: sumXL / sumL2, where: positive)
                var candidateError = V()
                for i in 0..<n {
                    candidateError = ws[i] * error((thisScale * candidate[i] + thisMin) - xs[i]) + candidateError
                }
                let better = (d .> 0) .& (candidateError .< bestError)
                guard any(better) else { continue }
                for i in 0..<n { best[i].replace(with: candidate[i], where: better) }
                bestError.replace(with: candidateError, where: better)
                scale.replace(with: thisScale, where: better)
                minimum.replace(with: thisMin, where: better)
            }
            scale.replace(with: 0, where: degenerate)
            minimum.replace(with: degenerateMin, where: degenerate)
            for g in 0..<8 {
                scales[g] = scale[g]
                mins[g] = -minimum[g]
                for i in 0..<n { levels[g * n + i] = degenerate[g] ? 0 : UInt8(best[i][g]) }
            }
        }
    }
}
