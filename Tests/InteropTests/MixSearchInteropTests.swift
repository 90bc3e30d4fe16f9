import Foundation
import Inference
import QuantCalibration
import QuantConversion
import QuantCore
import QuantFormats
import Testing
import TestScratch

/// A file written by the mix search holds a different type per tensor (IQ4_NL next to Q5_1 and
/// Q8_0, rows of no block size in F16): llama.cpp loads it, and its perplexity agrees with ours.
@Suite(TestData.needs(.python(["llama_cpp", "gguf", "numpy"]), .testBed, .shared("wikitext-2/wiki.test.raw"), .shared("tinyshakespeare/input.txt"), .shared("stories260K"), .shared("anchors")), .tags(.interop, .slow))
struct MixSearchInteropTests {
    @Test func searchedStories260KRunsInLlamaCpp() throws {
        let (_, gguf) = try Stories260K.convertedGGUF()
        let model = try LlamaModel(path: gguf)
        let source = GGUFSource(file: try GGUFFile(path: gguf))
        var options = ModelConverter.Options(preset: QuantizationPreset.named("Q4_K_M")!)
        let preset = try ModelConverter(source: source, options: options)
        let corpus = try CalibrationCorpus.sampled(from: model, sequences: 2, length: 64, seed: 5)
        let result = try MixSearch.run(model: model, converter: preset, corpus: corpus)
        options.planning.searchedTypes = result.assignments
        let searched = try ModelConverter(source: source, options: options)
        #expect(searched.plannedSummary.tensorBytes <= preset.plannedSummary.tensorBytes)
        let types = Set(searched.plan.filter { $0.decision.reason == .mixSearch }.map(\.type))
        #expect(types.count >= 2, "a mixture, not one type: \(types)")
        let output = try temporaryDirectory() + "/stories260K-mix.gguf"
        _ = try searched.write(to: output)

        let loaded = try PythonOracle.json("llama_load_check.py", output)
        #expect(loaded[output]?["finite"]?.bool == true, "llama.cpp logits not finite: \(loaded)")
        let oracle = try LlamaOracle.run(model: output, text: InferenceInteropTests.wikitext, chunks: 4)
        let ours = try Perplexity.evaluate(model: try LlamaModel(path: output), text: try MappedFile.readText(path: InferenceInteropTests.wikitext),
                                           context: 512, maxChunks: 4)
        let reference = try oracle.doubles("ppl")[0]
        // Quantized weights: llama.cpp rounds activations to 8 bits in every product (see the Q4_K test bed bound).
        #expect(abs(ours.perplexity / reference - 1) < 0.01, "PPL \(ours.perplexity) vs llama.cpp \(reference)")
    }
}
