import Foundation
@testable import Inference
import QuantCore
import QuantFormats
import TestSupport
import Testing
import TestScratch

/// `llamaCppRounding`: every product sees the activations llama.cpp's kernels would (rounded to
/// the weight type's vec_dot_type), on the batch and the few-token paths alike.
@Suite(.tags(.unit))
struct LlamaCppRoundingTests {
    func randomFloats(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(state >> 40) % 20001 - 10000) / 5000
        }
    }

    @Test(arguments: [GGMLType.Q8_0, .Q4_K, .Q5_0, .F16])
    func productsUseTheRoundedActivations(_ type: GGMLType) throws {
        let rows = 24, columns = 512
        let bytes = try TensorCodec(type: type).quantize(randomFloats(rows * columns, seed: 3), rowLength: columns)
        let w = try WeightMatrix(name: "w", type: type, rows: rows, columns: columns, bytes: bytes)
        for tokens in [1, 9] {  // the fused row dots and the sgemm tiles
            var x = randomFloats(tokens * columns, seed: 11)
            x[5] = 40  // an outlier, so rounding matters
            var rounded = x
            rounded.withUnsafeMutableBufferPointer { buffer in
                for t in 0..<tokens { LlamaCppActivations.forWeights(type).round(buffer.baseAddress! + t * columns, count: columns) }
            }
            #expect(rounded != x)
            var viaFlag = [Float](repeating: 0, count: tokens * rows), expected = viaFlag, plain = viaFlag
            MatMul.multiply(x, tokens: tokens, by: w, into: &viaFlag, threads: 2, integerActivations: false, llamaCppRounding: true)
            MatMul.multiply(rounded, tokens: tokens, by: w, into: &expected, threads: 2, integerActivations: false)
            MatMul.multiply(x, tokens: tokens, by: w, into: &plain, threads: 2, integerActivations: false)
            #expect(viaFlag == expected, "\(type), \(tokens) tokens")
            #expect(viaFlag != plain, "\(type), \(tokens) tokens: rounding had no effect")
        }
    }

    /// On a model: the flag changes the logits by activation-rounding noise, not more.
    @Test func modelLogitsMoveByRoundingNoiseOnly() throws {
        let model = try LlamaModel(path: try TinyModel.write(type: .Q8_0))
        let tokens: [Int32] = [5, 80, 101, 256, 7, 259]
        model.arithmetic = StoredWeightArithmetic(integerActivations: false)
        let plain = try model.forward(tokens, state: try model.makeState(contextLength: 8), outputs: 0 ..< tokens.count)
        model.arithmetic = StoredWeightArithmetic(integerActivations: false, llamaCppRounding: true)
        let rounded = try model.forward(tokens, state: try model.makeState(contextLength: 8), outputs: 0 ..< tokens.count)
        let range = plain.max()! - plain.min()!
        let worst = zip(plain, rounded).map { abs($0 - $1) }.max()!
        #expect(worst > 0 && worst < 1e-2 * range, "max |Δ| \(worst), logit range \(range)")
    }
}
