import Foundation
import Inference
import QuantCalibration
import QuantConversion
import QuantCore
import QuantFormats
import Testing
import TestScratch

/// Every architecture the converter and the core support, on a tiny random checkpoint made by
/// scripts/make-tiny-models.py (none of these families can be downloaded here): converted to
/// GGUF by us, its logits must be the checkpoint's own (a float64 numpy forward pass of the
/// Hugging Face definition) in llama.cpp and in our core; the tokenization of wikitext-2 must be
/// llama.cpp's; perplexity must agree with llama.cpp's; Q4_K_M must be llama-quantize's bytes.
@Suite(TestData.needs(.python(["llama_cpp", "numpy", "safetensors", "tokenizers"]), .shared("tinyshakespeare/input.txt"),
                      .shared("wikitext-2/wiki.test.raw")), .serialized, .tags(.interop))
struct ArchitectureInteropTests {
    static let families = ["llama3", "qwen2", "qwen3"]

    /// The tiny checkpoints, made once per test process.
    static let checkpoints: Result<String, any Error> = Result {
        let folder = try temporaryDirectory()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/make-tiny-models.py").standardized.path
        _ = try PythonOracle.run([script, folder, TestData.shared("tinyshakespeare/input.txt")] + families)
        return folder
    }

    func convert(_ family: String, preset: String = "F32") throws -> String {
        let folder = try Self.checkpoints.get()
        let output = folder + "/\(family)-\(preset).gguf"
        if FileManager.default.fileExists(atPath: output) { return output }
        var options = ModelConverter.Options(preset: QuantizationPreset.named(preset)!)
        options.threads = 2
        _ = try ModelConverter(source: try HuggingFaceSource(folder: folder + "/" + family), options: options).write(to: output)
        return output
    }

    @Test(arguments: families) func logitsAreTheCheckpointsInLlamaCppAndOurs(_ family: String) throws {
        let gguf = try convert(family)
        let folder = try Self.checkpoints.get()
        let oracle = folder + "/\(family)-oracle.safetensors"
        _ = try PythonOracle.run([PythonOracle.scripts + "/llama_perplexity.py", gguf, TestData.shared("wikitext-2/wiki.test.raw"), "128", "4", oracle, "f32-cache"])
        let theirs = try SafetensorsFile(path: oracle)
        let ids = try theirs.ints("ids")
        let model = try LlamaModel(path: gguf)
        model.threads = 2
        // Tokenization: every id of wikitext-2 test.
        let text = try MappedFile.readText(path: TestData.shared("wikitext-2/wiki.test.raw"))
        let ours = model.tokenizer.encode(text, addSpecial: true)
        #expect(ours.count == ids.count && ours.elementsEqual(ids), "\(family): tokenization differs from llama.cpp's at \(zip(ours, ids).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(ours.count, ids.count))")

        let first = Array(ids.prefix(64))
        let referencePath = folder + "/\(family)-reference.safetensors"
        _ = try PythonOracle.run([PythonOracle.scripts + "/hf_reference_logits.py", folder + "/" + family,
                                  "[" + first.map(String.init).joined(separator: ",") + "]", referencePath])
        let reference = try SafetensorsFile(path: referencePath).floats("logits")
        let llama = try theirs.floats("logits64")
        let mine = try model.forward(first, state: try model.makeState(contextLength: 128), outputs: 0 ..< first.count)
        let range = Double(reference.max()! - reference.min()!)
        func worst(_ a: [Float]) -> Double { zip(a, reference).map { Double(abs($0 - $1)) }.max()! / range }
        #expect(reference.count == mine.count && reference.count == llama.count)
        #expect(worst(llama) < 1e-5, "\(family): llama.cpp's logits on our file are off the checkpoint's by \(worst(llama)) of their range")
        #expect(worst(mine) < 1e-5, "\(family): our logits are off the checkpoint's by \(worst(mine)) of their range")

        let ppl = try Perplexity.evaluate(model: model, text: text, context: 128, maxChunks: 4)
        let theirPPL = try theirs.doubles("ppl")[0]
        #expect(abs(ppl.perplexity / theirPPL - 1) < 0.005, "\(family): PPL \(ppl.perplexity) vs llama.cpp \(theirPPL)")
    }

