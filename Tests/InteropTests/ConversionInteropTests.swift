import Foundation
import Inference
import QuantCalibration
import QuantConversion
import QuantCore
import QuantFormats
import Testing
import TestScratch

/// `quantkit convert` (ModelConverter) against llama.cpp's own quantizer on the test bed: the same
/// tensor type for every tensor (mix rules and fallbacks included), identical tensor bytes, the
/// same `general.file_type`, and the output loads in llama.cpp with finite logits.
@Suite(TestData.needs(.python(["llama_cpp", "gguf", "numpy"]), .testBed, .shared("wikitext-2/wiki.test.raw"), .shared("tinyshakespeare/input.txt"), .shared("stories260K"), .shared("anchors")), .serialized, .tags(.interop, .slow))
struct ConversionInteropTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let preset: String
        let pure: Bool
        var imatrix = false
        var testDescription: String { preset + (pure ? " --pure" : "") + (imatrix ? " --imatrix" : "") }
    }

    /// llama-imatrix's statistics for the test bed (tinyshakespeare, 10 chunks), in ../shared/testdata.
    static let imatrixFile = TestData.shared("anchors/testbed-imatrix-tinyshakespeare.dat")

    static let cases: [Case] = ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q6_K", "IQ4_NL", "IQ4_XS",
                                "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M"].map { Case(preset: $0, pure: false) }
        + ["Q4_K_M", "Q6_K", "Q4_0"].map { Case(preset: $0, pure: true) }
        + ["Q4_K_M", "Q4_0", "IQ4_NL", "Q3_K_M"].map { Case(preset: $0, pure: false, imatrix: true) }

    @Test(arguments: cases)
    func conversionMatchesLlamaQuantize(_ testCase: Case) throws {
        let preset = try #require(QuantizationPreset.named(testCase.preset))
        let folder = try temporaryDirectory()
        defer { ScratchSpace.remove(folder) }
        let ours = folder + "/ours.gguf", theirs = folder + "/llama.gguf"
        var options = ModelConverter.Options(preset: preset)
        options.planning.pure = testCase.pure
        if testCase.imatrix {
            let matrix = try ImportanceMatrix(path: Self.imatrixFile)
            options.importance = matrix.entries
            options.planning.hasImportance = true
        }
        _ = try ModelConverter(source: GGUFSource(file: try GGUFFile(path: TestData.testBed)), options: options).write(to: ours)
        try PythonOracle.run([PythonOracle.scripts + "/llama_quantize.py", TestData.testBed, theirs, "\(preset.fileType)"]
                             + (testCase.pure ? ["--pure"] : []) + (testCase.imatrix ? ["--imatrix", Self.imatrixFile] : []))
        let a = try GGUFFile(path: ours), b = try GGUFFile(path: theirs)
        #expect(a.tensors.map(\.name).sorted() == b.tensors.map(\.name).sorted())
        var typeMismatches: [String] = [], byteMismatches: [String] = []
        for tensor in b.tensors {
            guard let mine = a.tensor(named: tensor.name) else { continue }
            if mine.type != tensor.type {
                typeMismatches.append("\(tensor.name): \(mine.type) vs \(tensor.type)")
            } else if !a.data(for: mine).elementsEqual(b.data(for: tensor)) {
                byteMismatches.append(tensor.name)
            }
        }
        #expect(typeMismatches.isEmpty, "\(testCase): \(typeMismatches.count) type choices differ, e.g. \(typeMismatches.prefix(3))")
        #expect(byteMismatches.isEmpty, "\(testCase): \(byteMismatches.count) tensors differ, e.g. \(byteMismatches.prefix(3))")
        #expect(a.metadata.integer(GGUFKey.fileType) == b.metadata.integer(GGUFKey.fileType))

        let loaded = try PythonOracle.json("llama_load_check.py", ours)
        #expect(loaded[ours]?["finite"]?.bool == true, "\(testCase): llama.cpp logits not finite: \(loaded)")
    }

    /// The Hugging Face BF16 folder of the test bed, converted to F32, holds the test-bed GGUF's
    /// tensors up to BF16 rounding, the same tokenizer, and loads in llama.cpp.
    @Test func huggingFaceCheckpointMatchesTestBed() throws {
        let folder = try temporaryDirectory()
        defer { ScratchSpace.remove(folder) }
        let output = folder + "/hf-f32.gguf"
        var options = ModelConverter.Options(preset: QuantizationPreset.named("F32")!)
        options.threads = 2
        _ = try ModelConverter(source: try HuggingFaceSource(folder: TestData.testBedHF), options: options).write(to: output)
        let ours = try GGUFFile(path: output), reference = try GGUFFile(path: TestData.testBed)
        #expect(ours.tensors.map(\.name).sorted() == reference.tensors.map(\.name).sorted())
        for tensor in reference.tensors {
            let mine = try #require(ours.tensor(named: tensor.name))
            #expect(mine.shape == tensor.shape, "\(tensor.name)")
            let expected = try TensorCodec(type: tensor.type).dequantize(Array(reference.data(for: tensor)), rowLength: Int(tensor.rowLength))
            let actual = Array(ours.data(for: mine).bindMemory(to: Float.self))
            // BF16 keeps 8 significant bits: |error| ≤ 2^-9 relative, plus F16's own rounding.
            let worst = zip(expected, actual).map { abs($0 - $1) / max(abs($0), 1e-6) }.max() ?? 0
            #expect(worst <= 1.0 / 256, "\(tensor.name): worst relative difference \(worst)")
        }
        for key in [GGUFKey.Tokenizer.model, GGUFKey.Tokenizer.pre, GGUFKey.Tokenizer.tokens, GGUFKey.Tokenizer.tokenTypes,
                    GGUFKey.Tokenizer.merges, GGUFKey.Tokenizer.bosID, GGUFKey.Tokenizer.eosID, GGUFKey.Tokenizer.chatTemplate,
                    "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id", GGUFKey.Tokenizer.addBOS] {
            #expect(ours.metadata[key] == reference.metadata[key], "\(key) differs")
        }
        for suffix in GGUFKey.LLM.allCases {
            #expect(ours.metadata[suffix.key("llama")] == reference.metadata[suffix.key("llama")], "\(suffix) differs")
        }
        let loaded = try PythonOracle.json("llama_load_check.py", output)
        #expect(loaded[output]?["finite"]?.bool == true)

        // Same tokenization of all of wikitext-2 and perplexity within 0.1 % (our core, 8 chunks:
        // fewer chunks are dominated by the first one, where BF16 rounding moves PPL by 0.17 %).
        // Measured: 24.4997 vs 24.4985; transformers gives 24.4997 on the HF folder (testdata README).
        let text = try MappedFile.readText(path: InferenceInteropTests.wikitext)
        let converted = try LlamaModel(path: output), original = try LlamaModel(path: TestData.testBed)
        let ids = converted.tokenizer.encode(text, addSpecial: true)
        #expect(ids == original.tokenizer.encode(text, addSpecial: true))
        let a = try Perplexity.evaluate(model: converted, text: text, context: 512, maxChunks: 8)
        let b = try Perplexity.evaluate(model: original, text: text, context: 512, maxChunks: 8)
        #expect(abs(a.perplexity / b.perplexity - 1) < 0.001, "PPL \(a.perplexity) (HF → F32) vs \(b.perplexity) (test bed)")
    }
}
