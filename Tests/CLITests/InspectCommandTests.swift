import Foundation
import QuantFormats
import Testing
import TestScratch

@Suite(.tags(.slow)) struct InspectCommandTests {
    /// A small llama-like GGUF: architecture keys, a long token array, three tensors.
    func smallGGUF() throws -> String {
        var metadata = GGUFMetadata()
        metadata["general.architecture"] = .string("llama")
        metadata["llama.block_count"] = .uint32(2)
        metadata["llama.embedding_length"] = .uint32(64)
        metadata["tokenizer.ggml.tokens"] = .array(.string((0..<1000).map { "tok\($0)" }))
        let writer = try GGUFWriter(metadata: metadata, tensors: [
            GGUFTensorDescriptor(name: "token_embd.weight", shape: [64, 1000], type: .Q8_0),
            GGUFTensorDescriptor(name: "blk.0.attn_q.weight", shape: [64, 64], type: .Q4_0),
            GGUFTensorDescriptor(name: "output_norm.weight", shape: [64], type: .F32),
        ])
        let path = try temporaryDirectory() + "/small.gguf"
        try writer.write(to: path) { i, sink in try sink.write([UInt8](repeating: 0, count: Int(writer.tensorByteCounts[i]))) }
        return path
    }

    @Test func textReportListsMetadataAndTotals() throws {
        let result = try CLIRunner.run("inspect", try smallGGUF(), "--tensors")
        #expect(result.status == 0)
        #expect(result.stdout.contains("architecture  llama"))
        #expect(result.stdout.contains("[STRING × 1000] [\"tok0\", \"tok1\""))
        #expect(result.stdout.contains("tensors       3"))
        #expect(result.stdout.contains("blk.0.attn_q.weight"))
        #expect(result.stdout.contains("Q8_0 ×1"))
    }

    @Test func jsonReportIsStableSchema() throws {
        let result = try CLIRunner.run("inspect", try smallGGUF(), "--json", "--tensors")
        #expect(result.status == 0)
        let report = try JSONParser.parse(result.stdout)
        #expect(report["schema"]?.string == "quantkit.inspect/1")
        #expect(report["format"]?.string == "gguf")
        #expect(report["gguf_version"]?.int64 == 3)
        #expect(report["architecture"]?.string == "llama")
        #expect(report["hyperparameters"]?["block_count"]?.int64 == 2)
        #expect(report["tensor_count"]?.int64 == 3)
        // 64 000 + 4 096 + 64 weights; bytes: 2000 blocks × 34 + 128 × 18 + 256.
        #expect(report["parameter_count"]?.int64 == 68_160)
        let expectedBytes: Int64 = 2000 * 34 + 128 * 18 + 256
        #expect(report["tensor_bytes"]?.int64 == expectedBytes)
        #expect(report["type_counts"]?["Q4_0"]?.int64 == 1)
        let tokens = report["metadata"]?.array?.first { $0["key"]?.string == "tokenizer.ggml.tokens" }
        #expect(tokens?["value"]?["count"]?.int64 == 1000)
        #expect(tokens?["value"]?["element_type"]?.string == "STRING")
        #expect(tokens?["value"]?["truncated"]?.bool == true)
        #expect(report["tensors"]?.array?[1]["shape"]?.array?.compactMap(\.uint64) == [64, 64])
        // Without --tensors there is no per-tensor table.
        let brief = try JSONParser.parse(try CLIRunner.run("inspect", try smallGGUF(), "--json").stdout)
        #expect(brief["tensors"] == nil)
    }

    @Test func checkpointFolderUsesConfig() throws {
        let folder = try temporaryDirectory()
        let writer = try SafetensorsWriter(tensors: [SafetensorsTensorDescriptor(name: "model.norm.weight", dtype: .BF16, shape: [8])])
        try writer.write(to: folder + "/model.safetensors", tensorData: [[UInt8](repeating: 0, count: 16)])
        try Data(#"{"architectures": ["LlamaForCausalLM"], "hidden_size": 8, "rms_norm_eps": 1e-05}"#.utf8)
            .write(to: URL(fileURLWithPath: folder + "/config.json"))
        let result = try CLIRunner.run("inspect", folder, "--json")
        #expect(result.status == 0)
        let report = try JSONParser.parse(result.stdout)
        #expect(report["format"]?.string == "safetensors")
        #expect(report["architecture"]?.string == "LlamaForCausalLM")
        #expect(report["hyperparameters"]?["hidden_size"]?.int64 == 8)
        #expect(report["bits_per_weight"]?.double == 16)
    }

    @Test func malformedFileIsOneLineErrorAndExitOne() throws {
        let path = try temporaryDirectory() + "/bad.gguf"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: try smallGGUF()))
        bytes = bytes.prefix(200)
        try bytes.write(to: URL(fileURLWithPath: path))
        let result = try CLIRunner.run("inspect", path)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("error: \(path) @"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func missingAndUnknownFiles() throws {
        let missing = try CLIRunner.run("inspect", "/nonexistent/model.gguf")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot open (No such file or directory)"))
        let path = try temporaryDirectory() + "/notes.txt"
        try Data("hello world, not a model".utf8).write(to: URL(fileURLWithPath: path))
        let unknown = try CLIRunner.run("inspect", path)
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("not a GGUF or safetensors file"))
    }

    @Test func usageErrorsExitNonZero() throws {
        #expect(try CLIRunner.run("inspect").status != 0)
        #expect(try CLIRunner.run("no-such-command").status != 0)
    }

    @Test(TestData.needs(.sampleModel))
    func sampleModelListsAllTensors() throws {
        let result = try CLIRunner.run("inspect", TestData.sampleModel, "--json", "--tensors")
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONParser.parse(result.stdout)
        #expect(report["tensor_count"]?.int64 == 272)
        #expect(report["tensors"]?.array?.count == 272)
        #expect(report["metadata"]?.array?.count == 33)
        #expect(report["parameter_count"]?.int64 == 134_515_008)
        #expect(report["hyperparameters"]?["block_count"]?.int64 == 30)
    }
}

