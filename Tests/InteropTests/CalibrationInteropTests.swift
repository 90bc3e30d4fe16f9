import Foundation
import Inference
import QuantCalibration
import QuantCore
import QuantFormats
import Testing

/// Calibration on the test bed: our activation statistics against llama.cpp's own importance
/// matrix for the same corpus (llama-imatrix, tinyshakespeare, 10 × 512 tokens), and SmoothQuant
/// folded into an F32 conversion of the real model leaving its logits unchanged.
@Suite(.enabled(if: LlamaOracle.shouldRun, "the test bed is missing (scripts/bootstrap.sh)"), .serialized)
struct CalibrationInteropTests {
    static let tinyShakespeare = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../shared/testdata/tinyshakespeare/input.txt").standardized.path

    static let statistics: Result<ActivationStatistics, any Error> = Result {
        let model = try LlamaModel(path: LlamaOracle.testBed)
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
        let original = try LlamaModel(path: LlamaOracle.testBed)
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
