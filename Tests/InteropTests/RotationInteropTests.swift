import Foundation
import Inference
import QuantCalibration
import QuantConversion
import QuantCore
import QuantFormats
import Testing
import TestScratch

/// A rotated model (unit norms, untied head, turned weights) is a plain llama GGUF: llama.cpp
/// loads it and computes the same perplexity as on the model before rotation (with an F32 KV
/// cache: 1e-7 relative; its default F16 cache rounds the turned V differently, 2.6e-4).
@Suite(TestData.needs(.python(["llama_cpp", "gguf", "numpy"]), .testBed, .shared("wikitext-2/wiki.test.raw"), .shared("tinyshakespeare/input.txt"), .shared("stories260K"), .shared("anchors")), .tags(.interop, .slow))
struct RotationInteropTests {
    @Test func rotatedStories260KComputesTheSameInLlamaCpp() throws {
        let (_, original) = try Stories260K.convertedGGUF()
        let source = try RotatedSource(base: GGUFSource(file: try GGUFFile(path: original)))
        var options = ModelConverter.Options(preset: QuantizationPreset.named("F32")!)
        options.extraMetadata = source.rotation.metadata
        let rotated = try temporaryDirectory() + "/stories260K-rotated.gguf"
        _ = try ModelConverter(source: source, options: options).write(to: rotated)

        let before = try LlamaOracle.run(model: original, text: InferenceInteropTests.wikitext, chunks: 4, f32Cache: true).doubles("ppl")[0]
        let after = try LlamaOracle.run(model: rotated, text: InferenceInteropTests.wikitext, chunks: 4, f32Cache: true).doubles("ppl")[0]
        let text = try MappedFile.readText(path: InferenceInteropTests.wikitext)
        let ours = try [original, rotated].map { try Perplexity.evaluate(model: try LlamaModel(path: $0), text: text, context: 512, maxChunks: 4).perplexity }
        #expect(abs(ours[1] / ours[0] - 1) < 1e-5, "our PPL \(ours[0]) before rotation, \(ours[1]) after")
        #expect(abs(after / before - 1) < 1e-5, "llama.cpp PPL (F32 KV cache) \(before) before rotation, \(after) after")
    }
}
