import Foundation
@testable import Inference
import QuantCore
import TestSupport
import Testing
import TestScratch

/// W8A8: the int8 dot products are exact, the product applies per-token and per-row scales, and a
/// W8A8 model stays close to its float self.
@Suite(.tags(.unit))
struct W8A8Tests {
    func randomInt8(_ count: Int, seed: inout UInt64) -> [Int16] {
        (0..<count).map { _ in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int16(Int(seed >> 33) % 255 - 127)
        }
    }

    @Test func dotProductsAreExact() {
        var seed: UInt64 = 7
        for length in [1, 3, 16, 31, 64, 100, 576] {
            let a = randomInt8(4 * length, seed: &seed), b = randomInt8(length, seed: &seed)
            var expected = [Int32](repeating: 0, count: 4)
            for r in 0..<4 {
                for i in 0..<length { expected[r] += Int32(a[r * length + i]) * Int32(b[i]) }
            }
            #expect(SymmetricInt8.dot(a, b, count: length) == expected[0])
            #expect(SymmetricInt8.dot4(a, stride: length, b, count: length) == SIMD4(expected[0], expected[1], expected[2], expected[3]))
        }
        let extreme = [Int16](repeating: -127, count: 4096)
        #expect(SymmetricInt8.dot(extreme, extreme, count: 4096) == 4096 * 127 * 127)
    }

    @Test func quantizeRowUsesTheSymmetricRange() {
        var q = [Int16](repeating: 9, count: 4)
        #expect(SymmetricInt8.quantizeRow([0.5, -1, 0.25, 0], count: 4, into: &q) == 1.0 / 127)
        #expect(q == [64, -127, 32, 0])
        #expect(SymmetricInt8.quantizeRow([0, 0, 0, 0], count: 4, into: &q) == 0)
        #expect(q == [0, 0, 0, 0])
    }

    @Test func productAppliesTokenAndRowScales() throws {
        let model = try LlamaModel(path: try TinyModel.write())
        let weight = model.weights.layers[0].gate
        let int8 = Int8Matrix(weight)
        let tokens = 5, columns = weight.columns  // 4 rows through dot4, one through dot
        let x: [Float] = (0..<tokens * columns).map { Float(($0 * 37) % 23) / 7 - 1.5 }
        var out = [Float](repeating: 0, count: tokens * weight.rows)
        Int8MatMul.multiply(x, tokens: tokens, by: int8, into: &out, threads: 2)
        var xq = [Int16](repeating: 0, count: tokens * columns)
        let xs = SymmetricInt8.quantizeRows(x, rows: tokens, columns: columns, into: &xq)
        for t in 0..<tokens {
            for r in 0..<weight.rows {
                var sum: Int32 = 0
                for k in 0..<columns { sum += Int32(xq[t * columns + k]) * Int32(int8.values[r * columns + k]) }
                #expect(out[t * weight.rows + r] == xs[t] * int8.scales[r] * Float(sum))
            }
        }
    }

    /// With an online rotation the int8 values hold W·Q and the activations are rotated before
    /// quantization: the product is still x·Wᵀ, and an outlier channel — which per-token int8
    /// would otherwise stretch over the whole row — no longer flattens every other channel to 0.
    @Test func onlineRotationKeepsTheProductAndFlattensAnOutlier() throws {
        let model = try LlamaModel(path: try TinyModel.write())
        let weight = model.weights.layers[0].down
        let columns = weight.columns, tokens = 3
        let q = OrthogonalMatrix.factoredRotation(order: columns, seed: 5)
        // Small values everywhere and one channel 100× larger, in every token.
        var x: [Float] = (0..<tokens * columns).map { Float(($0 * 29) % 17) / 17 - 0.5 }
        for t in 0..<tokens { x[t * columns + 3] = 50 }
        var float = [Float](repeating: 0, count: weight.columns * weight.rows)
        weight.dequantizeRows(0 ..< weight.rows, into: &float)
        var exact = [Float](repeating: 0, count: tokens * weight.rows)
        for t in 0..<tokens { for r in 0..<weight.rows {
            var sum: Float = 0
            for k in 0..<columns { sum += x[t * columns + k] * float[r * columns + k] }
            exact[t * weight.rows + r] = sum
        } }
        func relativeError(_ matrix: Int8Matrix) -> Float {
            var out = [Float](repeating: 0, count: tokens * weight.rows)
            Int8MatMul.multiply(x, tokens: tokens, by: matrix, into: &out, threads: 2)
            // Relative to the signal of the small channels, which per-token int8 without rotation
            // rounds to a few levels (measured 0.40 plain, 0.12 rotated).
            let outlierFree = (0..<tokens * weight.rows).map { i in exact[i] - 50 * float[(i % weight.rows) * columns + 3] }
            let error = zip(out, exact).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
            return (error / outlierFree.map { $0 * $0 }.reduce(0, +)).squareRoot()
        }
        let plain = relativeError(Int8Matrix(weight)), rotated = relativeError(Int8Matrix(weight, inputRotation: q))
        #expect(rotated < 0.2, "rotated W8A8 error relative to the non-outlier signal: \(rotated)")
        #expect(rotated < plain / 2, "rotation must flatten the outlier: \(rotated) against \(plain) without")
    }

