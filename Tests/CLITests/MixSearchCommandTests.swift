import Foundation
import QuantFormats
import TestSupport
import Testing
import TestScratch

/// `quantkit convert --optimize-mix` as a script sees it: the search's report in the JSON summary,
/// a file no larger than the preset's (metadata included), provenance keys, and clear errors for what it cannot do.
@Suite(.tags(.unit))
struct MixSearchCommandTests {
    @Test func optimizedMixFitsThePresetsSize() throws {
        let folder = try temporaryDirectory()
        let model = try TinyModel.write()
        let planned = try CLIRunner.run("convert", model, "--type", "Q4_K_M", "--dry-run", "--json")
        #expect(planned.status == 0, "\(planned.stderr)")
        let presetFileBytes = try #require(try JSONParser.parse(planned.stdout)["summary"]?["file_bytes"]?.int64)

        let output = folder + "/mix.gguf"
        let result = try CLIRunner.run("convert", model, "-o", output, "--type", "Q4_K_M", "--optimize-mix", "--calib-tokens", "64", "--json")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("mix search: 15 tensors"))
        let summary = try JSONParser.parse(result.stdout)
        let search = try #require(summary["mix_search"])
        #expect(search["tensors"]?.array?.count == 15)   // 7 per block × 2 + the tied embedding
        #expect(search["tokens"]?.int64 == 64)
        #expect(search["corpus"]?.string?.hasPrefix("data-free") == true)
        // The whole file, search metadata included, is no larger than the preset's.
        #expect(try #require(summary["file_bytes"]?.int64) <= presetFileBytes)
        #expect(Int64(try Data(contentsOf: URL(fileURLWithPath: output)).count) == summary["file_bytes"]?.int64)
        let file = try GGUFFile(path: output)
        #expect(file.metadata["quantkit.mix_search.tokens"] == .uint32(64))
    }

    /// An NF4_DQ mix filled to a size given in bytes (a llama.cpp file's, say): no larger than
    /// that, larger than the NF4_DQ preset, NF4_DQ kept (with its companions) where it is not promoted.
    @Test func nf4MixFillsTheTargetSize() throws {
        let folder = try temporaryDirectory()
        let model = try TinyModel.write()
        let planned = try CLIRunner.run("convert", model, "--type", "NF4_DQ", "--dry-run", "--json")
        #expect(planned.status == 0, "\(planned.stderr)")
        let presetFileBytes = try #require(try JSONParser.parse(planned.stdout)["summary"]?["file_bytes"]?.int64)
        let target = presetFileBytes + 2_000   // all blocks in Q5_0 would need 12.7 kB more

        let output = folder + "/mix.gguf"
        let result = try CLIRunner.run("convert", model, "-o", output, "--type", "NF4_DQ", "--optimize-mix", "--calib-tokens", "64",
                                       "--target-size", "\(target)", "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try JSONParser.parse(result.stdout)
        let fileBytes = try #require(summary["file_bytes"]?.int64)
        #expect(fileBytes <= target && fileBytes > presetFileBytes, "\(fileBytes) of \(target)")
        let chosen = try #require(summary["mix_search"]?["tensors"]?.array).compactMap { $0["chosen"]?.string }
        #expect(chosen.contains("NF4_DQ") && chosen.contains { $0 != "NF4_DQ" }, "\(result.stderr)")
        let file = try GGUFFile(path: output)
        for tensor in file.tensors where tensor.type == .NF4_DQ {
            #expect(file.tensor(named: GGMLType.doubleQuantCompanionName(of: tensor.name)) != nil, "\(tensor.name)")
        }
        let text = folder + "/text.txt"
        try String(repeating: "the cat sat on the mat. ", count: 40).write(toFile: text, atomically: true, encoding: .utf8)
        let perplexity = try CLIRunner.run("perplexity", output, "-f", text, "--ctx", "32", "--chunks", "2", "--json")
        #expect(perplexity.status == 0, "the searched file runs: \(perplexity.stderr)")
    }

    @Test func clearErrors() throws {
        let folder = try temporaryDirectory()
        let model = try TinyModel.write()
        let text = folder + "/text.txt"
        try String(repeating: "the cat sat on the mat. ", count: 40).write(toFile: text, atomically: true, encoding: .utf8)
        let calibWithoutSearch = try CLIRunner.run("convert", model, "-o", folder + "/a.gguf", "--type", "Q4_K_M", "--calib", text)
        #expect(calibWithoutSearch.status != 0 && calibWithoutSearch.stderr.contains("--calib is the text of --optimize-mix"))
        let tooFewTokens = try CLIRunner.run("convert", model, "-o", folder + "/b.gguf", "--type", "Q4_K_M", "--optimize-mix", "--calib-tokens", "1")
        #expect(tooFewTokens.status != 0 && tooFewTokens.stderr.contains("--calib-tokens"))
        let missingText = try CLIRunner.run("convert", model, "-o", folder + "/c.gguf", "--type", "Q4_K_M", "--optimize-mix", "--calib", folder + "/none.txt")
        #expect(missingText.status != 0 && missingText.stderr.contains("none.txt"))
        let badSize = try CLIRunner.run("convert", model, "-o", folder + "/d.gguf", "--type", "Q4_K_M", "--optimize-mix", "--target-size", "ninety")
        #expect(badSize.status != 0 && badSize.stderr.contains("--target-size"))
        let sizeWithoutSearch = try CLIRunner.run("convert", model, "-o", folder + "/e.gguf", "--type", "Q4_K_M", "--target-size", "1MB")
        #expect(sizeWithoutSearch.status != 0 && sizeWithoutSearch.stderr.contains("--target-size is the size --optimize-mix fills"))
        let tooSmall = try CLIRunner.run("convert", model, "-o", folder + "/f.gguf", "--type", "Q4_K_M", "--optimize-mix", "--calib-tokens", "64", "--target-size", "1KB")
        #expect(tooSmall.status != 0 && tooSmall.stderr.contains("--target-size"), "\(tooSmall.stderr)")
        for name in ["a.gguf", "b.gguf", "c.gguf", "d.gguf", "e.gguf", "f.gguf"] { #expect(!FileManager.default.fileExists(atPath: folder + "/" + name)) }
    }
}
