import Foundation
import Inference
import QuantFormats
import Testing
import TestScratch
import TestSupport
@testable import QuantBatch

/// A batch over the tiny generated model: every job made or failed alone, a second run skips
/// what is done, a lost result is redone, shards merged equal the whole batch.
@Suite(.tags(.unit)) struct BatchRunTests {
    /// A manifest of the tiny model with three recipes, one of which must fail.
    func manifest(output: String) throws -> BatchManifest {
        let folder = try temporaryDirectory()
        let model = try TinyModel.write(type: .F32)
        let text = folder + "/text.txt"
        try String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 40).write(toFile: text, atomically: true, encoding: .utf8)
        let yaml = """
        output: \(output)
        models: [{name: tiny, path: \(model)}]
        recipes:
          - {name: q8_0, type: Q8_0}
          - {name: q4_0, type: Q4_0}
          - {name: broken, type: Q4_0, tensor_types: [{pattern: attn_v, type: Q9_9}]}
        evaluation: {text: \(text), chunks: 2, context: 64, kld: true, generation_tokens: 8}
        """
        try yaml.write(toFile: folder + "/batch.yaml", atomically: true, encoding: .utf8)
        return try ManifestLoader.load(path: folder + "/batch.yaml")
    }

    /// A result without what differs between runs (timings).
    func timeless(_ r: BatchResult) -> BatchResult {
        var r = r
        r.timings = .init()
        return r
    }

    @Test func jobsRunFailAloneAndResume() throws {
        let output = try temporaryDirectory() + "/out"
        let plan = BatchPlan(manifest: try manifest(output: output))
        let first = BatchRunner(plan: plan, threads: 2).run()
        #expect(first.map(\.status) == [.ok, .ok, .failed])
        #expect(first[2].error?.contains("Q9_9") == true)
        #expect(!FileManager.default.fileExists(atPath: output + "/tiny/broken.gguf"))
        let q8 = try #require(first[0].quality), q4 = try #require(first[1].quality)
        #expect(q8.meanKLD! < q4.meanKLD! && q8.meanKLD! > 0)
        #expect(first[0].bytes! > first[1].bytes!)
        #expect(first[0].tensorTypes?["Q8_0"] ?? 0 > 0)
        let q8Errors = try #require(first[0].tensorErrors), q4Errors = try #require(first[1].tensorErrors)
        #expect(q8Errors.count == 2 * 7 + 1 && q4Errors.keys == q8Errors.keys, "every weight matrix: \(q8Errors.keys.sorted())")
        #expect(q8Errors.values.reduce(0, +) < q4Errors.values.reduce(0, +) && q8Errors.values.allSatisfy { $0 > 0 && $0 < 0.02 })

        let caches = try FileManager.default.contentsOfDirectory(atPath: output + "/tiny/.shared").filter { $0.hasPrefix("base-logits-") }
        #expect(caches.count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: output + "/tiny/.shared/" + caches[0]).sorted() == ["0.f32.zst", "1.f32.zst"])
        var skipped: [String] = []
        let second = BatchRunner(plan: plan, threads: 2).run { if case let .skipped(job, _) = $0 { skipped.append(job) } }
        #expect(skipped == ["tiny/q8_0", "tiny/q4_0"])
        #expect(second.map(timeless) == first.map(timeless))

        // A job killed after writing its file but before its result: redone, same result.
        try FileManager.default.removeItem(atPath: output + "/tiny/q4_0.result.json")
        #expect(FileManager.default.createFile(atPath: output + "/tiny/.q4_0.gguf.quantkit-partial-abc123", contents: Data([1, 2, 3])))
        skipped = []
        let third = BatchRunner(plan: plan, threads: 2).run { if case let .skipped(job, _) = $0 { skipped.append(job) } }
        #expect(skipped == ["tiny/q8_0"])
        #expect(third.map(timeless) == first.map(timeless))
        #expect(!FileManager.default.fileExists(atPath: output + "/tiny/.q4_0.gguf.quantkit-partial-abc123"))
    }

    @Test func shardsMergedEqualTheWholeBatch() throws {
        let root = try temporaryDirectory()
        let whole = try manifest(output: root + "/whole")
        _ = BatchRunner(plan: BatchPlan(manifest: whole), threads: 2).run()
        var parts: [String] = []
        for index in 1...2 {
            var part = whole
            part.output = root + "/shard\(index)"
            parts.append(part.output)
            _ = BatchRunner(plan: BatchPlan(manifest: part, shard: Shard(index: index, count: 2)), threads: 2).run()
        }
        let merged = try ResultsFile.collect(from: parts).map(timeless)
        let unsharded = try ResultsFile.collect(from: [whole.output]).map(timeless)
        #expect(merged == unsharded && merged.count == 3)
        try ResultsFile.writeReport(try ResultsFile.collect(from: [whole.output]), to: whole.output)
        let report = try String(contentsOfFile: whole.output + "/report.md", encoding: .utf8)
        #expect(report.contains("| q8_0 |") && report.contains("tiny/broken"))
        let csv = try String(contentsOfFile: whole.output + "/results.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 4)
        let svg = try String(contentsOfFile: whole.output + "/kld-vs-bpw.svg", encoding: .utf8)
        #expect(svg.contains("<circle") && svg.contains("q4_0"))
        let heatMap = try String(contentsOfFile: whole.output + "/tensor-errors.svg", encoding: .utf8)
        #expect(heatMap.components(separatedBy: "<rect").count - 2 == 2 * 7 * 2, "one cell per block matrix and variant")
    }

    @Test func changedEvaluationReevaluatesWithoutConverting() throws {
        let output = try temporaryDirectory() + "/out"
        var manifest = try manifest(output: output)
        manifest.recipes = [manifest.recipes[0]]
        _ = BatchRunner(plan: BatchPlan(manifest: manifest), threads: 2).run()
        let before = try FileManager.default.attributesOfItem(atPath: output + "/tiny/q8_0.gguf")[.modificationDate] as? Date
        manifest.evaluation?.chunks = 1
        var reasons: [String] = []
        let results = BatchRunner(plan: BatchPlan(manifest: manifest), threads: 2).run { if case let .skipped(_, reason) = $0 { reasons.append(reason) } }
        #expect(reasons == ["file current; evaluating again"])
        #expect(results[0].status == .ok && results[0].provenance?.evaluation?.chunks == 1)
        let after = try FileManager.default.attributesOfItem(atPath: output + "/tiny/q8_0.gguf")[.modificationDate] as? Date
        #expect(before == after)
    }
}
