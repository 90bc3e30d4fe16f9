import Foundation
import Inference
@testable import QuantCalibration
import QuantConversion
import QuantCore
import QuantFormats
import TestSupport
import Testing
import TestScratch

/// `--smoothquant tuned` on the tiny model: the divergence the greedy search reports for its last
/// decision is the whole model's W8A8 divergence once the plan is folded and written — so the
/// search's bookkeeping (entries of tuned earlier layers, folds of the current one) is what the
/// evaluation runs — and every decision is a grid α or "unsmoothed".
@Suite(.tags(.unit))
struct SmoothQuantTuningTests {
    @Test func lastDivergenceIsTheWrittenModelsW8A8Divergence() throws {
        let path = try TinyModel.write()
        let model = try LlamaModel(path: path)
        let calibration = try CalibrationCorpus.sampled(from: model, sequences: 4, length: 24, seed: 3)
        let statistics = try Calibrator.run(model: model, corpus: calibration, collector: ActivationCollector(sampleRows: 0))
        let corpus = try CalibrationCorpus.sampled(from: model, sequences: 2, length: 32, seed: 5)
        let source = GGUFSource(file: model.file)
        let outcome = try SmoothQuantTuning.tune(source: source, statistics: statistics, model: model, corpus: corpus, threads: 2)

        #expect(outcome.plan.sites.count == 4 * TinyModel.blocks)
        #expect(outcome.divergences.count == outcome.plan.sites.count)
        // Coarse pass (6 runs) plus at most 4 refinements per site.
        #expect((6 * outcome.plan.sites.count ... 10 * outcome.plan.sites.count).contains(outcome.runs))
        #expect(outcome.plan.criterion == .modelDivergence)
        for (site, divergence) in zip(outcome.plan.sites, outcome.divergences) {
            // The report's "without → with" is the model KLD unsmoothed and at the chosen α.
            #expect(site.errorWith == divergence)
            #expect(divergence <= (site.errorWithout ?? -1), "layer \(site.layer) \(site.site): unsmoothed was a candidate")
            if let alpha = site.alpha {
                #expect(abs(alpha * 20 - (alpha * 20).rounded()) < 1e-4, "α \(alpha) is on the 0.05 grid")
            } else {
                #expect(site.scales.allSatisfy { $0 == 1 })
            }
        }

        var options = ModelConverter.Options(preset: QuantizationPreset.named("F32")!)
        options.extraMetadata = outcome.plan.metadata
        let output = try temporaryDirectory() + "/tuned.gguf"
        _ = try ModelConverter(source: SmoothedSource(base: source, plan: outcome.plan), options: options).write(to: output)
        let tuned = try LlamaModel(path: output)
        tuned.enableW8A8()
        let reference = try ReferenceRun(model: model, corpus: corpus)
        let distribution = ReferenceDistribution(logits: reference.logits, vocabulary: model.configuration.vocabularySize)
        let written = distribution.meanDivergence(of: try reference.logits(of: tuned, changingFrom: 0))
        let reported = try #require(outcome.divergences.last)
        #expect(written > 0)
        #expect(abs(written - reported) <= 1e-9 * written, "written \(written), reported \(reported)")

        // The same model unsmoothed, in W8A8. Greedy choice does not guarantee a better whole
        // model, but on this fixed fixture it is better, and a regression that broke the folds
        // or the entries would show here.
        let plain = try LlamaModel(path: path)
        plain.enableW8A8()
        let unsmoothed = distribution.meanDivergence(of: try reference.logits(of: plain, changingFrom: 0))
        #expect(written < unsmoothed, "tuned \(written), unsmoothed \(unsmoothed)")
    }
}
