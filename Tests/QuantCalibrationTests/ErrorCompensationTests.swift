import Foundation
@testable import QuantCalibration
import QuantCore
import QuantFormats
import Testing
import TestScratch

/// GPTQ-style compensation: on correlated inputs the layer-output error ‖(W − Ŵ)X‖ must drop well
/// below plain importance-weighted rounding, and the factor must satisfy UᵀU = (H + λI)⁻¹.
@Suite(.tags(.unit))
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

/// W8A8 preparation: GPTQ onto the per-channel int8 grid, stored as floats.
@Suite(.tags(.unit))
struct Int8GridEncoderTests {
    typealias Data = ErrorCompensationTests

    /// Per-channel symmetric int8 rounding (what `--w8a8` does to a plain float row).
    static func roundToNearest(_ w: [Float], columns: Int) -> [Float] {
        var out = w
        for r in 0..<(w.count / columns) {
            let row = w[r * columns ..< (r + 1) * columns]
            let scale = row.map(abs).max()! / 127
            for c in 0..<columns { out[r * columns + c] = (w[r * columns + c] / scale).rounded() * scale }
        }
        return out
    }

    @Test(arguments: [GGMLType.F16, .F32])
    func storedValuesAreTheGridW8A8Uses(_ type: GGMLType) throws {
        let rows = 16, columns = 256, tokens = 500
        let x = Data.activations(tokens: tokens, columns: columns)
        let w = Data.noise(rows * columns, seed: 21).map { $0 * 0.05 }
        let packed = Data.packedSecondMoment(x, tokens: tokens, columns: columns)
        let encoder = Int8GridEncoder(hessians: ["blk.0.ffn_up.weight": packed])
        #expect(encoder.handles(tensor: "blk.0.ffn_up.weight", type: type))
        #expect(!encoder.handles(tensor: "blk.0.ffn_up.weight", type: .Q8_0) && !encoder.handles(tensor: "output.weight", type: type))
        var values = w
        let bytes = try values.withUnsafeMutableBufferPointer {
            try encoder.encode(tensor: "blk.0.ffn_up.weight", values: $0, rowLength: columns, type: type, importance: nil, threads: 2)
        }
        let stored = try TensorCodec(type: type).dequantize(bytes, rowLength: columns)
        // Re-quantizing as the W8A8 loader does gives back exactly the stored values' integers.
        var q = [Int16](repeating: 0, count: columns)
        for r in 0..<rows {
            let row = Array(stored[r * columns ..< (r + 1) * columns])
            let scale = row.withUnsafeBufferPointer { SymmetricInt8.quantizeRow($0.baseAddress!, count: columns, into: &q) }
            for c in 0..<columns { #expect(abs(Float(q[c]) * scale - row[c]) <= abs(row[c]) * 2e-3 + 1e-9) }
            #expect(q.contains { abs($0) == 127 })
        }
        let nearest = Self.roundToNearest(w, columns: columns)
        let before = Data.outputError(w, nearest, x: x, rows: rows, columns: columns, tokens: tokens)
        let after = Data.outputError(w, stored, x: x, rows: rows, columns: columns, tokens: tokens)
        #expect(after < 0.5 * before, "‖ΔW·X‖² nearest \(before) → GPTQ \(after)")
    }

    @Test func smoothingRescalesTheSecondMoments() {
        let scales: [Float] = [2, 0.5, 4]
        let site = SmoothQuantPlan.Site(layer: 0, site: .ffnInput, alpha: 0.5, scales: scales, producerScales: scales,
                                        errorWithout: nil, errorWith: nil)
        let plan = SmoothQuantPlan(sites: [site])
        let packed: [Float] = [1, 2, 3, 4, 5, 6]  // rows (1 2 3) (4 5) (6)
        let adjusted = plan.adjust(hessians: ["blk.0.ffn_up.weight": packed, "blk.0.ffn_down.weight": packed])
        // Hᵢⱼ / (sᵢ sⱼ): 1/4, 2/1, 3/8, 4/0.25, 5/2, 6/16.
        let expected: [Float] = [0.25, 2, 0.375, 16, 2.5, 0.375]
        #expect(adjusted["blk.0.ffn_up.weight"] == expected)
        #expect(adjusted["blk.0.ffn_down.weight"] == packed)
    }
}
