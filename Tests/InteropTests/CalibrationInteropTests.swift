import Foundation
import Inference
import QuantCalibration
import QuantConversion
import QuantCore
import QuantFormats
import Testing
import TestScratch

/// Calibration on the test bed: our activation statistics against llama.cpp's own importance
/// matrix for the same corpus (llama-imatrix, tinyshakespeare, 10 × 512 tokens), and SmoothQuant
/// folded into an F32 conversion of the real model leaving its logits unchanged.
@Suite(TestData.needs(.python(["llama_cpp", "gguf", "numpy"]), .testBed, .shared("wikitext-2/wiki.test.raw"), .shared("tinyshakespeare/input.txt"), .shared("stories260K"), .shared("anchors")), .serialized, .tags(.interop, .slow))
struct CalibrationInteropTests {
    static let tinyShakespeare = TestData.shared("tinyshakespeare/input.txt")

    static let statistics: Result<ActivationStatistics, any Error> = Result {
        let model = try LlamaModel(path: TestData.testBed)
        let corpus = try CalibrationCorpus.text(path: tinyShakespeare, tokenizer: model.tokenizer, context: 512, maxTokens: 5120)
        return try Calibrator.run(model: model, corpus: corpus)
    }

    @Test func importanceMatchesLlamaImatrix() throws {
        let ours = try Self.statistics.get().importance
        let llama = try ImportanceMatrix(path: ConversionInteropTests.imatrixFile).entries
        #expect(llama.count == 210)
        var worst = (name: "", error: 0.0)
        for (name, reference) in llama {
            let values = try #require(ours[name], "no statistics for \(name)")
            #expect(values.count == reference.count)
            let difference = zip(values, reference).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
            let energy = reference.reduce(0.0) { $0 + Double($1) * Double($1) }
            let error = (difference / energy).squareRoot()
            if error > worst.error { worst = (name, error) }
        }
        print("mean x² vs llama-imatrix: worst relative L2 difference \(worst.error) (\(worst.name))")
        #expect(worst.error < 0.01, "\(worst.name): relative L2 difference \(worst.error)")
    }

    @Test func smoothQuantFoldKeepsTheF32Logits() throws {
        let statistics = try Self.statistics.get()
        let original = try LlamaModel(path: TestData.testBed)
        let source = GGUFSource(file: original.file)
        let plan = try SmoothQuant.plan(source: source, statistics: statistics, alpha: .auto, threads: 2)
        #expect(plan.sites.contains { $0.alpha != nil })
        let output = try temporaryDirectory() + "/smoothed-f32.gguf"
        defer { try? FileManager.default.removeItem(atPath: output) }
        _ = try ModelConverter(source: SmoothedSource(base: source, plan: plan), options: .init(preset: QuantizationPreset.named("F32")!))
            .write(to: output)
        let smoothed = try LlamaModel(path: output)
        let text = try MappedFile.readText(path: Self.tinyShakespeare)
        let tokens = Array(original.tokenizer.encode(text, addSpecial: true).prefix(64))
        let a = try original.forward(tokens, state: try original.makeState(contextLength: 64), outputs: 0 ..< 64)
        let b = try smoothed.forward(tokens, state: try smoothed.makeState(contextLength: 64), outputs: 0 ..< 64)
        let scale = Double(a.map(abs).max()!)
        let worst = Double(zip(a, b).map { abs($0 - $1) }.max()!)
        print("SmoothQuant fold on the test bed (F32): max |Δlogit| / max |logit| = \(worst / scale)")
        #expect(worst / scale <= 1e-4)
    }
}

