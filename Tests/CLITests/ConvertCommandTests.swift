import Foundation
import QuantConversion
import QuantFormats
import Testing
import TestScratch

/// `quantkit convert` as a script sees it: dry-run plans as JSON, rules files, overrides, and
/// clear errors with a non-zero status for bad input.
@Suite(.tags(.unit))
struct ConvertPlanCommandTests {
    /// A 2-layer llama GGUF with 256-column rows (whole K-quant super-blocks).
    func smallModel(in folder: String) throws -> String {
        var metadata = GGUFMetadata()
        metadata["general.architecture"] = .string("llama")
        metadata["llama.block_count"] = .uint32(2)
        metadata["llama.attention.head_count"] = .uint32(4)
        metadata["llama.attention.head_count_kv"] = .uint32(4)
        var tensors = [GGUFTensorDescriptor(name: "token_embd.weight", shape: [256, 64], type: .F32),
                       GGUFTensorDescriptor(name: "output_norm.weight", shape: [256], type: .F32)]
        for layer in 0..<2 {
            for name in ["attn_v", "ffn_up", "ffn_down"] {
                tensors.append(GGUFTensorDescriptor(name: "blk.\(layer).\(name).weight", shape: [256, 256], type: .F32))
            }
        }
        let path = folder + "/small.gguf"
        try GGUFWriter(metadata: metadata, tensors: tensors).write(to: path) { i, sink in
            let values = (0..<Int(tensors[i].shape.reduce(1, *))).map { Float(sin(Double($0 + i) * 0.37)) }
            try values.withUnsafeBytes { try sink.write($0) }
        }
        return path
    }

    func plan(_ stdout: String) throws -> [String: String] {
        let json = try JSONParser.parse(stdout)
        var types: [String: String] = [:]
        for row in json["plan"]?.array ?? [] { types[row["name"]!.string!] = row["type"]!.string! }
        return types
    }

    @Test func dryRunPrintsThePlanAsJSONAndWritesNothing() throws {
        let folder = try temporaryDirectory()
        let input = try smallModel(in: folder)
        let result = try CLIRunner.run("convert", input, "-o", folder + "/out.gguf", "--type", "Q4_K_M", "--dry-run", "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let types = try plan(result.stdout)
        #expect(types["blk.0.attn_v.weight"] == "Q4_K")     // use_more_bits(0, 2) is false,
        #expect(types["blk.1.attn_v.weight"] == "Q6_K")     // use_more_bits(1, 2) true (i ≥ 7n/8)
        #expect(types["blk.0.ffn_up.weight"] == "Q4_K")
        #expect(types["token_embd.weight"] == "Q6_K")       // tied embeddings follow the output rule
        #expect(types["output_norm.weight"] == "F32")
        let summary = try JSONParser.parse(result.stdout)["summary"]
        #expect(summary?["preset"]?.string == "Q4_K_M")
        #expect(!FileManager.default.fileExists(atPath: folder + "/out.gguf"))
    }

    @Test func rulesFileAndTensorTypeOverrides() throws {
        let folder = try temporaryDirectory()
        let input = try smallModel(in: folder)
        try "- pattern: 'ffn_down'\n  type: Q8_0\n- pattern: 'blk\\.1\\.'\n  type: Q5_K\n".write(toFile: folder + "/rules.yaml", atomically: true, encoding: .utf8)
        let result = try CLIRunner.run("convert", input, "--type", "Q4_K_M", "--dry-run", "--json", "--rules", folder + "/rules.yaml",
                                       "--tensor-type", "blk\\.0\\.attn_v=Q4_0", "--token-embedding-type", "Q8_0")
        #expect(result.status == 0, "\(result.stderr)")
        let types = try plan(result.stdout)
        #expect(types["blk.0.attn_v.weight"] == "Q4_0")     // --tensor-type is checked first
        #expect(types["blk.0.ffn_down.weight"] == "Q8_0")
        #expect(types["blk.1.ffn_up.weight"] == "Q5_K")
        #expect(types["blk.0.ffn_up.weight"] == "Q4_K")
        #expect(types["token_embd.weight"] == "Q8_0")

        // The conversion itself writes those types.
        let write = try CLIRunner.run("convert", input, "-o", folder + "/out.gguf", "--type", "Q4_K_M", "--rules", folder + "/rules.yaml", "--quiet", "--json")
        #expect(write.status == 0, "\(write.stderr)")
        let file = try GGUFFile(path: folder + "/out.gguf")
        #expect(file.tensor(named: "blk.0.ffn_down.weight")?.type == .Q8_0)
        #expect(file.metadata.integer("general.file_type") == 15)
    }

    @Test func badInputIsAClearErrorWithNonZeroStatus() throws {
        let folder = try temporaryDirectory()
        let input = try smallModel(in: folder)
        try "- pattern: 'x'\n  kind: Q8_0\n".write(toFile: folder + "/bad.yaml", atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["--type", "Q9_9"], "unknown type 'Q9_9'"),
            (["--type", "Q4_0", "--rules", folder + "/bad.yaml"], "each rule needs 'pattern' and 'type'"),
            (["--type", "Q4_0", "--tensor-type", "(=Q8_0"], "invalid regular expression"),
            (["--type", "Q4_0", "--tensor-type", "ffn=Q9"], "unknown tensor type 'Q9'"),
            (["--type", "Q4_0", "--output-tensor-type", "nope"], "unknown tensor type 'nope'"),
        ]
        for (arguments, message) in cases {
            let result = try CLIRunner.run(arguments: ["convert", input, "-o", folder + "/x.gguf"] + arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let missing = try CLIRunner.run("convert", folder + "/nothing-here", "-o", folder + "/x.gguf", "--type", "Q8_0")
        #expect(missing.status == 1)
        #expect(!FileManager.default.fileExists(atPath: folder + "/x.gguf"))
    }
}

/// `quantkit convert` and `calibrate` refuse outputs that would replace what they read.
@Suite(.tags(.unit))
struct OutputPathCommandTests {
    @Test func outputThatIsTheInputIsRefusedAndTheInputSurvives() throws {
        let folder = try temporaryDirectory()
        let input = try ConvertPlanCommandTests().smallModel(in: folder)
        let before = try Data(contentsOf: URL(fileURLWithPath: input))
        try FileManager.default.createSymbolicLink(atPath: folder + "/alias.gguf", withDestinationPath: input)
        for output in [input, folder + "/./small.gguf", folder + "/alias.gguf"] {
            let result = try CLIRunner.run("convert", input, "-o", output, "--type", "Q8_0", "--quiet")
            #expect(result.status == 1, "\(output)")
            #expect(result.stderr.contains("is the input file"), "\(output): \(result.stderr)")
        }
        // Reading through the symlink works; writing to a fresh name beside it too.
        let converted = try CLIRunner.run("convert", folder + "/alias.gguf", "-o", folder + "/q8.gguf", "--type", "Q8_0", "--quiet")
        #expect(converted.status == 0, "\(converted.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
        let calibrate = try CLIRunner.run("calibrate", input, "-o", input, "--tokens", "8", "--quiet")
        #expect(calibrate.status == 1)
        #expect(calibrate.stderr.contains("is the input file"), "\(calibrate.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
    }
}