    /// LLM.int8()'s decomposition: the columns where any token reaches τ are multiplied in float
    /// with the dequantized int8 weights, every other column in int8 with scales the outliers no
    /// longer set — checked against that computation written out, and against the plain kernel.
    @Test func outlierColumnsAreMultipliedInFloat() throws {
        let model = try LlamaModel(path: try TinyModel.write())
        let weight = model.weights.layers[0].down
        let columns = weight.columns, rows = weight.rows, tokens = 5
        var x: [Float] = (0..<tokens * columns).map { Float(($0 * 29) % 17) / 17 - 0.5 }
        x[1 * columns + 3] = 40   // one token's spike decides column 3 for the whole batch
        x[4 * columns + 7] = -9
        let int8 = Int8Matrix(weight, outlierThreshold: 6)
        var out = [Float](repeating: 0, count: tokens * rows)
        Int8MatMul.multiply(x, tokens: tokens, by: int8, into: &out, threads: 2)

        let outlierColumns: Set = [3, 7]
        var inliers = x
        for t in 0..<tokens { for j in outlierColumns { inliers[t * columns + j] = 0 } }
        var xq = [Int16](repeating: 0, count: tokens * columns)
        let xs = SymmetricInt8.quantizeRows(inliers, rows: tokens, columns: columns, into: &xq)
        var worst: Float = 0, largest: Float = 0
        for t in 0..<tokens { for r in 0..<rows {
            var sum: Int32 = 0
            for k in 0..<columns { sum += Int32(xq[t * columns + k]) * Int32(int8.values[r * columns + k]) }
            var expected = xs[t] * int8.scales[r] * Float(sum)
            for j in outlierColumns { expected += x[t * columns + j] * int8.scales[r] * Float(int8.values[r * columns + j]) }
            worst = max(worst, abs(out[t * rows + r] - expected))
            largest = max(largest, abs(expected))
        } }
        #expect(worst <= 1e-5 * largest, "decomposed product off by \(worst) (largest \(largest))")

        // Above every |x| no column is an outlier: plain W8A8.
        var plain = [Float](repeating: 0, count: tokens * rows), high = plain
        Int8MatMul.multiply(x, tokens: tokens, by: Int8Matrix(weight), into: &plain, threads: 2)
        Int8MatMul.multiply(x, tokens: tokens, by: Int8Matrix(weight, outlierThreshold: 41), into: &high, threads: 2)
        #expect(high == plain)
        #expect(plain != out, "the spike must change what int8 sees")
    }

    @Test func w8a8ModelStaysCloseToTheFloatModel() throws {
        let path = try TinyModel.write()
        let float = try LlamaModel(path: path), int8 = try LlamaModel(path: path)
        int8.enableW8A8()
        #expect(int8.isW8A8 && !float.isW8A8)
        let hadamard = try LlamaModel(path: path)
        hadamard.enableW8A8(hadamardBeforeFFNDown: true)
        let decomposed = try LlamaModel(path: path)
        decomposed.enableW8A8(outlierThreshold: 1)
        let tokens: [Int32] = [1, 84, 104, 101, 32, 99, 97, 116]
        let a = try float.forward(tokens, state: try float.makeState(contextLength: 16), outputs: 0 ..< tokens.count)
        let scale = a.map(abs).max()!
        for model in [int8, hadamard, decomposed] {
            let b = try model.forward(tokens, state: try model.makeState(contextLength: 16), outputs: 0 ..< tokens.count)
            let worst = zip(a, b).map { abs($0 - $1) }.max()!
            #expect(worst > 0, "W8A8 must actually change the arithmetic")
            #expect(worst / scale < 0.05, "max |Δlogit| / max |logit| = \(worst / scale)")
        }
    }

    @Test func parallelSequencesMatchOneAtATime() throws {
        let model = try LlamaModel(path: try TinyModel.write())
        let prompts: [[Int32]] = [[1, 72, 105], [1, 84, 104, 101, 32], [1, 50]]
        let states = try prompts.map { _ in try model.makeState(contextLength: 16) }
        for (prompt, state) in zip(prompts, states) { _ = try model.forward(prompt, state: state) }
        let batched = try model.forward(parallel: [65, 66, 67], states: states)
        let vocabulary = model.configuration.vocabularySize
        for (i, prompt) in prompts.enumerated() {
            let single = try model.forward(prompt + [Int32(65 + i)], state: try model.makeState(contextLength: 16))
            let row = Array(batched[i * vocabulary ..< (i + 1) * vocabulary])
            let worst = zip(single, row).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-4, "sequence \(i): max |Δlogit| \(worst)")
            #expect(states[i].length == prompt.count + 1)
        }
    }
}