/// Calibration statistics on stories260K (a real tiny model, SentencePiece vocabulary) against a
/// straightforward NumPy forward pass over the same token windows (Scripts/numpy_llama_stats.py,
/// float64, Hugging Face layout — a different implementation and a different rotary layout).
@Suite(TestData.needs(.python(["numpy", "safetensors"]), .shared("stories260K")), .tags(.interop))
struct Stories260KStatisticsTests {
    @Test func statisticsEqualAReferenceForwardPass() throws {
        let (folder, path) = try Stories260K.convertedGGUF()
        let model = try LlamaModel(path: path)
        let corpus = try CalibrationCorpus.text(path: CalibrationInteropTests.tinyShakespeare, tokenizer: model.tokenizer, context: 128, maxTokens: 1024)
        #expect(corpus.sequences.count == 8 && corpus.sequences.allSatisfy { $0.first == 1 })
        let threshold: Float = 0.1
        let statistics = try Calibrator.run(model: model, corpus: corpus, collector: ActivationCollector(activeThreshold: threshold, sampleRows: 0))

        let ids = folder + "/ids.safetensors", out = folder + "/reference.safetensors"
        let flat = corpus.sequences.flatMap { $0 }
        try SafetensorsWriter(tensors: [SafetensorsTensorDescriptor(name: "ids", dtype: .I32, shape: [UInt64(corpus.sequences.count), 128])])
            .write(to: ids, tensorData: [flat.withUnsafeBytes(Array.init)])
        try PythonOracle.run([PythonOracle.scripts + "/numpy_llama_stats.py", folder, ids, "\(threshold)", out])
        let reference = try SafetensorsFile(path: out)

        #expect(statistics.entries.count == 5 * 4 + 1)
        var worst = (key: "", meanSquare: 0.0, maxAbs: 0.0), activeMismatches = 0, activeValues = 0
        for (key, entry) in statistics.entries {
            let meanSquare = try reference.doubles(key + ".mean_sq"), maxAbs = try reference.doubles(key + ".max_abs")
            #expect(meanSquare.count == entry.columns && maxAbs.count == entry.columns, "\(key)")
            func relative(_ ours: [Float], _ theirs: [Double]) -> Double {
                zip(ours, theirs).map { abs(Double($0) - $1) / max(abs($1), 1e-6) }.max() ?? .infinity
            }
            let (a, b) = (relative(entry.meanSquare, meanSquare), relative(entry.maxAbs, maxAbs))
            if max(a, b) > max(worst.meanSquare, worst.maxAbs) { worst = (key, a, b) }
            if let fraction = entry.activeFraction {
                // A count may differ where |x| is within float rounding of the threshold.
                let theirs = try reference.doubles(key + ".active")
                activeMismatches += zip(fraction, theirs).filter { abs(Double($0) - $1) > 1.5 / 1024 }.count
                activeValues += theirs.count
            }
        }
        print("stories260K statistics vs NumPy: worst max relative difference \(worst)")
        #expect(worst.meanSquare < 1e-4 && worst.maxAbs < 1e-4, "\(worst)")
        #expect(activeValues == 5 * 172 && activeMismatches == 0, "\(activeMismatches) of \(activeValues) activity fractions differ")
    }
}

/// stories260K converted from its HF folder (with `tok512.model` as `tokenizer.model`) to F32 GGUF.
enum Stories260K {
    static let shared = TestData.shared("stories260K")

    /// A fresh folder holding the HF files and the GGUF; returns both paths. `ropeScaling`, a
    /// JSON object, is added to config.json as its `rope_scaling` (a variant of the model).
    static func convertedGGUF(ropeScaling: String? = nil) throws -> (folder: String, gguf: String) {
        let folder = try temporaryDirectory() + "/stories260K"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(atPath: shared + "/hf/" + name, toPath: folder + "/" + name)
        }
        if let ropeScaling {
            let config = try String(contentsOfFile: folder + "/config.json", encoding: .utf8)
            let patched = config.replacingOccurrences(of: "\"rope_theta\"", with: "\"rope_scaling\": \(ropeScaling),\n  \"rope_theta\"")
            try patched.write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        }
        try FileManager.default.copyItem(atPath: shared + "/tok512.model", toPath: folder + "/tokenizer.model")
        let path = folder + "/stories260K-f32.gguf"
        var options = ModelConverter.Options(preset: QuantizationPreset.named("F32")!)
        options.allowOutputInInputFolder = true   // a scratch folder made for this conversion
        _ = try ModelConverter(source: try HuggingFaceSource(folder: folder), options: options).write(to: path)
        return (folder, path)
    }
}