let sampleModelPath = (ProcessInfo.processInfo.environment["QUANTKIT_TESTDATA"] ?? (NSHomeDirectory() + "/.cache/quantkit-testdata"))
    + "/SmolLM2-135M-Instruct.Q4_1.gguf"

@Suite(.tags(.unit)) struct ConvertCommandTests {
    /// A small F32 model: one 64-wide and one 100-wide matrix (100 is not whole Q4_0 blocks) and a norm.
    func smallF32Model() throws -> String {
        var metadata = GGUFMetadata()
        metadata["general.architecture"] = .string("llama")
        let tensors = [
            GGUFTensorDescriptor(name: "a.weight", shape: [64, 4], type: .F32),
            GGUFTensorDescriptor(name: "b.weight", shape: [100, 2], type: .F32),
            GGUFTensorDescriptor(name: "n.weight", shape: [64], type: .F32),
        ]
        let writer = try GGUFWriter(metadata: metadata, tensors: tensors)
        let path = try temporaryDirectory() + "/small.gguf"
        try writer.write(to: path) { i, sink in
            let values = (0 ..< Int(writer.tensorByteCounts[i] / 4)).map { Float(sin(Double($0) * 0.37)) }
            try values.withUnsafeBytes { try sink.write($0) }
        }
        return path
    }

    @Test func convertsWithFallbackAndReportsIt() throws {
        let input = try smallF32Model()
        let output = (input as NSString).deletingLastPathComponent + "/out.gguf"
        let result = try CLIRunner.run("convert", input, "-o", output, "--type", "Q4_0", "--json", "--quiet")
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try JSONParser.parse(result.stdout)
        #expect(summary["type_counts"]?["Q4_0"]?.int64 == 1)
        #expect(summary["type_counts"]?["F16"]?.int64 == 1)   // 100 columns: no Q4_0 fallback fits → F16
        #expect(summary["fallbacks"]?["b.weight"]?.string == "Q4_0 → F16")
        let file = try GGUFFile(path: output)
        #expect(file.tensor(named: "a.weight")?.type == .Q4_0)
        #expect(file.tensor(named: "n.weight")?.type == .F32)
        #expect(file.metadata.integer(GGUFKey.fileType) == 2)
    }

    @Test func dryRunWritesNothingAndNoFallbackFails() throws {
        let input = try smallF32Model()
        let folder = (input as NSString).deletingLastPathComponent
        let dry = try CLIRunner.run("convert", input, "--type", "Q8_0", "--dry-run")
        #expect(dry.status == 0 && dry.stdout.contains("a.weight") && dry.stdout.contains("plan (Q8_0): 3 tensors"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["small.gguf"])
        let strict = try CLIRunner.run("convert", input, "-o", folder + "/x.gguf", "--type", "Q4_0", "--no-fallback")
        #expect(strict.status == 1 && strict.stderr.contains("b.weight"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["small.gguf"])
    }

    @Test func nonFiniteWeightsAreReportedPerTensor() throws {
        var metadata = GGUFMetadata()
        metadata["general.architecture"] = .string("llama")
        let writer = try GGUFWriter(metadata: metadata, tensors: [GGUFTensorDescriptor(name: "bad.weight", shape: [32, 2], type: .F32)])
        let folder = try temporaryDirectory()
        var values = [Float](repeating: 0.5, count: 64)
        values[3] = .nan
        values[40] = .infinity
        try writer.write(to: folder + "/nan.gguf") { _, sink in try values.withUnsafeBytes { try sink.write($0) } }
        let refused = try CLIRunner.run("convert", folder + "/nan.gguf", "-o", folder + "/o.gguf", "--type", "Q8_0")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("tensor 'bad.weight' has 2 NaN/Inf values (first at element 3)"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/o.gguf"))
        let allowed = try CLIRunner.run("convert", folder + "/nan.gguf", "-o", folder + "/o.gguf", "--type", "F16", "--allow-nonfinite", "--quiet")
        #expect(allowed.status == 0)
    }

    /// Finite weights past F16's range become Inf in F16 or in an fp16 block scale, as llama.cpp
    /// writes them: refused unless --allow-nonfinite. Denormals round as IEEE (llama.cpp's F16C).
    @Test func valuesBeyondHalfRangeAreRefusedAndTinyValuesRound() throws {
        var metadata = GGUFMetadata()
        metadata["general.architecture"] = .string("llama")
        let writer = try GGUFWriter(metadata: metadata, tensors: [GGUFTensorDescriptor(name: "big.weight", shape: [32, 2], type: .F32)])
        let folder = try temporaryDirectory()
        var values = [Float](repeating: 0.5, count: 64)
        values[0] = 1e-8       // below half the smallest F16 subnormal: 0
        values[1] = 3e-8       // rounds to the smallest subnormal, 2^-24
        values[2] = 70000      // past 65504 in F16; a Q8_0 scale of 70000/127 is fine
        try writer.write(to: folder + "/big.gguf") { _, sink in try values.withUnsafeBytes { try sink.write($0) } }
        let f16 = try CLIRunner.run("convert", folder + "/big.gguf", "-o", folder + "/f16.gguf", "--type", "F16")
        #expect(f16.status == 1)
        #expect(f16.stderr.contains("tensor 'big.weight': 1 values are beyond F16's range"), "\(f16.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/f16.gguf"))
        for type in ["Q8_0", "BF16", "Q4_K"] {
            let fine = try CLIRunner.run("convert", folder + "/big.gguf", "-o", folder + "/\(type).gguf", "--type", type, "--quiet")
            #expect(fine.status == 0, "\(type): \(fine.stderr)")
        }
        let allowed = try CLIRunner.run("convert", folder + "/big.gguf", "-o", folder + "/f16.gguf", "--type", "F16", "--allow-nonfinite", "--quiet")
        #expect(allowed.status == 0)
        let file = try GGUFFile(path: folder + "/f16.gguf")
        let halves = Array(file.data(for: file.tensor(named: "big.weight")!).bindMemory(to: UInt16.self).prefix(3))
        #expect(halves == [0x0000, 0x0001, 0x7C00])

        // A block whose fp16 scale overflows (max 1e7 → Q8_0 d = 78 740) decodes to Inf/NaN in llama.cpp.
        values[2] = 1e7
        try writer.write(to: folder + "/huge.gguf") { _, sink in try values.withUnsafeBytes { try sink.write($0) } }
        let q8 = try CLIRunner.run("convert", folder + "/huge.gguf", "-o", folder + "/q8.gguf", "--type", "Q8_0")
        #expect(q8.status == 1 && q8.stderr.contains("tensor 'big.weight': 32 values are beyond Q8_0's range"), "\(q8.stderr)")
    }

    @Test func refusesToRequantizeUnlessAllowedAndToOverwriteItsInput() throws {
        let input = try smallF32Model()
        let folder = (input as NSString).deletingLastPathComponent
        #expect(try CLIRunner.run("convert", input, "-o", folder + "/q.gguf", "--type", "Q8_0", "--quiet").status == 0)
        let refused = try CLIRunner.run("convert", folder + "/q.gguf", "-o", folder + "/r.gguf", "--type", "Q4_0")
        #expect(refused.status == 1 && refused.stderr.contains("--allow-requantize"))
        let allowed = try CLIRunner.run("convert", folder + "/q.gguf", "-o", folder + "/r.gguf", "--type", "Q4_0", "--allow-requantize", "--quiet")
        #expect(allowed.status == 0 && allowed.stderr.contains("warning: requantizing"))
        let same = try CLIRunner.run("convert", input, "-o", input, "--type", "Q8_0")
        #expect(same.status == 1 && same.stderr.contains("is the input file"))
    }
}
