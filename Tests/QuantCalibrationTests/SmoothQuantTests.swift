import Foundation
import Inference
@testable import QuantCalibration
import QuantConversion
import QuantCore
import QuantFormats
import TestSupport
import Testing
import TestScratch

/// SmoothQuant: the scale formula, that it moves an outlier channel's difficulty into the
/// weights (lower W8A8 error), and that the fold leaves the float model's outputs unchanged.
@Suite(.tags(.unit))
struct SmoothQuantTests {
    @Test func scalesFollowTheFormula() {
        let s = SmoothQuant.scales(activationMax: [4, 1, 0], weightMax: [1, 4, 2], alpha: 0.5)
        #expect(s[0] == 2 && s[1] == 0.5)
        #expect(s[2] > 0 && s[2].isFinite)  // a dead channel still gets a finite scale
        #expect(SmoothQuant.scales(activationMax: [9], weightMax: [3], alpha: 1) == [9])
        #expect(SmoothQuant.scales(activationMax: [9], weightMax: [4], alpha: 0) == [0.25])
    }

    /// Gaussian-ish values from a fixed LCG.
    func noise(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            var sum: Float = 0
            for _ in 0..<4 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                sum += Float(state >> 40) / Float(1 << 24) - 0.5
            }
            return sum
        }
    }

    @Test func smoothingLowersTheW8A8ErrorOfAnOutlierChannel() {
        let rows = 64, columns = 32, outputs = 48
        var x = noise(rows * columns, seed: 1)
        for r in 0..<rows { x[r * columns + 5] *= 60 }  // one outlier channel, as in LLM activations
        let weights = SmoothQuant.SiteWeights(values: noise(outputs * columns, seed: 2), rows: outputs, columns: columns)
        let problem = SmoothQuant.SearchProblem(samples: x, sampleRows: rows, weights: weights)
        var activationMax = [Float](repeating: 0, count: columns)
        for r in 0..<rows { for j in 0..<columns { activationMax[j] = max(activationMax[j], abs(x[r * columns + j])) } }
        let without = problem.error(scales: nil)
        let with = problem.error(scales: SmoothQuant.scales(activationMax: activationMax, weightMax: weights.columnMaxAbs(), alpha: 0.5))
        #expect(with < without / 3, "W8A8 relative error \(without) → \(with)")
        let errors = problem.errors(for: SmoothQuant.grid.map { SmoothQuant.scales(activationMax: activationMax, weightMax: weights.columnMaxAbs(), alpha: $0) }, threads: 2)
        #expect(errors.min()! <= with)
    }

    /// Calibrates the tiny model on its own samples.
    func tinyStatistics(model: LlamaModel, sampleRows: Int = 64) throws -> ActivationStatistics {
        let corpus = try CalibrationCorpus.sampled(from: model, sequences: 4, length: 24, seed: 3)
        return try Calibrator.run(model: model, corpus: corpus, collector: ActivationCollector(sampleRows: sampleRows))
    }

    @Test func foldedModelKeepsItsFloatOutputs() throws {
        let path = try TinyModel.write()
        let original = try LlamaModel(path: path)
        let statistics = try tinyStatistics(model: original)
        #expect(statistics.provenance.tokens == 4 * 24)
        #expect(statistics.entries.count == 4 * TinyModel.blocks + 1)
        let source = GGUFSource(file: original.file)
        let plan = try SmoothQuant.plan(source: source, statistics: statistics, alpha: .auto, threads: 2)
        #expect(plan.sites.count == 4 * TinyModel.blocks)
        for site in plan.sites {
            #expect(site.alpha.map { SmoothQuant.grid.contains($0) } ?? site.scales.allSatisfy { $0 == 1 })
            #expect(site.errorWith! <= site.errorWithout!, "layer \(site.layer) \(site.site): auto never makes a site worse")
        }
        var options = ModelConverter.Options(preset: QuantizationPreset.named("F32")!)
        options.extraMetadata = plan.metadata
        let output = try temporaryDirectory() + "/smoothed.gguf"
        _ = try ModelConverter(source: SmoothedSource(base: source, plan: plan), options: options).write(to: output)
        let smoothed = try LlamaModel(path: output)
        #expect(smoothed.file.metadata.array("quantkit.smoothquant.alpha_attn_out_in")?.count == TinyModel.blocks)

        // attn_norm really is divided by the scales (the fold is not a no-op) …
        let site = try #require(plan.sites.first { $0.site == .attentionInput })
        let normName = site.site.producer(layer: site.layer).name
        let normBefore = try original.file.data(named: normName).bindMemory(to: Float.self)
        let normAfter = try smoothed.file.data(named: normName).bindMemory(to: Float.self)
        #expect(zip(site.scales, zip(normBefore, normAfter)).contains { s, _ in abs(s - 1) > 0.01 })
        for j in 0..<TinyModel.dim { #expect(abs(normAfter[j] - normBefore[j] / site.scales[j]) <= 1e-6 * abs(normBefore[j] / site.scales[j])) }
        // … and the float model computes the same function.
        let tokens: [Int32] = [1, 72, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100]
        let a = try original.forward(tokens, state: try original.makeState(contextLength: 16), outputs: 0 ..< tokens.count)
        let b = try smoothed.forward(tokens, state: try smoothed.makeState(contextLength: 16), outputs: 0 ..< tokens.count)
        let scale = a.map(abs).max()!
        let worst = zip(a, b).map { abs($0 - $1) }.max()!
        #expect(worst / scale <= 1e-4, "max |Δlogit| / max |logit| = \(worst / scale)")
    }

    @Test func badStatisticsAreTypedErrors() throws {
        let model = try LlamaModel(path: try TinyModel.write())
        var statistics = try tinyStatistics(model: model, sampleRows: 0)
        let source = GGUFSource(file: model.file)
        #expect {
            try SmoothQuant.plan(source: source, statistics: statistics, alpha: .auto, threads: 1)
        } throws: { "\($0)".contains("needs activation samples") }
        _ = try SmoothQuant.plan(source: source, statistics: statistics, alpha: .fixed(0.5), threads: 1)  // fixed α needs no samples
        statistics.entries["blk.1.ffn_in"] = nil
        #expect {
            try SmoothQuant.plan(source: source, statistics: statistics, alpha: .fixed(0.5), threads: 1)
        } throws: { "\($0)".contains("no entry 'blk.1.ffn_in'") }
    }
}

extension SmoothQuantTests {
    @Test func headsSharingAKVHeadShareScales() {
        // 4 q heads of 2 channels over 2 KV heads: heads 0, 1 read KV head 0; heads 2, 3 KV head 1.
        let groups = SmoothQuant.ChannelGroups(channels: 8, heads: 4, kvHeads: 2)
        #expect(groups.group == [0, 1, 0, 1, 2, 3, 2, 3])
        #expect(groups.reduce([1, 5, 3, 2, 0, 1, 4, 0]) == [3, 5, 4, 1])
        #expect(groups.expand([10, 11, 12, 13]) == [10, 11, 10, 11, 12, 13, 12, 13])
    }
}
