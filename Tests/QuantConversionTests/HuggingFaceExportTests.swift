import Foundation
import QuantCore
@testable import QuantConversion
import QuantFormats
import Testing
import TestScratch

/// `HuggingFaceExporter`: HF → GGUF → HF → GGUF gives the same bytes, the tokenizer files read
/// back as they were written, and bad inputs give typed errors.
@Suite(.tags(.unit))
struct HuggingFaceExportTests {
    typealias HF = HuggingFaceSourceTests

    /// Converts `folder` to a GGUF of `preset` beside it.
    func convert(_ folder: String, preset: String) throws -> String {
        let output = (folder as NSString).deletingLastPathComponent + "/\(preset).gguf"
        _ = try ModelConverter(source: try HuggingFaceSource(folder: folder), options: .init(preset: QuantizationPreset.named(preset)!)).write(to: output)
        return output
    }

    /// Exports `gguf` into a fresh folder named `hf` (the name becomes general.name on the way back).
    func export(_ gguf: String, dtype: HuggingFaceExporter.DType? = nil) throws -> (HuggingFaceExporter, String) {
        let folder = try temporaryDirectory() + "/hf"
        let exporter = try HuggingFaceExporter(source: GGUFSource(file: try GGUFFile(path: gguf)), dtype: dtype)
        try exporter.write(to: folder)
        return (exporter, folder)
    }

    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    @Test(arguments: [("F32", SafetensorsDType.F32), ("F16", .BF16), ("BF16", .BF16)])
    func roundTripIsByteIdentical(preset: String, stored: SafetensorsDType) throws {
        let first = try convert(HF.makeFolder(dtype: stored), preset: preset)
        let (exporter, folder) = try export(first)
        #expect(exporter.dtype.ggmlType.name == preset)   // the file's own float type by default
        let second = try convert(folder, preset: preset)
        #expect(try bytes(first) == bytes(second))
    }

    @Test func untiedHeadAndLlama3RopeScalingComeBack() throws {
        let config = HF.config(extra: #", "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}"#)
            .replacingOccurrences(of: "\"tie_word_embeddings\": true", with: "\"tie_word_embeddings\": false")
        let tensors = HF.tensors(extra: ("lm_head.weight", [UInt64(HF.vocab), UInt64(HF.hidden)]))
        let first = try convert(HF.makeFolder(config: config, tensors: tensors), preset: "BF16")
        #expect(try GGUFFile(path: first).tensor(named: "rope_freqs.weight") != nil)
        let (exporter, folder) = try export(first)
        #expect(!exporter.config.tiedEmbeddings)
        #expect(exporter.tensors.contains { $0.hfName == "lm_head.weight" })
        let json = try JSONParser.parse(String(contentsOfFile: folder + "/config.json", encoding: .utf8))
        #expect(json["rope_scaling"]?["rope_type"]?.string == "llama3")
        #expect(json["rope_scaling"]?["factor"]?.double == 8)
        #expect(try bytes(first) == bytes(convert(folder, preset: "BF16")))
    }

    @Test func shardsPastTheLimitWithAnIndex() throws {
        let first = try convert(HF.makeFolder(dtype: .F32), preset: "F32")
        let folder = try temporaryDirectory() + "/hf"
        let exporter = try HuggingFaceExporter(source: GGUFSource(file: try GGUFFile(path: first)), maxShardBytes: 40_000)
        try exporter.write(to: folder)
        #expect(exporter.shardCount > 2)
        #expect(exporter.shardNames.first == String(format: "model-00001-of-%05d.safetensors", exporter.shardCount))
        let index = try JSONParser.parse(String(contentsOfFile: folder + "/model.safetensors.index.json", encoding: .utf8))
        #expect(index["metadata"]?["total_size"]?.uint64 == exporter.weightBytes)
        #expect(index["weight_map"]?.members?.count == exporter.tensors.count)
        #expect(try bytes(first) == bytes(convert(folder, preset: "F32")))
    }

    @Test func quantizedFilesExportAsTheirDecodedValues() throws {
        let q8 = try convert(HF.makeFolder(dtype: .F32), preset: "Q8_0")
        let (exporter, folder) = try export(q8)
        #expect(exporter.dtype == .bf16)
        let source = try HuggingFaceSource(folder: folder)
        let ggufSource = GGUFSource(file: try GGUFFile(path: q8))
        // ffn_up has no row permutation: its exported BF16 values are the Q8_0 values rounded to BF16.
        let name = "blk.1.ffn_up.weight"
        let exported = try source.floats(try #require(source.tensors.firstIndex { $0.name == name }))
        let decoded = try ggufSource.floats(try #require(ggufSource.tensors.firstIndex { $0.name == name }))
        #expect(exported == decoded.map { floatFromBFloat16(bfloat16Bits($0)) })
    }

    @Test func sentencePieceVocabularyReadsBack() throws {
        let tokens = ["<unk>", "<s>", "</s>", "<0x00>", "▁a", "b", "[PAD6]", "[PAD7]"]
        let types: [Int64] = [2, 3, 3, 6, 1, 1, 5, 5]
        let scores: [Float] = [0, 0, 0, 0, -1.5, -2.25, -1000, -1000]
        let metadata = try GGUFMetadata([.init(GGUFKey.Tokenizer.bosID, .uint32(1)), .init(GGUFKey.Tokenizer.eosID, .uint32(2)),
                                         .init(GGUFKey.Tokenizer.addSpacePrefix, .bool(false))])
        let path = try temporaryDirectory() + "/tokenizer.model"
        try Data(SentencePieceModelWriter.serialized(tokens: tokens, scores: scores, types: types, metadata: metadata)).write(to: URL(fileURLWithPath: path))
        let model = try SentencePieceModel(path: path)
        #expect(model.pieces.map(\.text) == Array(tokens.prefix(6)))   // the converter's [PADn] padding is not a piece
        #expect(model.pieces.map(\.score) == Array(scores.prefix(6)))
        #expect(model.pieces.map { Int64($0.type.rawValue) } == Array(types.prefix(6)))
        #expect(!model.addsDummyPrefix)
    }

    @Test func badInputsGiveTypedErrors() throws {
        let gguf = try convert(HF.makeFolder(dtype: .F32), preset: "F32")
        let occupied = try temporaryDirectory()
        try Data("x".utf8).write(to: URL(fileURLWithPath: occupied + "/keep"))
        let exporter = try HuggingFaceExporter(source: GGUFSource(file: try GGUFFile(path: gguf)))
        #expect(throws: HFExportError(file: gguf, .outputExists(occupied))) { try exporter.write(to: occupied) }
        #expect(try String(contentsOfFile: occupied + "/keep", encoding: .utf8) == "x")

        var metadata = try GGUFFile(path: gguf).metadata
        metadata[GGUFKey.architecture] = .string("gpt2")
        #expect(throws: HFExportError(file: "m", .unsupportedArchitecture(found: "gpt2", supported: ["llama"]))) {
            try HFLlamaConfig(gguf: metadata, file: "m", tied: true, ropeFactors: nil)
        }
        metadata[GGUFKey.architecture] = .string("llama")
        metadata[GGUFKey.Tokenizer.model] = .string("bert")
        let config = try HFLlamaConfig(gguf: metadata, file: "m", tied: true, ropeFactors: nil)
        #expect(throws: HFExportError(file: "m", .unsupportedTokenizer(found: "bert", supported: ["gpt2", "llama"]))) {
            try HFTokenizerExport(metadata: metadata, config: config, file: "m")
        }
    }
}
