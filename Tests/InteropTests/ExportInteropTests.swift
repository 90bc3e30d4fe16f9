import Foundation
import Inference
import QuantConversion
import QuantCore
import QuantFormats
import Testing
import TestScratch

/// `HuggingFaceExporter` on real checkpoints: the SmolLM2 test bed (byte-level BPE, chat template)
/// and stories260K (SentencePiece) go HF → GGUF → HF → GGUF with identical bytes, and the exported
/// folders read with transformers, safetensors, tokenizers and sentencepiece as we wrote them.
@Suite(TestData.needs(.python(["transformers", "tokenizers", "sentencepiece", "safetensors", "numpy"]), .testBed,
                      .shared("stories260K"), .shared("wikitext-2/wiki.test.raw")), .serialized, .tags(.interop, .slow))
struct ExportInteropTests {
    /// Converts an HF folder to a GGUF of `preset` in a scratch folder.
    func convert(_ folder: String, preset: String) throws -> String {
        let output = try temporaryDirectory() + "/\(preset).gguf"
        var options = ModelConverter.Options(preset: QuantizationPreset.named(preset)!)
        options.allowOutputInInputFolder = true
        _ = try ModelConverter(source: try HuggingFaceSource(folder: folder), options: options).write(to: output)
        return output
    }

    /// Exports into `<scratch>/<name>`: the folder's name is the model's general.name on the way back.
    func export(_ gguf: String, name: String, dtype: HuggingFaceExporter.DType? = nil) throws -> String {
        let folder = try temporaryDirectory() + "/" + name
        try HuggingFaceExporter(source: GGUFSource(file: try GGUFFile(path: gguf)), dtype: dtype).write(to: folder)
        return folder
    }

    func checkRoundTrip(hf: String, preset: String) throws -> String {
        let first = try convert(hf, preset: preset)
        let name = (hf as NSString).lastPathComponent
        let second = try convert(try export(first, name: name), preset: preset)
        #expect(try Data(contentsOf: URL(fileURLWithPath: first)) == Data(contentsOf: URL(fileURLWithPath: second)),
                "\(name) \(preset): HF → GGUF → HF → GGUF changed bytes")
        return first
    }

    /// What the Hugging Face libraries read from an exported folder, against our own reading.
    func checkHuggingFaceReads(gguf: String, name: String, characters: Int) throws {
        let folder = try export(gguf, name: name, dtype: .f32)   // numpy has no bfloat16
        let report = try PythonOracle.json("hf_export_check.py", folder, TestData.shared("wikitext-2/wiki.test.raw"), "\(characters)")
        let file = try GGUFFile(path: gguf)
        let arch = file.metadata.architecture!
        #expect(report["model_type"]?.string == "llama")
        #expect(report["hidden_size"]?.int64 == file.metadata.integer("\(arch).embedding_length"))
        #expect(report["num_hidden_layers"]?.int64 == file.metadata.integer("\(arch).block_count"))
        #expect(report["num_key_value_heads"]?.int64 == file.metadata.integer("\(arch).attention.head_count_kv"))
        #expect(report["tie_word_embeddings"]?.bool == (file.tensor(named: "output.weight") == nil))
        #expect(report["rms_norm_eps"]?.double.map(Float.init) == file.metadata.float("\(arch).attention.layer_norm_rms_epsilon").map(Float.init))
        // q_proj's first HF row is GGUF row 0 of the first head (llama.cpp interleaves pairs: row 0 stays).
        let source = GGUFSource(file: file)
        let q = try source.floats(try #require(source.tensors.firstIndex { $0.name == "blk.0.attn_q.weight" }))
        #expect(report["probe_row0"]?.array?.compactMap(\.double).map(Float.init) == Array(q.prefix(8)))
        let sum = q.reduce(0.0) { $0 + Double($1) }
        #expect(abs((report["probe_sum"]?.double ?? .nan) - sum) <= 1e-6 * max(1, abs(sum)))

        let text = String(try MappedFile.readText(path: TestData.shared("wikitext-2/wiki.test.raw")).prefix(characters))
        let ours = try Tokenizer(metadata: file.metadata).encode(text, addSpecial: false).map(Int64.init)
        let theirs = report["ids"]?.array?.compactMap(\.int64) ?? []
        #expect(ours.count == theirs.count && ours == theirs,
                "first difference at \(zip(ours, theirs).enumerated().first { $1.0 != $1.1 }?.offset ?? min(ours.count, theirs.count))")
    }

    @Test func smolLM2TestBedRoundTripsAndReads() throws {
        for preset in ["BF16", "F16"] { _ = try checkRoundTrip(hf: TestData.testBedHF, preset: preset) }
        try checkHuggingFaceReads(gguf: TestData.testBed, name: "smollm2", characters: 200_000)
    }

    @Test func stories260KSentencePieceRoundTripsAndReads() throws {
        let (folder, _) = try Stories260K.convertedGGUF()
        let f32 = try checkRoundTrip(hf: folder, preset: "F32")
        try checkHuggingFaceReads(gguf: f32, name: "stories260K", characters: 200_000)
    }
}
