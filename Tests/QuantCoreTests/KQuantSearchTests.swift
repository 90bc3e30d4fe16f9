@testable import QuantCore
import Testing
import TestScratch

/// The lane-parallel searches must choose exactly what the scalar reference searches choose.
@Suite(.tags(.unit)) struct KQuantSearchTests {
    /// Eight groups per call: gaussian at several scales, all positive (min clamps to 0), all
    /// zero and constant (degenerate), one outlier, and tiny values.
    static func groups(_ n: Int, seed: UInt64) -> [Float] {
        var values: [Float] = []
        let scales: [Float] = [1, 1e-3, 37, 1e-7]
        for g in 0..<8 {
            let gaussian = gaussianVector(n, seed: seed &+ UInt64(g))
            switch g {
            case 4: values += gaussian.map { abs($0) + 0.5 }
            case 5: values += [Float](repeating: 0, count: n)
            case 6: values += [Float](repeating: -0.75, count: n)
            case 7: values += gaussian.enumerated().map { $0.offset == 3 ? 40 : $0.element }
            default: values += gaussian.map { $0 * scales[g] }
            }
        }
        return values
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let n: Int, nmax: Int32, rmin: Float, rdelta: Float, nstep: Int, variant: KQuantSearch.AsymmetricVariant
        var testDescription: String { "n \(n) nmax \(nmax) \(variant)" }
    }

    static let cases = [
        Case(n: 16, nmax: 3, rmin: -0.5, rdelta: 0.1, nstep: 15, variant: .qkx2(useMad: true)),   // Q2_K
        Case(n: 16, nmax: 3, rmin: -0.9, rdelta: 0.05, nstep: 36, variant: .qkx3),               // Q2_K imatrix
        Case(n: 32, nmax: 15, rmin: -1, rdelta: 0.1, nstep: 20, variant: .qkx2(useMad: false)),  // Q4_K
        Case(n: 32, nmax: 31, rmin: -0.9, rdelta: 0.05, nstep: 36, variant: .qkx3),              // Q5_K / Q5_1 imatrix
    ]

    @Test(arguments: cases)
    func asymmetric8MatchesTheScalarSearch(_ c: Case) {
        for seed in [UInt64(1), 7, 99] {
            let x = Self.groups(c.n, seed: seed)
            let weights = x.enumerated().map { abs($0.element) + Float($0.offset % 5) * 0.25 }
            var levels = [UInt8](repeating: 0, count: 8 * c.n), scales = [Float](repeating: .nan, count: 8), mins = scales
            KQuantSearch.asymmetric8(c.n, nmax: c.nmax, x, weights: weights, &levels, scales: &scales, mins: &mins,
                                     rmin: c.rmin, rdelta: c.rdelta, nstep: c.nstep, variant: c.variant)
            for g in 0..<8 {
                var expectedLevels = [UInt8](repeating: 0, count: c.n), expectedMin: Float = .nan
                let expectedScale = x.withUnsafeBufferPointer { xs in
                    weights.withUnsafeBufferPointer { ws in
                        KQuantSearch.asymmetric(c.n, nmax: c.nmax, xs.baseAddress! + g * c.n, weights: ws.baseAddress! + g * c.n,
                                                &expectedLevels, theMin: &expectedMin, rmin: c.rmin, rdelta: c.rdelta,
                                                nstep: c.nstep, variant: c.variant)
                    }
                }
                #expect(scales[g].bitPattern == expectedScale.bitPattern, "\(c) seed \(seed) group \(g): scale")
                #expect(mins[g].bitPattern == expectedMin.bitPattern, "\(c) seed \(seed) group \(g): min")
                #expect(Array(levels[g * c.n..<(g + 1) * c.n]) == expectedLevels, "\(c) seed \(seed) group \(g): levels")
            }
        }
    }

    @Test func q3x8MatchesTheScalarSearch() {
        for seed in [UInt64(3), 11, 42] {
            let x = Self.groups(16, seed: seed)
            var levels = [Int8](repeating: 0, count: 128), scales = [Float](repeating: .nan, count: 8)
            KQuantSearch.q3x8(16, nmax: 4, x, &levels, scales: &scales)
            for g in 0..<8 {
                var expected = [Int8](repeating: 0, count: 16)
                let scale = x.withUnsafeBufferPointer { KQuantSearch.q3(16, nmax: 4, $0.baseAddress! + 16 * g, &expected) }
                #expect(scales[g].bitPattern == scale.bitPattern, "seed \(seed) group \(g): scale")
                #expect(Array(levels[16 * g..<16 * (g + 1)]) == expected, "seed \(seed) group \(g): levels")
            }
        }
    }
}
