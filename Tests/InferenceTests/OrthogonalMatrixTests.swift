import Foundation
@testable import Inference
import Testing
import TestScratch

/// Hadamard and random orthogonal matrices, and their factored form used online by W8A8.
@Suite(.tags(.unit))
struct OrthogonalMatrixTests {
    func worstDeviationFromIdentity(_ m: [Double], order n: Int) -> Double {
        var worst = 0.0
        for i in 0..<n { for k in 0..<n {
            var dot = 0.0
            for j in 0..<n { dot += m[i * n + j] * m[k * n + j] }
            worst = max(worst, abs(dot - (i == k ? 1 : 0)))
        } }
        return worst
    }

    @Test(arguments: [1, 2, 4, 12, 20, 24, 48, 64, 576])
    func hadamardMatricesAreHadamard(order n: Int) throws {
        let h = try #require(OrthogonalMatrix.hadamard(order: n), "no Hadamard matrix of order \(n)")
        #expect(h.allSatisfy { $0 == 1 || $0 == -1 })
        for i in 0..<n { for k in 0..<n {
            let dot = (0..<n).reduce(0) { $0 + Int(h[i * n + $1]) * Int(h[k * n + $1]) }
            #expect(dot == (i == k ? n : 0))
        } }
    }

    @Test func ordersWithoutAConstructionFallBackToARandomOrthogonalMatrix() {
        #expect(OrthogonalMatrix.hadamard(order: 6) == nil)  // none exists: 6 is not 1, 2 or a multiple of 4
        let (q, kind) = OrthogonalMatrix.rotation(order: 6, seed: 3)
        #expect(kind == .random)
        #expect(worstDeviationFromIdentity(q, order: 6) < 1e-12)
        let (h, hadamardKind) = OrthogonalMatrix.rotation(order: 12, seed: 3)
        #expect(hadamardKind == .hadamard)
        #expect(worstDeviationFromIdentity(h, order: 12) < 1e-12)
        #expect(OrthogonalMatrix.rotation(order: 12, seed: 3).matrix == h, "seeded: the same matrix every time")
    }

    /// The factored rotation is orthogonal, and applying it factor by factor is multiplying by
    /// its dense matrix, for Hadamard orders of one factor (12, Paley), many (64, 576, 1536 = the
    /// test bed's ffn width) and the random fallback (6).
    @Test(arguments: [6, 12, 64, 576, 1536])
    func factoredRotationIsItsDenseMatrix(order n: Int) {
        let factored = OrthogonalMatrix.factoredRotation(order: n, seed: 9)
        let dense = factored.dense.map(Double.init)
        if n <= 576 { #expect(worstDeviationFromIdentity(dense, order: n) < 1e-5) }
        let (p, q) = factored.splitOrders
        #expect(p * q == n)
        if n == 1536 { #expect(p + q <= 140, "split \(p)·\(q): orders near √n keep both passes cheap") }
        let rows = 3
        var x: [Float] = (0..<rows * n).map { Float(($0 * 7919) % 1009) / 1009 - 0.5 }
        var expected = [Double](repeating: 0, count: rows * n)
        for r in 0..<rows { for j in 0..<n {
            var sum = 0.0
            for i in 0..<n { sum += Double(x[r * n + i]) * dense[i * n + j] }
            expected[r * n + j] = sum
        } }
        x.withUnsafeMutableBufferPointer { factored.apply($0.baseAddress!, rows: rows) }
        let worst = zip(x, expected).map { abs(Double($0) - $1) }.max()!
        #expect(worst < 1e-5, "order \(n): max |Δ| \(worst)")
    }
}
