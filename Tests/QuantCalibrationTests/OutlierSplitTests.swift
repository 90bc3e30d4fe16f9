import Foundation
import Inference
@testable import QuantCalibration
import QuantCore
import QuantFormats
import TestSupport
import Testing
import TestScratch

/// Outlier channel splitting: which neurons get copies, that the split float model computes the
/// same function, and that the statistics derived for it are what calibrating it measures.
struct OutlierSplitTests {
    func statistics(maxAbs: [Float]) -> ActivationStatistics {
        let entry = ActivationStatistics.Entry(columns: maxAbs.count, meanSquare: maxAbs.map { $0 * $0 / 4 }, maxAbs: maxAbs,
                                               activeFraction: nil, samples: maxAbs + maxAbs.map { -$0 / 2 })
        let provenance = ActivationStatistics.Provenance(model: "m", modelSHA256: "", corpus: "c", corpusSHA256: "", tokens: 2, sequences: 1,
                                                         contextLength: 2, activeThreshold: 0.1, tool: "test")
        return ActivationStatistics(provenance: provenance, entries: [ActivationSite.ffnDownInput.key(layer: 0): entry])
    }

    @Test func copiesGoToTheNeuronWhoseLargestCopyIsLargest() throws {
        // 12 needs 3 copies before 5 needs a second: 12/2 = 6 > 5, 12/3 = 4 < 5.
        let plan = try OutlierSplitPlan(statistics: statistics(maxAbs: [1, 12, 5, 2]), layers: [0], feedForwardLength: 4, extraChannels: 3)
        let layer = try #require(plan.layers[0])
        #expect(layer.origins == [1, 1, 2])
        #expect(layer.shares == [1, 1 / 3, 1 / 2, 1])
        #expect(layer.width == 7 && (0..<7).map(layer.origin(of:)) == [0, 1, 2, 3, 1, 1, 2])

        let adjusted = plan.adjust(statistics(maxAbs: [1, 12, 5, 2])).entries["blk.0.ffn_down_in"]!
        #expect(adjusted.columns == 7)
        #expect(adjusted.maxAbs == [1, 4, 2.5, 2, 4, 4, 2.5])
        #expect(adjusted.meanSquare[1] == 144.0 / 4 / 9)
        #expect(Array(adjusted.samples[0..<7]) == [1, 4, 2.5, 2, 4, 4, 2.5])
        #expect(Array(adjusted.samples[7..<14]) == [-0.5, -2, -1.25, -1, -2, -2, -1.25])
    }

    @Test func badInputsAreTypedErrors() throws {
        #expect { try OutlierSplitPlan(statistics: statistics(maxAbs: [1, 2]), layers: [0], feedForwardLength: 2, extraChannels: 0) }
            throws: { "\($0)".contains("positive number") }
        #expect { try OutlierSplitPlan(statistics: statistics(maxAbs: [1, 2]), layers: [0, 1], feedForwardLength: 2, extraChannels: 1) }
            throws: { "\($0)".contains("'blk.1.ffn_down_in'") }
        #expect { try OutlierSplitPlan(statistics: statistics(maxAbs: [1, 2]), layers: [0], feedForwardLength: 3, extraChannels: 1) }
            throws: { "\($0)".contains("has 2 channels") }
        let quantized = try LlamaModel(path: try TinyModel.write(type: .Q8_0))
        let stats = try SmoothQuantTests().tinyStatistics(model: quantized)
        let source = GGUFSource(file: quantized.file)
        let plan = try OutlierSplitPlan(statistics: stats, source: source, extraChannels: 4)
        #expect { try SplitSource(base: source, plan: plan) } throws: { "\($0)".contains("needs a float source") }
    }

    @Test func splitModelKeepsItsFloatOutputsAndItsStatisticsAreDerivedExactly() throws {
        let original = try LlamaModel(path: try TinyModel.write())
        let statistics = try SmoothQuantTests().tinyStatistics(model: original)
        let source = GGUFSource(file: original.file)
        let plan = try OutlierSplitPlan(statistics: statistics, source: source, extraChannels: 8)
        #expect(plan.feedForwardLength == TinyModel.ffn && plan.layers.count == TinyModel.blocks)
        var options = ModelConverter.Options(preset: QuantizationPreset.named("F32")!)
        options.extraMetadata = plan.metadata(architecture: "llama")
        let output = try temporaryDirectory() + "/split.gguf"
        _ = try ModelConverter(source: SplitSource(base: source, plan: plan), options: options).write(to: output)
        let split = try LlamaModel(path: output)
        #expect(split.configuration.feedForwardLength == TinyModel.ffn + 8)
        #expect(split.file.metadata.integer("quantkit.outlier_split.extra_channels") == 8)

        let tokens: [Int32] = [1, 72, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100]
        let a = try original.forward(tokens, state: try original.makeState(contextLength: 16), outputs: 0 ..< tokens.count)
        let b = try split.forward(tokens, state: try split.makeState(contextLength: 16), outputs: 0 ..< tokens.count)
        let worst = zip(a, b).map { abs($0 - $1) }.max()!
        #expect(worst / a.map(abs).max()! <= 1e-5, "max |Δlogit| / max |logit| = \(worst)")

        // What calibrating the split model on the same corpus measures is what `adjust` derived,
        // and the split neuron's largest activation really shrank.
        let measured = try SmoothQuantTests().tinyStatistics(model: split)
        let derived = plan.adjust(statistics)
        for layer in 0..<TinyModel.blocks {
            let key = ActivationSite.ffnDownInput.key(layer: layer)
            let m = try #require(measured.entries[key]), d = try #require(derived.entries[key])
            #expect(m.columns == d.columns)
            for j in 0..<m.columns {
                #expect(abs(m.maxAbs[j] - d.maxAbs[j]) <= 1e-4 * max(d.maxAbs[j], 1e-3), "layer \(layer) neuron \(j) max")
                #expect(abs(m.meanSquare[j] - d.meanSquare[j]) <= 1e-4 * max(d.meanSquare[j], 1e-6), "layer \(layer) neuron \(j) mean x²")
            }
            #expect(d.maxAbs.max()! < statistics.entries[key]!.maxAbs.max()!)
        }
    }
}
