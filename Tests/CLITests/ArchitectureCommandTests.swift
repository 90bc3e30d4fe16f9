import Foundation
import QuantFormats
import TestSupport
import Testing
import TestScratch

/// A model the tool cannot run says so, with what it can: an unknown architecture (GGUF or Hugging
/// Face) or pre-tokenizer is an error listing the supported ones, never a wrong result.
@Suite(.tags(.unit))
struct ArchitectureCommandTests {
    func text() throws -> String {
        let path = try temporaryDirectory() + "/text.txt"
        try String(repeating: "some words to score. ", count: 40).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func unknownGGUFArchitectureListsTheSupportedOnes() throws {
        let model = try TinyModel.write { metadata, _ in metadata[GGUFKey.architecture] = .string("gemma2") }
        let run = try CLIRunner.run("perplexity", model, "-f", try text(), "--ctx", "32", "--chunks", "1")
        #expect(run.status == 1)
        #expect(run.stderr.contains("unsupported architecture 'gemma2' (supported: llama, qwen2, qwen3)"), "\(run.stderr)")
    }

    @Test func unknownPreTokenizerListsTheSupportedOnes() throws {
        let model = try TinyModel.write { metadata, _ in metadata[GGUFKey.Tokenizer.pre] = .string("tekken") }
        let run = try CLIRunner.run("perplexity", model, "-f", try text(), "--ctx", "32", "--chunks", "1")
        #expect(run.status == 1)
        #expect(run.stderr.contains("unsupported pre-tokenizer 'tekken'") && run.stderr.contains("llama-bpe")
                && run.stderr.contains("qwen2"), "\(run.stderr)")
    }

    @Test func unknownHuggingFaceArchitectureListsTheSupportedOnes() throws {
        let folder = try temporaryDirectory()
        try #"{"architectures": ["Gemma2ForCausalLM"], "hidden_size": 64}"#.write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        let run = try CLIRunner.run("convert", folder, "-o", folder + "/out.gguf", "--type", "F16")
        #expect(run.status == 1)
        #expect(run.stderr.contains("Gemma2ForCausalLM") && run.stderr.contains("Qwen2ForCausalLM")
                && run.stderr.contains("Qwen3ForCausalLM") && run.stderr.contains("LlamaForCausalLM"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/out.gguf"))
    }
}
