import Foundation
import Testing
import TestScratch
@testable import QuantBatch

/// The manifest is checked whole before any work: syntax, unknown keys, value types, names and
/// files, each problem with its line and key.
@Suite(.tags(.unit)) struct ManifestLoaderTests {
    func problems(_ yaml: String, files: [String] = []) throws -> [ManifestProblem] {
        let folder = try temporaryDirectory()
        for name in files { _ = FileManager.default.createFile(atPath: folder + "/" + name, contents: Data("x".utf8)) }
        let path = folder + "/batch.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try ManifestLoader.load(path: path)
            return []
        } catch let error as ManifestErrors {
            return error.problems
        }
    }

    @Test func theIssuesExampleLoadsWithPathsResolved() throws {
        let folder = try temporaryDirectory()
        for name in ["m.gguf", "calib.txt", "wiki.txt"] { _ = FileManager.default.createFile(atPath: folder + "/" + name, contents: Data()) }
        let yaml = """
        output: out/
        models:
          - name: smollm2
            path: m.gguf
        recipes:
          - name: q8_0
            type: Q8_0
          - name: q4_k_m-cal
            type: Q4_K_M
            calibration: {text: calib.txt, tokens: 5120}
            optimize_mix: true
        evaluation:
          text: wiki.txt
          chunks: 8
          kld: true
        """
        try yaml.write(toFile: folder + "/b.yaml", atomically: true, encoding: .utf8)
        let manifest = try ManifestLoader.load(path: folder + "/b.yaml")
        #expect(manifest.output == folder + "/out/")
        #expect(manifest.models == [.init(name: "smollm2", path: folder + "/m.gguf")])
        #expect(manifest.recipes.map(\.name) == ["q8_0", "q4_k_m-cal"])
        #expect(manifest.recipes[1].recipe.optimizeMix && manifest.recipes[1].recipe.calibration?.tokens == 5120)
        #expect(manifest.recipes[1].recipe.calibration?.text == folder + "/calib.txt")
        #expect(manifest.evaluation?.chunks == 8 && manifest.evaluation?.kld == true && manifest.evaluation?.text == folder + "/wiki.txt")
    }

    @Test func unknownKeysAreNamedWithTheirLines() throws {
        let found = try problems("""
        output: out
        models: [{name: a, path: m.gguf}]
        recipes:
          - name: q4
            type: Q4_0
            optimise_mix: true
        evaluaton: {text: w.txt}
        """, files: ["m.gguf"])
        #expect(found.map(\.key) == ["recipes[0].optimise_mix", "evaluaton"])
        #expect(found.map(\.line) == [6, 7])
    }

    @Test func everyValueProblemIsListedAtOnce() throws {
        let found = try problems("""
        output: out
        models:
          - {name: a, path: missing.gguf}
          - {name: a, path: m.gguf}
        recipes:
          - {name: "bad/name", type: Q4_0}
          - {name: q8, type: Q8_0, imatrix: nowhere.dat}
        evaluation: {text: w.txt, chunks: 0}
        """, files: ["m.gguf"])
        #expect(Set(found.map(\.key)) == ["models[0].path", "models[1].name", "recipes[0].name", "recipes[1].imatrix", "evaluation.text", "evaluation.chunks"])
        #expect(found.first { $0.key == "models[1].name" }?.line == 4)
        #expect(found.first { $0.key == "recipes[1].imatrix" }?.message.contains("nowhere.dat") == true)
    }

    @Test func wrongTypesAndMissingKeysPointAtTheLine() throws {
        let typed = try problems("""
        output: out
        models: [{name: a, path: m.gguf}]
        recipes:
          - name: q4
            optimize_mix: perhaps
        """, files: ["m.gguf"])
        #expect(typed.count == 1 && typed[0].key == "recipes[0].optimize_mix" && typed[0].line == 5)
        let missing = try problems("""
        output: out
        recipes: [{name: q4, type: Q4_0}]
        """)
        #expect(missing.count == 1 && missing[0].key == "models")
        let syntax = try problems("output: [unclosed\n")
        #expect(syntax.count == 1 && syntax[0].message.contains("not valid YAML"))
    }

    @Test func shardsAreDisjointAndCoverTheBatch() throws {
        let models = (0..<3).map { BatchManifest.Model(name: "m\($0)", path: "/m\($0)") }
        let recipes = (0..<5).map { BatchManifest.Recipe(name: "r\($0)", recipe: .init()) }
        let manifest = BatchManifest(output: "/out", models: models, recipes: recipes, evaluation: nil)
        let whole = BatchPlan(manifest: manifest).jobs.map(\.id)
        #expect(whole.count == 15)
        let shards = (1...4).map { BatchPlan(manifest: manifest, shard: Shard(index: $0, count: 4)).jobs.map(\.id) }
        #expect(shards.flatMap { $0 }.sorted() == whole.sorted())
        #expect(Set(shards.flatMap { $0 }).count == 15)
        #expect(Shard("0/2") == nil && Shard("3/2") == nil && Shard("2/2") == Shard(index: 2, count: 2))
    }
}
