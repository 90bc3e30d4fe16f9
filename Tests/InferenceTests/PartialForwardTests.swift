import Foundation
@testable import Inference
import QuantCore
import QuantFormats
import TestSupport
import Testing
import TestScratch

/// What the mix search relies on: a model with one weight replaced, run from a saved residual
/// stream, computes what the full forward pass of that model computes; and the divergence it is
/// judged by equals a direct double-precision computation.
@Suite(.tags(.unit)) struct PartialForwardTests {
    let tokens: [Int32] = [1, 80, 101, 256, 7, 259, 33, 120, 3, 44, 200, 17]

    @Test func resumingFromASavedResidualEqualsTheFullPass() throws {
        let model = try LlamaModel(path: try TinyModel.write())
        var stream: [Int: [Float]] = [:]
        let full = try model.forwardAll(tokens, state: try model.makeState(contextLength: 16)) { stream[$0] = $1 }
        #expect(stream.keys.sorted() == [0, 1, 2], "each block's input and the output norm's")
        #expect(full == (try model.forward(tokens, state: try model.makeState(contextLength: 16), outputs: 0 ..< tokens.count)))
        for layer in 1...2 {
            let resumed = try model.forwardAll(tokens, state: try model.makeState(contextLength: 16), entry: (layer, stream[layer]!))
            #expect(resumed == full, "entering at \(layer)")
        }
    }

    @Test func replacingOneWeightChangesOnlyThatTensor() throws {
        let model = try LlamaModel(path: try TinyModel.write())
        let original = try model.forwardAll(tokens, state: try model.makeState(contextLength: 16))
        let name = "blk.1.ffn_up.weight"
        let info = try #require(model.file.tensor(named: name))
        let values = model.weights.layers[1].up.floats()
        let codec = try TensorCodec(type: .Q8_0)
        let variant = try model.replacingWeight(named: name, type: .Q8_0, bytes: try codec.quantize(values, rowLength: Int(info.shape[0])))
        #expect(variant.weights.layers[1].up.type == .Q8_0 && variant.weights.layers[0].up.type == .F32)
        #expect(model.weights.layers[1].up.type == .F32, "the original model is untouched")
        let changed = try variant.forwardAll(tokens, state: try variant.makeState(contextLength: 16))
        #expect(changed != original)
        #expect(zip(changed, original).allSatisfy { abs($0 - $1) < 0.05 * (original.map(abs).max()!) }, "Q8_0 moves logits a little")
        // A tied embedding is replaced in both of its roles.
        let embedding = model.weights.tokenEmbedding.floats()
        let tied = try model.replacingWeight(named: "token_embd.weight", type: .Q8_0, bytes: try codec.quantize(embedding, rowLength: 64))
        #expect(tied.weights.tokenEmbedding.type == .Q8_0 && tied.weights.output.type == .Q8_0)
        #expect(throws: InferenceError.self) { try model.replacingWeight(named: "blk.9.ffn_up.weight", type: .Q8_0, bytes: []) }
        #expect(throws: InferenceError.self) { try model.replacingWeight(named: name, type: .Q8_0, bytes: [1, 2, 3]) }
    }

    @Test func divergenceEqualsADirectComputation() {
        var random = SystemRandomNumberGenerator()
        let vocabulary = 3000, rows = 5
        let base = (0 ..< rows * vocabulary).map { _ in Float.random(in: -8 ... 8, using: &random) }
        let reference = ReferenceDistribution(logits: base, vocabulary: vocabulary, threads: 2)
        #expect(abs(reference.meanDivergence(of: base, threads: 2)) < 1e-12, "a model against itself")
        for scale: Float in [1e-3, 0.1, 1] {
            let other = base.map { $0 + scale * Float.random(in: -1 ... 1, using: &random) }
            var expected = 0.0
            for row in 0 ..< rows {
                let a = base[row * vocabulary ..< (row + 1) * vocabulary].map(Double.init)
                let b = other[row * vocabulary ..< (row + 1) * vocabulary].map(Double.init)
                let la = log(a.map { exp($0) }.reduce(0, +)), lb = log(b.map { exp($0) }.reduce(0, +))
                expected += zip(a, b).reduce(0) { $0 + exp($1.0 - la) * (($1.0 - la) - ($1.1 - lb)) }
            }
            expected /= Double(rows)
            let measured = reference.meanDivergence(of: other, threads: 1)
            // expf's last-place error in the log-sum-exp leaves ~1e-9 absolute (1e-3 of one Q8_0 tensor's KLD on SmolLM2).
            #expect(expected > 0 && abs(measured - expected) <= 1e-6 * expected + 1e-8, "scale \(scale): \(measured) vs \(expected)")
        }
    }
}
