import Foundation
import Inference
import QuantConversion
import QuantCore
import QuantFormats
import Testing
import TestScratch
import TestSupport

/// The core runs QuantKit's NF4 extension types: an NF4_DQ model gives the logits of the same
/// model with its weights decoded to F32 through the converter (the other decoding path).
@Suite(.tags(.unit))
struct NF4ModelTests {
    func convert(_ path: String, to preset: String) throws -> String {
        let output = path + ".\(preset).gguf"
        let source = GGUFSource(file: try GGUFFile(path: path))
        var options = ModelConverter.Options(preset: QuantizationPreset.named(preset)!)
        options.allowRequantize = true   // decoding NF4_DQ to F32 is what the test is about
        _ = try ModelConverter(source: source, options: options).write(to: output)
        return output
    }

    @Test func doubleQuantizedModelRunsAndDecodesLikeTheConverter() throws {
        let original = try TinyModel.write()
        let nf4dq = try convert(original, to: "NF4_DQ")
        let file = try GGUFFile(path: nf4dq)
        #expect(file.tensor(named: "blk.0.ffn_up.weight")?.type == .NF4_DQ)
        #expect(file.tensor(named: "blk.0.ffn_up.weight.nf4_dq")?.type == .F32)
        let decoded = try convert(nf4dq, to: "F32")
        #expect(try GGUFFile(path: decoded).tensor(named: "blk.0.ffn_up.weight.nf4_dq") == nil, "companions are not model tensors")

        let tokens: [Int32] = [1, 84, 104, 101, 32, 99, 97, 116]
        func logits(_ path: String) throws -> [Float] {
            let model = try LlamaModel(path: path)
            return try model.forward(tokens, state: try model.makeState(contextLength: 16), outputs: 0 ..< tokens.count)
        }
        let (quantized, reference, float) = (try logits(nf4dq), try logits(decoded), try logits(original))
        let scale = float.map(abs).max()!
        let same = zip(quantized, reference).map { abs($0 - $1) }.max()!
        let drift = zip(quantized, float).map { abs($0 - $1) }.max()!
        #expect(same / scale < 1e-5, "NF4_DQ vs its F32 decoding: \(same / scale)")
        // The tiny model's weights are uniform, where NF4's normal quantiles lose to a uniform grid
        // (measured: NF4/NF4_DQ 0.31, Q4_0 0.19 max |Δlogit| / max |logit|); the bound catches
        // a broken decoder, which lands far above 1.
        #expect(drift > 0 && drift / scale < 0.4, "NF4_DQ vs the original: \(drift / scale)")

        let nf4 = try logits(try convert(original, to: "NF4"))
        #expect(nf4.allSatisfy { $0.isFinite } && zip(nf4, float).map { abs($0 - $1) }.max()! / scale < 0.4)
    }
}
