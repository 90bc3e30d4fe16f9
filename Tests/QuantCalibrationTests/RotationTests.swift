import Foundation
import Inference
@testable import QuantCalibration
import QuantConversion
import QuantCore
import QuantFormats
import TestSupport
import Testing
import TestScratch

/// The rotation's matrices are orthogonal, it flattens an outlier channel for int8, and folding
/// it into a model leaves the float model's outputs unchanged.
@Suite(.tags(.unit))
struct RotationTests {
    /// Per-token int8 (scale = max|x|/127) error of a row.
    func int8Error(_ x: [Float]) -> Float {
        let scale = x.map(abs).max()! / 127
        var sum: Float = 0
        for v in x { let e = v - (v / scale).rounded() * scale; sum += e * e }
        return sum
    }

    @Test func rotationFlattensAnOutlierChannelForInt8() {
        let n = 64
        var state: UInt64 = 7
        var x: [Float] = (0..<n).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) - 0.5
        }
        x[9] = 40  // one outlier channel sets the token's scale and wipes out the others' precision
        let rotation = ResidualRotation(width: n, headDimension: 16)
        let rotated = rotation.rotateRows(x)
        let normBefore: Float = x.map { $0 * $0 }.reduce(0, +)
        let normAfter: Float = rotated.map { $0 * $0 }.reduce(0, +)
        #expect(abs(normAfter - normBefore) < 1e-2, "orthogonal: the norm is kept")
        // The error is the same in either basis (orthogonal), so the two compare directly.
        let errorBefore = int8Error(x), errorAfter = int8Error(rotated)
        #expect(errorAfter < errorBefore / 4, "int8 error \(errorBefore) → \(errorAfter)")
    }

    func logits(_ model: LlamaModel, _ tokens: [Int32]) throws -> [Float] {
        try model.forward(tokens, state: try model.makeState(contextLength: 16), outputs: 0 ..< tokens.count)
    }

    /// The tiny model tied (head = embedding) and with its own head.
    @Test(arguments: [true, false])
    func rotatedModelKeepsItsFloatOutputs(tied: Bool) throws {
        let path = try TinyModel.write { _, descriptors in
            if !tied { descriptors.append(GGUFTensorDescriptor(name: "output.weight", shape: descriptors[0].shape, type: .F32)) }
        }
        let original = try LlamaModel(path: path)
        let source = try RotatedSource(base: GGUFSource(file: original.file))
        #expect(source.rotation.residualKind == .hadamard && source.rotation.headKind == .hadamard)
        #expect(source.tensors.filter { $0.name == "output.weight" }.count == 1)
        var options = ModelConverter.Options(preset: QuantizationPreset.named("F32")!)
        options.extraMetadata = source.rotation.metadata
        let output = try temporaryDirectory() + "/rotated-\(tied).gguf"
        _ = try ModelConverter(source: source, options: options).write(to: output)
        let rotated = try LlamaModel(path: output)
        #expect(rotated.file.metadata.string("quantkit.rotation.residual") == "hadamard")

        // The weights really changed (norms to ones, the rest turned) …
        let normAfter = try rotated.file.data(named: "blk.0.ffn_norm.weight").bindMemory(to: Float.self)
        #expect(normAfter.allSatisfy { $0 == 1 })
        let before = try original.file.data(named: "blk.1.ffn_down.weight").bindMemory(to: Float.self)
        let after = try rotated.file.data(named: "blk.1.ffn_down.weight").bindMemory(to: Float.self)
        #expect(zip(before, after).contains { abs($0 - $1) > 0.01 })
        // … and the float model computes the same function.
        let tokens: [Int32] = [1, 72, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100]
        let a = try logits(original, tokens), b = try logits(rotated, tokens)
        let worst = zip(a, b).map { abs($0 - $1) }.max()!, scale = a.map(abs).max()!
        #expect(worst / scale <= 1e-4, "max |Δlogit| / max |logit| = \(worst / scale)")
    }

    @Test func whatCannotBeRotatedIsATypedError() throws {
        let biased = try TinyModel.write { _, descriptors in
            descriptors.append(GGUFTensorDescriptor(name: "blk.0.attn_q.bias", shape: [UInt64(TinyModel.dim)], type: .F32))
        }
        #expect { try RotatedSource(base: GGUFSource(file: try GGUFFile(path: biased))) } throws: { "\($0)".contains("'blk.0.attn_q.bias'") }
        let quantized = try TinyModel.write(type: .Q8_0)
        #expect { try RotatedSource(base: GGUFSource(file: try GGUFFile(path: quantized))) } throws: { "\($0)".contains("needs a float source") }
        let other = try TinyModel.write { metadata, _ in metadata["general.architecture"] = .string("gemma2") }
        #expect { try RotatedSource(base: GGUFSource(file: try GGUFFile(path: other))) } throws: { "\($0)".contains("supports llama") }
    }
}
