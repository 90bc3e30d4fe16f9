import Foundation
import QuantFormats
import Testing
import TestScratch
import TestSupport

/// `quantkit export`: a GGUF becomes a checkpoint `convert` reads back to the same function; the
/// JSON summary; refusals that leave nothing behind.
@Suite(.tags(.unit))
struct ExportCommandTests {
    @Test func exportsAndConvertsBack() throws {
        let model = try TinyModel.write(type: .F16)
        let folder = try temporaryDirectory() + "/tiny-hf"
        let result = try CLIRunner.run("export", model, "-o", folder, "--json", "--quiet")
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try JSONParser.parse(result.stdout)
        #expect(summary["schema"]?.string == "quantkit.export/1")
        #expect(summary["dtype"]?.string == "f16")
        #expect(summary["tied_embeddings"]?.bool == true)
        #expect(summary["files"]?.array?.compactMap(\.string).sorted()
                == ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"])
        let back = try temporaryDirectory() + "/back.gguf"
        #expect(try CLIRunner.run("convert", folder, "-o", back, "--type", "F16", "--quiet").status == 0)
        let original = try GGUFFile(path: model), converted = try GGUFFile(path: back)
        for info in original.tensors {
            let other = try #require(converted.tensor(named: info.name))
            #expect(Array(original.data(for: info)) == Array(converted.data(for: other)), "\(info.name)")
        }
        // The permuted copy computes the same function: same perplexity on a text.
        let permuted = try temporaryDirectory() + "/permuted-hf"
        #expect(try CLIRunner.run("export", model, "-o", permuted, "--permute-channels", "7", "--dtype", "f32", "--quiet").status == 0)
        let permutedGGUF = try temporaryDirectory() + "/permuted.gguf", plainGGUF = try temporaryDirectory() + "/plain.gguf"
        #expect(try CLIRunner.run("convert", permuted, "-o", permutedGGUF, "--type", "F32", "--quiet").status == 0)
        #expect(try CLIRunner.run("convert", folder, "-o", plainGGUF, "--type", "F32", "--quiet").status == 0)
        let text = try temporaryDirectory() + "/text.txt"
        try String(repeating: "the theory of the thing ", count: 40).write(toFile: text, atomically: true, encoding: .utf8)
        func ppl(_ path: String) throws -> Double {
            let run = try CLIRunner.run("perplexity", path, "-f", text, "--ctx", "64", "--json")
            return try JSONParser.parse(run.stdout)["ppl"]?.double ?? .nan
        }
        let a = try ppl(plainGGUF), b = try ppl(permutedGGUF)
        #expect(abs(a / b - 1) < 1e-4, "PPL \(a) vs permuted \(b)")
    }

    @Test func refusalsLeaveNothingBehind() throws {
        let model = try TinyModel.write()
        let occupied = try temporaryDirectory()
        try Data("keep".utf8).write(to: URL(fileURLWithPath: occupied + "/file"))
        let exists = try CLIRunner.run("export", model, "-o", occupied)
        #expect(exists.status == 1 && exists.stderr.contains("exists and is not empty"), "\(exists.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: occupied) == ["file"])
        let missing = try CLIRunner.run("export", occupied + "/none.gguf", "-o", occupied + "/out")
        #expect(missing.status == 1 && missing.stderr.hasPrefix("error: "))
        #expect(!FileManager.default.fileExists(atPath: occupied + "/out"))
        let badDType = try CLIRunner.run("export", model, "-o", occupied + "/out", "--dtype", "f8")
        #expect(badDType.status == 64)
    }
}
