import Foundation
import QuantCore

/// The next-token distributions of a reference model at a fixed set of positions, prepared once
/// so that many variants of the model can be judged against them: each comparison needs only the
/// variant's own log-sum-exp (the reference's is computed once, which halves the cost of every
/// trial in the mix search).
///
/// Precision matters here: one SmolLM2 tensor in Q8_0 moves the KL divergence by ~1e-6 (predicted),
/// while a float log-softmax over 49 152 entries is off by ~1e-5 (the float sum of exponentials).
/// So sums run in double, and KL(p‖q) per row is formed as Σ p_i (a_i − b_i) + lse(b) − lse(a)
/// from the raw logits a (reference) and b (variant) — no rounded log-probabilities are stored.
/// What remains is expf's last-place error inside the log-sum-exp: about 1e-9 absolute.
public struct ReferenceDistribution: Sendable {
    public let vocabulary: Int
    public let positions: Int
    private let logits: [Float]
    private let probabilities: [Float]
    private let logSumExp: [Double]

    /// `logits`: `positions` rows of `vocabulary` values, row-major.
    public init(logits: [Float], vocabulary: Int, threads: Int = ProcessInfo.activeCores) {
        precondition(vocabulary > 0 && logits.count % vocabulary == 0, "logits must be whole rows")
        let positions = logits.count / vocabulary
        var probabilities = [Float](repeating: 0, count: logits.count)
        var logSumExp = [Double](repeating: 0, count: positions)
        logits.withUnsafeBufferPointer { lp in
            probabilities.withUnsafeMutableBufferPointer { pp in
                logSumExp.withUnsafeMutableBufferPointer { sp in
                    let shared = UnsafeSendableBox((lp.baseAddress!, pp.baseAddress!, sp.baseAddress!))
                    WorkerPool.shared.forEachSlice(positions, threads: threads, minimumSlice: 8) { slice in
                        let (logits, probabilities, sums) = shared.value
                        for row in slice {
                            let x = logits + row * vocabulary, p = probabilities + row * vocabulary
                            sums[row] = Self.logSumExp(x, count: vocabulary)
                            for i in 0 ..< vocabulary { p[i] = Float(exp(Double(x[i]) - sums[row])) }
                        }
                    }
                }
            }
        }
        self.vocabulary = vocabulary
        self.positions = positions
        self.logits = logits
        self.probabilities = probabilities
        self.logSumExp = logSumExp
    }

    /// Mean over the positions of KL(reference ‖ model) for the model's `logits` at the same
    /// positions.
    public func meanDivergence(of other: [Float], threads: Int = ProcessInfo.activeCores) -> Double {
        precondition(other.count == logits.count, "logits must cover the reference's positions")
        var divergences = [Double](repeating: 0, count: positions)
        other.withUnsafeBufferPointer { op in
            logits.withUnsafeBufferPointer { lp in
                probabilities.withUnsafeBufferPointer { pp in
                    divergences.withUnsafeMutableBufferPointer { dp in
                        let shared = UnsafeSendableBox((op.baseAddress!, lp.baseAddress!, pp.baseAddress!, dp.baseAddress!))
                        let n = vocabulary, sums = logSumExp
                        WorkerPool.shared.forEachSlice(positions, threads: threads, minimumSlice: 8) { slice in
                            let (other, logits, probabilities, out) = shared.value
                            for row in slice {
                                let b = other + row * n, a = logits + row * n, p = probabilities + row * n
                                var weighted = 0.0, mass = 0.0
                                for i in 0 ..< n {
                                    weighted += Double(p[i]) * (Double(a[i]) - Double(b[i]))
                                    mass += Double(p[i])
                                }
                                out[row] = weighted / mass + Self.logSumExp(b, count: n) - sums[row]
                            }
                        }
                    }
                }
            }
        }
        return divergences.reduce(0, +) / Double(max(1, positions))
    }

    /// log Σ exp(x_i), the sum in double around the row's maximum.
    private static func logSumExp(_ x: UnsafePointer<Float>, count n: Int) -> Double {
        var maximum = -Float.infinity
        for i in 0 ..< n { maximum = max(maximum, x[i]) }
        var sum = 0.0
        for i in 0 ..< n { sum += Double(expf(x[i] - maximum)) }
        return Double(maximum) + log(sum)
    }
}
