import Foundation
@testable import QuantCalibration
import QuantCore
import QuantFormats
import Testing

/// GPTQ-style compensation: on correlated inputs the layer-output error ‖(W − Ŵ)X‖ must drop well
/// below plain importance-weighted rounding, and the factor must satisfy UᵀU = (H + λI)⁻¹.
struct ErrorCompensationTests {
    /// Deterministic uniform values in (−1, 1).
    static func noise(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state) >> 11) / Float(1 << 52)
        }
    }

    /// Activations with strongly correlated channels (a few latent factors plus noise) and
    /// uneven channel scales, like real layer inputs.
    static func activations(tokens: Int, columns: Int) -> [Float] {
        let factors = 6
        let mixing = noise(factors * columns, seed: 1), latent = noise(tokens * factors, seed: 2), jitter = noise(tokens * columns, seed: 3)
        return (0..<tokens * columns).map { i in
            let t = i / columns, c = i % columns
            var v: Float = 0
            for f in 0..<factors { v += latent[t * factors + f] * mixing[f * columns + c] }
            return (v + 0.1 * jitter[i]) * (c % 7 == 0 ? 4 : 1)
        }
    }

    static func packedSecondMoment(_ x: [Float], tokens: Int, columns: Int) -> [Float] {
        var packed: [Float] = []
        for i in 0..<columns {
            for j in i..<columns {
                var s: Double = 0
                for t in 0..<tokens { s += Double(x[t * columns + i]) * Double(x[t * columns + j]) }
                packed.append(Float(s / Double(tokens)))
            }
        }
        return packed
    }

    static func outputError(_ w: [Float], _ q: [Float], x: [Float], rows: Int, columns: Int, tokens: Int) -> Double {
        var total = 0.0
        for r in 0..<rows {
            for t in 0..<tokens {
                var d: Double = 0
                for c in 0..<columns { d += Double(w[r * columns + c] - q[r * columns + c]) * Double(x[t * columns + c]) }
                total += d * d
            }
        }
        return total
    }

    @Test func factorInvertsTheDampedHessian() throws {
        let n = 40, tokens = 200
        let packed = Self.packedSecondMoment(Self.activations(tokens: tokens, columns: n), tokens: tokens, columns: n)
        let u = try ErrorCompensatingEncoder.inverseCholeskyFactor(packed: packed, n: n, damping: 0.01, tensor: "t")
        var h = [Double](repeating: 0, count: n * n), k = 0, mean = 0.0
        for i in 0..<n { for j in i..<n { h[i * n + j] = Double(packed[k]); h[j * n + i] = Double(packed[k]); k += 1 } }
        for i in 0..<n { mean += h[i * n + i] / Double(n) }
        for i in 0..<n { h[i * n + i] += 0.01 * mean }
        // (UᵀU)·H = I.
        var worst = 0.0
        for i in 0..<n {
            for j in 0..<n {
                var v = 0.0
                for m in 0..<n {
                    var inverse = 0.0
                    for l in 0..<n { inverse += Double(u[l * n + i]) * Double(u[l * n + m]) }
                    v += inverse * h[m * n + j]
                }
                worst = max(worst, abs(v - (i == j ? 1 : 0)))
            }
        }
        #expect(worst < 1e-3, "max |UᵀU·H − I| = \(worst)")
        for i in 0..<n { for j in 0..<i { #expect(u[i * n + j] == 0) } }
    }

    @Test(arguments: [GGMLType.Q4_0, .IQ4_NL, .NF4, .Q4_K])
    func compensationLowersTheLayerOutputError(_ type: GGMLType) throws {
        let rows = 24, columns = 512, tokens = 600
        let x = Self.activations(tokens: tokens, columns: columns)
        let w = Self.noise(rows * columns, seed: 9).map { $0 * 0.05 }
        let packed = Self.packedSecondMoment(x, tokens: tokens, columns: columns)
        var importance = [Float](repeating: 0, count: columns)
        var k = 0
        for i in 0..<columns { importance[i] = packed[k]; k += columns - i }
        let codec = try TensorCodec(type: type)
        let plain = try codec.dequantize(try codec.quantize(w, rowLength: columns, importance: importance), rowLength: columns)
        var values = w
        let encoder = ErrorCompensatingEncoder(hessians: ["t": packed])
        #expect(encoder.handles(tensor: "t", type: type) && !encoder.handles(tensor: "u", type: type) && !encoder.handles(tensor: "t", type: .F16))
        let bytes = try values.withUnsafeMutableBufferPointer {
            try encoder.encode(tensor: "t", values: $0, rowLength: columns, type: type, importance: importance, threads: 2)
        }
        let compensated = try codec.dequantize(bytes, rowLength: columns)
        let before = Self.outputError(w, plain, x: x, rows: rows, columns: columns, tokens: tokens)
        let after = Self.outputError(w, compensated, x: x, rows: rows, columns: columns, tokens: tokens)
        #expect(after < 0.8 * before, "\(type): ‖ΔW·X‖² \(before) → \(after)")
    }
}
