import Foundation
import QuantFormats
import TestSupport
import Testing
import TestScratch

/// `--shard 1/2` and `--shard 2/2` into two folders, merged by `quantkit report`, give the
/// unsharded batch's results (timings aside); a bad manifest stops before any work with its line.
@Suite(.tags(.unit))
struct BatchShardCommandTests {
    func manifest(output: String, in folder: String, model: String, text: String) throws -> String {
        let path = folder + "/\((output as NSString).lastPathComponent).yaml"
        try """
        output: \(output)
        models: [{name: tiny, path: \(model)}]
        recipes: [{name: q8_0, type: Q8_0}, {name: q5_0, type: Q5_0}, {name: q4_0, type: Q4_0}]
        evaluation: {text: \(text), chunks: 2, context: 64, generation_tokens: 4}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func shardsMergedByReportEqualTheWholeBatch() throws {
        let folder = try temporaryDirectory()
        let model = try TinyModel.write(type: .F32), text = folder + "/text.txt"
        try String(repeating: "a cat sat on a mat and looked at the dog. ", count: 40).write(toFile: text, atomically: true, encoding: .utf8)
        let whole = try CLIRunner.run("batch", try manifest(output: folder + "/whole", in: folder, model: model, text: text), "--quiet")
        #expect(whole.status == 0, "\(whole.stderr)")
        for shard in ["1/2", "2/2"] {
            let name = "shard" + shard.prefix(1)
            let run = try CLIRunner.run("batch", try manifest(output: folder + "/" + name, in: folder, model: model, text: text), "--shard", shard, "--json")
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.split(separator: "\n").last?.contains(#""event":"done""#) == true)
        }
        let merged = try CLIRunner.run("report", folder + "/shard1", folder + "/shard2", "-o", folder + "/merged")
        #expect(merged.status == 0, "\(merged.stderr)")
        let rows = try BatchResultsFile.timelessRows(folder + "/merged"), unsharded = try BatchResultsFile.timelessRows(folder + "/whole")
        #expect(rows.count == 3 && rows == unsharded)
    }

    @Test func aBadManifestStopsBeforeAnyWork() throws {
        let folder = try temporaryDirectory()
        try """
        output: out
        models: [{name: tiny, path: nowhere.gguf}]
        recipes:
          - {name: q8_0, type: Q8_0, optimise_mix: true}
        """.write(toFile: folder + "/bad.yaml", atomically: true, encoding: .utf8)
        let run = try CLIRunner.run("batch", folder + "/bad.yaml")
        #expect(run.status == 1)
        #expect(run.stderr.contains("bad.yaml:4: recipes[0].optimise_mix: unknown key"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/out"))
    }
}
