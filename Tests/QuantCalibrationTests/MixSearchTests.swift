import Foundation
import Inference
@testable import QuantCalibration
import QuantCore
import QuantFormats
import TestSupport
import Testing
import TestScratch

/// The mix search on the tiny model: measured sensitivities are real KL divergences of
/// one-tensor variants, the chosen plan fits the preset's size, and the file it gives is closer
/// to the unquantized model than the preset's file of the same size.
struct MixSearchTests {
    @Test func searchedPlanFitsThePresetAndBeatsIt() throws {
        let path = try TinyModel.write()
        let model = try LlamaModel(path: path)
        let corpus = try CalibrationCorpus.sampled(from: model, sequences: 2, length: 32, seed: 3)
        let source = GGUFSource(file: try GGUFFile(path: path))
        let preset = try ModelConverter(source: source, options: .init(preset: QuantizationPreset.named("Q4_K_M")!))
        let result = try MixSearch.run(model: model, converter: preset, corpus: corpus)

        let quantized = preset.plan.filter { $0.type.traits!.isQuantized }
        #expect(result.tensors.count == quantized.count, "every tensor the preset quantizes is searched")
        #expect(result.chosenBytes <= result.budgetBytes && result.budgetBytes == preset.plannedSummary.tensorBytes)
        #expect(result.chosenPredictedDivergence < result.plannedPredictedDivergence)
        for tensor in result.tensors {
            #expect(tensor.measuredDivergence > 0, "\(tensor.name)")
            #expect(MixLadder.blockRows.map(\.name).contains(tensor.chosen), "64/128 columns: 32-blocks only")
        }
        // The measured sensitivity of one tensor is the KLD of that variant run from scratch.
        let probe = result.tensors.first { $0.name == "blk.1.ffn_down.weight" }!
        let values = try model.weights.layers[1].down.floats()
        let bytes = try TensorCodec(type: GGMLType(name: probe.reference)!).quantize(values, rowLength: TinyModel.ffn)
        let variant = try model.replacingWeight(named: probe.name, type: GGMLType(name: probe.reference)!, bytes: bytes)
        let base = try ReferenceRun(model: model, corpus: corpus)
        let reference = ReferenceDistribution(logits: base.logits, vocabulary: model.configuration.vocabularySize)
        let fromScratch = reference.meanDivergence(of: try base.logits(of: variant, changingFrom: 0))
        #expect(abs(fromScratch - probe.measuredDivergence) <= 1e-9 * fromScratch)

        // Both files, judged on the search's own corpus.
        var options = ModelConverter.Options(preset: QuantizationPreset.named("Q4_K_M")!)
        options.planning.searchedTypes = result.assignments
        let searched = try ModelConverter(source: source, options: options)
        #expect(searched.plannedSummary.tensorBytes <= preset.plannedSummary.tensorBytes)
        #expect(searched.plan.contains { $0.decision.reason == .mixSearch })
        let folder = try temporaryDirectory()
        _ = try preset.write(to: folder + "/preset.gguf")
        _ = try searched.write(to: folder + "/searched.gguf")
        func divergence(_ file: String) throws -> Double {
            let quantizedModel = try LlamaModel(path: folder + "/" + file)
            return reference.meanDivergence(of: try base.logits(of: quantizedModel, changingFrom: 0))
        }
        #expect(try divergence("searched.gguf") < divergence("preset.gguf"))
    }

    @Test func ladderKeepsThePlannedTypeAndFitsTheRows() {
        #expect(MixLadder.candidates(rowLength: 1536, planned: .Q6_K) == [.Q3_K, .Q4_K, .Q5_K, .Q6_K, .Q8_0])
        #expect(MixLadder.candidates(rowLength: 576, planned: .Q5_0) == [.IQ4_NL, .Q5_0, .Q5_1, .Q8_0])
        #expect(MixLadder.candidates(rowLength: 576, planned: .Q4_0) == [.IQ4_NL, .Q4_0, .Q5_0, .Q5_1, .Q8_0])
        #expect(MixLadder.candidates(rowLength: 100, planned: .F16) == [.F16], "rows of no block size keep their type")
    }
}