    @Test(arguments: families) func q4KMIsLlamaQuantizesBytes(_ family: String) throws {
        let f32 = try convert(family)
        let folder = try Self.checkpoints.get()
        let preset = QuantizationPreset.named("Q4_K_M")!
        let ours = folder + "/\(family)-ours-q4km.gguf", theirs = folder + "/\(family)-theirs-q4km.gguf"
        var options = ModelConverter.Options(preset: preset)
        options.threads = 2
        _ = try ModelConverter(source: GGUFSource(file: try GGUFFile(path: f32)), options: options).write(to: ours)
        _ = try PythonOracle.run([PythonOracle.scripts + "/llama_quantize.py", f32, theirs, "\(preset.fileType)"])
        let a = try GGUFFile(path: ours), b = try GGUFFile(path: theirs)
        #expect(a.tensors.map(\.name) == b.tensors.map(\.name))
        for tensor in b.tensors {
            let mine = try #require(a.tensor(named: tensor.name))
            #expect(mine.type == tensor.type, "\(family) \(tensor.name): \(mine.type) vs \(tensor.type)")
            #expect(a.data(for: mine).elementsEqual(b.data(for: tensor)), "\(family) \(tensor.name): bytes differ")
        }
    }
}

/// Calibration on every architecture: statistics, the mix search and SmoothQuant run on each tiny
/// checkpoint, the mix-searched Q4_K_M loads in llama.cpp, SmoothQuant's folds keep the function
/// (same perplexity in F32), and a fold through a biased producer (Qwen2's attn_v) is refused by
/// name.
extension ArchitectureInteropTests {
    func statistics(_ family: String) throws -> String {
        let path = try Self.checkpoints.get() + "/\(family).qkstats"
        if FileManager.default.fileExists(atPath: path) { return path }
        let model = try LlamaModel(path: try convert(family))
        model.threads = 2
        let corpus = try CalibrationCorpus.text(path: TestData.shared("tinyshakespeare/input.txt"), tokenizer: model.tokenizer, context: 128, maxTokens: 1024)
        try ActivationStatisticsFile.write(try Calibrator.run(model: model, corpus: corpus), to: path)
        return path
    }

    @Test(arguments: families) func statisticsAndMixSearchMakeAFileLlamaCppLoads(_ family: String) throws {
        var recipe = ConversionRecipe()
        recipe.type = "Q4_K_M"
        recipe.stats = try statistics(family)
        recipe.optimizeMix = true
        recipe.calibration = .init(text: TestData.shared("tinyshakespeare/input.txt"), tokens: 256)
        let output = try Self.checkpoints.get() + "/\(family)-mix.gguf"
        var pipeline = try ConversionPipeline(recipe: recipe, input: try convert(family))
        pipeline.threads = 2
        let outcome = try pipeline.run(output: output)
        #expect(outcome.mixSearch != nil)
        let loaded = try PythonOracle.json("llama_load_check.py", output)
        #expect(loaded[output]?["finite"]?.bool == true, "\(family): \(loaded)")
    }

    @Test(arguments: families) func smoothQuantKeepsTheFunctionOrNamesTheSiteItCannotFold(_ family: String) throws {
        let input = try convert(family)
        var recipe = ConversionRecipe()
        recipe.type = "F32"
        recipe.stats = try statistics(family)
        recipe.smoothquant = "0.5"
        let output = try Self.checkpoints.get() + "/\(family)-smoothed.gguf"
        if family == "qwen2" {
            #expect(throws: SmoothQuant.SmoothQuantError.self) { _ = try ConversionPipeline(recipe: recipe, input: input).run(output: output) }
            recipe.smoothquantSites = "norms"
        }
        _ = try ConversionPipeline(recipe: recipe, input: input).run(output: output)
        let text = try MappedFile.readText(path: TestData.shared("wikitext-2/wiki.test.raw"))
        let plain = try Perplexity.evaluate(model: try LlamaModel(path: input), text: text, context: 128, maxChunks: 2)
        let smoothed = try Perplexity.evaluate(model: try LlamaModel(path: output), text: text, context: 128, maxChunks: 2)
        #expect(abs(smoothed.perplexity / plain.perplexity - 1) < 1e-4, "\(family): PPL \(plain.perplexity) → \(smoothed.perplexity) after folding")
    }
}
