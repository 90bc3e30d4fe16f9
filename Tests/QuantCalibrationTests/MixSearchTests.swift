import Foundation
import Inference
@testable import QuantCalibration
import QuantConversion
import QuantCore
import QuantFormats
import TestSupport
import Testing
import TestScratch

/// The mix search on the tiny model: measured sensitivities are real KL divergences of
/// one-tensor variants, the chosen plan fits the preset's size, and the file it gives is closer
/// to the unquantized model than the preset's file of the same size.
@Suite(.tags(.unit))
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
        let values = model.weights.layers[1].down.floats()
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
        #expect(MixLadder.candidates(rowLength: 1536, planned: .Q6_K, preset: .Q4_K) == [.Q3_K, .Q4_K, .Q5_K, .Q6_K, .Q8_0])
        #expect(MixLadder.candidates(rowLength: 576, planned: .Q5_0, preset: .Q4_K) == [.IQ4_NL, .Q5_0, .Q5_1, .Q8_0])
        #expect(MixLadder.candidates(rowLength: 576, planned: .Q4_0, preset: .Q4_0) == [.IQ4_NL, .Q4_0, .Q5_0, .Q5_1, .Q8_0])
        #expect(MixLadder.candidates(rowLength: 100, planned: .F16, preset: .Q4_K) == [.F16], "rows of no block size keep their type")
    }

    @Test func nf4PresetsStayNF4OrGoWider() {
        #expect(MixLadder.candidates(rowLength: 576, planned: .NF4_DQ, preset: .NF4_DQ) == [.NF4_DQ, .Q5_0, .Q5_1, .Q8_0])
        #expect(MixLadder.candidates(rowLength: 1536, planned: .NF4, preset: .NF4) == [.NF4, .Q5_K, .Q6_K, .Q8_0])
        // The tied embedding the output rule put in Q8_0 may come down to the preset's NF4.
        #expect(MixLadder.candidates(rowLength: 576, planned: .Q8_0, preset: .NF4) == [.NF4, .Q5_0, .Q5_1, .Q8_0])
        #expect(MixLadder.candidates(rowLength: 96, planned: .Q8_0, preset: .NF4_DQ) == [.Q5_0, .Q5_1, .Q8_0], "no NF4 where rows are not 64-blocks")
    }

    /// NF4_DQ's statistics span the tensor, so the search encodes it whole and runs the NF4
    /// blocks it expands to: those must be the values the written file decodes to, and a search
    /// given more bytes than the preset spends them on wider types and beats the preset.
    @Test func doubleQuantizedNF4IsSearchedAsItIsWritten() throws {
        let path = try TinyModel.write()
        let model = try LlamaModel(path: path)
        let corpus = try CalibrationCorpus.sampled(from: model, sequences: 2, length: 32, seed: 5)
        let source = GGUFSource(file: try GGUFFile(path: path))
        let nf4 = QuantizationPreset.named("NF4_DQ")!
        let preset = try ModelConverter(source: source, options: .init(preset: nf4))
        let folder = try temporaryDirectory()
        _ = try preset.write(to: folder + "/preset.gguf")
        let written = try LlamaModel(path: folder + "/preset.gguf")
        let name = "blk.0.ffn_down.weight"
        let index = try #require(source.tensors.firstIndex { $0.name == name })
        let encoding = try MixSearch.RunnableEncoding(try source.floats(index), type: .NF4_DQ, rowLength: TinyModel.ffn,
                                                      importance: nil, tensor: name, threads: 2)
        #expect(encoding.type == .NF4)
        let searched = try TensorCodec(type: .NF4).dequantize(encoding.bytes, rowLength: TinyModel.ffn)
        #expect(searched == written.weights.layers[0].down.floats(), "the search runs what the file holds")

        let measurement = try MixSearch.measure(model: model, converter: preset, corpus: corpus)
        let roomier = try measurement.allocate(tensorBudget: measurement.plannedTensorBytes * 5 / 4)
        #expect(roomier.chosenBytes <= roomier.budgetBytes && roomier.chosenBytes > preset.plannedSummary.tensorBytes)
        #expect(Set(roomier.tensors.map(\.chosen)).isSubset(of: ["NF4_DQ", "Q5_0", "Q5_1", "Q8_0"]))
        #expect(roomier.tensors.contains { $0.chosen == "NF4_DQ" } && roomier.tensors.contains { $0.chosen != "NF4_DQ" })
        var options = ModelConverter.Options(preset: nf4)
        options.planning.searchedTypes = roomier.assignments
        _ = try ModelConverter(source: source, options: options).write(to: folder + "/searched.gguf")
        let base = try ReferenceRun(model: model, corpus: corpus)
        let reference = ReferenceDistribution(logits: base.logits, vocabulary: model.configuration.vocabularySize)
        func divergence(_ file: String) throws -> Double {
            reference.meanDivergence(of: try base.logits(of: try LlamaModel(path: folder + "/" + file), changingFrom: 0))
        }
        #expect(try divergence("searched.gguf") < divergence("preset.gguf"))
    }
}
