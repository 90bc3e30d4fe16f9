import Foundation
import QuantFormats
import TestSupport
import Testing
import TestScratch

/// `quantkit calibrate`, `convert --stats/--smoothquant` and `perplexity --w8a8` as a script sees
/// them: JSON summaries, provenance in the output, and clear errors with a non-zero status.
@Suite(.tags(.unit))
struct CalibrateCommandTests {
    /// The tiny model calibrated data-free on 64 tokens: its folder, model and statistics paths
    /// and what calibrate printed.
    func calibratedTinyModel(_ extra: String...) throws -> (folder: String, model: String, stats: String, calibrate: CLIRunner.Result) {
        let folder = try temporaryDirectory()
        let model = try TinyModel.write()
        let stats = folder + "/tiny.qkstats"
        let calibrate = try CLIRunner.run(arguments: ["calibrate", model, "-o", stats, "--tokens", "64", "--sample-length", "16", "--quiet"] + extra)
        #expect(calibrate.status == 0, "\(calibrate.stderr)")
        return (folder, model, stats, calibrate)
    }

    /// A short English text file for perplexity runs on the tiny model.
    func sampleText(in folder: String) throws -> String {
        let text = folder + "/text.txt"
        try String(repeating: "the cat sat on the mat and then the other cat came. ", count: 30).write(toFile: text, atomically: true, encoding: .utf8)
        return text
    }

    @Test func calibrateThenConvertWithSmoothQuant() throws {
        let (folder, model, stats, calibrate) = try calibratedTinyModel("--json")
        let summary = try JSONParser.parse(calibrate.stdout)
        #expect(summary["provenance"]?["tokens"]?.int64 == 64)
        #expect(summary["provenance"]?["corpus"]?.string?.hasPrefix("data-free") == true)
        #expect(summary["entries"]?.int64 == 9)  // 4 sites × 2 layers + the output head

        let output = folder + "/smoothed.gguf"
        let convert = try CLIRunner.run("convert", model, "-o", output, "--type", "Q8_0", "--stats", stats, "--smoothquant", "auto", "--json")
        #expect(convert.status == 0, "\(convert.stderr)")
        #expect(convert.stderr.contains("SmoothQuant: layer"))
        let report = try JSONParser.parse(convert.stdout)
        #expect(report["preset"]?.string == "Q8_0")
        let sites = report["smoothquant"]?.array ?? []
        #expect(sites.count == 2 * 4, "one decision per layer and site")
        #expect(sites.allSatisfy { $0["alpha"] != nil && $0["site"]?.string != nil && $0["layer"]?.int64 != nil })
        let file = try GGUFFile(path: output)
        #expect(file.metadata.string("quantize.imatrix.file") == stats)
        #expect(file.metadata.string("quantkit.calibration.model_sha256")?.count == 64)
        #expect(file.metadata.array("quantkit.smoothquant.alpha_ffn_down_in")?.count == 2)

        // tuned: α from the model's own W8A8 divergence on data-free sequences; same report shape.
        let tuned = try CLIRunner.run("convert", model, "-o", folder + "/tuned.gguf", "--type", "F16", "--stats", stats,
                                      "--smoothquant", "tuned", "--calib-tokens", "64", "--json")
        #expect(tuned.status == 0, "\(tuned.stderr)")
        #expect(tuned.stderr.contains("SmoothQuant tuning:") && tuned.stderr.contains("W8A8 KLD on them"))
        let tunedSites = try JSONParser.parse(tuned.stdout)["smoothquant"]?.array ?? []
        #expect(tunedSites.count == 2 * 4)
        #expect(tunedSites.allSatisfy { $0["criterion"] == .string("model_kld") })
        let tunedFile = try GGUFFile(path: folder + "/tuned.gguf")
        #expect(tunedFile.metadata.string("quantkit.smoothquant.tuning_corpus")?.hasPrefix("data-free") == true)
        #expect(tunedFile.metadata.array("quantkit.smoothquant.alpha_attn_in")?.count == 2)

        let text = try sampleText(in: folder)
        let w8a8 = try CLIRunner.run("perplexity", output, "-f", text, "--ctx", "32", "--chunks", "2", "--w8a8", "--json")
        #expect(w8a8.status == 0, "\(w8a8.stderr)")
        #expect((try JSONParser.parse(w8a8.stdout)["ppl"]?.double).map { $0.isFinite && $0 > 1 } == true)
        let hadamard = try CLIRunner.run("kld", "--base", output, output, "-f", text, "--ctx", "32", "--chunks", "2", "--w8a8", "--w8a8-hadamard", "--json")
        #expect(hadamard.status == 0, "\(hadamard.stderr)")
        #expect((try JSONParser.parse(hadamard.stdout)["mean_kld"]?["value"]?.double).map { $0 > 0 && $0 < 0.1 } == true)
        let refused = try CLIRunner.run("perplexity", output, "-f", text, "--w8a8-hadamard")
        #expect(refused.status != 0 && refused.stderr.contains("--w8a8-hadamard"))
        let decomposed = try CLIRunner.run("kld", "--base", output, output, "-f", text, "--ctx", "32", "--chunks", "2", "--w8a8", "--w8a8-outliers", "6", "--json")
        #expect(decomposed.status == 0, "\(decomposed.stderr)")
        #expect(decomposed.stderr.contains("LLM.int8() decomposition (τ = 6):"), "\(decomposed.stderr)")
        #expect((try JSONParser.parse(decomposed.stdout)["mean_kld"]?["value"]?.double).map { $0 > 0 && $0 < 0.1 } == true)
        for bad in [["--w8a8-outliers", "6"], ["--w8a8", "--w8a8-outliers", "0"]] {
            let refusedOutliers = try CLIRunner.run(arguments: ["perplexity", output, "-f", text] + bad)
            #expect(refusedOutliers.status != 0 && refusedOutliers.stderr.contains("--w8a8-outliers"), "\(bad): \(refusedOutliers.stderr)")
        }
    }

    @Test func hessianStatisticsFeedGPTQAndNF4() throws {
        let (folder, model, stats, _) = try calibratedTinyModel("--hessian")
        let text = try sampleText(in: folder)
        for (type, extra) in [("Q4_0", ["--gptq"]), ("NF4", ["--gptq"]), ("NF4_DQ", [])] {
            let output = folder + "/\(type).gguf"
            let convert = try CLIRunner.run(arguments: ["convert", model, "-o", output, "--type", type, "--stats", stats, "--quiet", "--json"] + extra)
            #expect(convert.status == 0, "\(type): \(convert.stderr)")
            let file = try GGUFFile(path: output)
            #expect(file.tensor(named: "blk.1.ffn_down.weight")?.type.name == type)
            #expect((file.metadata["quantkit.calibration.gptq"] == .bool(true)) == !extra.isEmpty)
            let ppl = try CLIRunner.run("perplexity", output, "-f", text, "--ctx", "32", "--chunks", "2", "--json")
            #expect((try JSONParser.parse(ppl.stdout)["ppl"]?.double).map { $0.isFinite && $0 > 1 } == true, "\(type): \(ppl.stderr)")
        }
        // W8A8 preparation: F16 weights on the int8 grid, after SmoothQuant, evaluated under --w8a8;
        // a quantized --type is refused.
        let prepared = folder + "/w8a8.gguf"
        let w8a8 = try CLIRunner.run("convert", model, "-o", prepared, "--type", "F16", "--stats", stats, "--smoothquant", "auto",
                                     "--w8a8-gptq", "--quiet")
        #expect(w8a8.status == 0, "\(w8a8.stderr)")
        #expect(try GGUFFile(path: prepared).metadata["quantkit.calibration.w8a8_gptq"] == .bool(true))
        let w8a8PPL = try CLIRunner.run("perplexity", prepared, "-f", text, "--ctx", "32", "--chunks", "2", "--w8a8", "--json")
        #expect((try JSONParser.parse(w8a8PPL.stdout)["ppl"]?.double).map { $0.isFinite && $0 > 1 } == true, "\(w8a8PPL.stderr)")
        let quantized = try CLIRunner.run("convert", model, "-o", folder + "/q.gguf", "--type", "Q4_0", "--stats", stats, "--w8a8-gptq")
        #expect(quantized.status != 0 && quantized.stderr.contains("--type F16 or F32"), "\(quantized.stderr)")
        // Statistics without Hessians cannot drive --gptq.
        let plain = folder + "/plain.qkstats"
        #expect(try CLIRunner.run("calibrate", model, "-o", plain, "--tokens", "32", "--sample-length", "16", "--quiet").status == 0)
        let refused = try CLIRunner.run("convert", model, "-o", folder + "/x.gguf", "--type", "Q4_0", "--stats", plain, "--gptq")
        #expect(refused.status != 0 && refused.stderr.contains("calibrate --hessian"), "\(refused.stderr)")
    }

    @Test func badInputIsAClearError() throws {
        let folder = try temporaryDirectory()
        let model = try TinyModel.write()
        let notStats = folder + "/not.qkstats"
        try Data("hello".utf8).write(to: URL(fileURLWithPath: notStats))
        let cases: [([String], String)] = [
            (["convert", model, "-o", folder + "/a.gguf", "--type", "Q8_0", "--smoothquant", "0.5"], "need the activation statistics of --stats"),
            (["convert", model, "-o", folder + "/a.gguf", "--type", "Q8_0", "--gptq"], "need the activation statistics of --stats"),
            (["convert", model, "-o", folder + "/a.gguf", "--type", "Q8_0", "--smoothquant", "tuned"], "need the activation statistics of --stats"),
            (["convert", model, "-o", folder + "/a.gguf", "--type", "F16", "--w8a8-gptq"], "need the activation statistics of --stats"),
            (["convert", model, "-o", folder + "/a.gguf", "--type", "Q8_0", "--stats", notStats], "zstd"),
            (["convert", model, "-o", folder + "/a.gguf", "--type", "Q8_0", "--stats", notStats, "--imatrix", notStats], "either --imatrix or --stats"),
            (["calibrate", model, "-o", folder + "/s.qkstats", "--calib", folder + "/missing.txt"], "missing.txt"),
            (["calibrate", folder + "/missing.gguf", "-o", folder + "/s.qkstats"], "missing.gguf"),
        ]
        for (arguments, message) in cases {
            let result = try CLIRunner.run(arguments: arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder + "/a.gguf") && !FileManager.default.fileExists(atPath: folder + "/s.qkstats"))
    }
}

extension CalibrateCommandTests {
    /// The documented pipeline: rotate, calibrate the rotated file, smooth it; statistics of the
    /// unrotated model are refused with --rotate (they describe other channels).
    @Test func rotateThenCalibrateThenSmoothQuant() throws {
        let (folder, model, stats, _) = try calibratedTinyModel()
        let refused = try CLIRunner.run("convert", model, "-o", folder + "/r.gguf", "--type", "F16", "--rotate", "--stats", stats)
        #expect(refused.status != 0 && refused.stderr.contains("calibrate the rotated file"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/r.gguf"))

        let rotated = folder + "/rotated.gguf"
        let rotate = try CLIRunner.run("convert", model, "-o", rotated, "--type", "F32", "--rotate")
        #expect(rotate.status == 0, "\(rotate.stderr)")
        #expect(rotate.stderr.contains("rotation: residual stream hadamard 64×64, V heads hadamard 16×16"), "\(rotate.stderr)")
        let file = try GGUFFile(path: rotated)
        #expect(file.metadata.string("quantkit.rotation.residual") == "hadamard")
        #expect(file.tensors.contains { $0.name == "output.weight" }, "the tied head is untied")
        let reseeded = folder + "/reseeded.gguf"
        let reseed = try CLIRunner.run("convert", model, "-o", reseeded, "--type", "F32", "--rotate", "--rotation-seed", "7", "--quiet")
        #expect(reseed.status == 0, "\(reseed.stderr)")
        let other = try GGUFFile(path: reseeded)
        #expect(other.metadata["quantkit.rotation.seed"] == .uint64(7))
        #expect(try Array(other.data(named: "blk.0.attn_q.weight")) != Array(file.data(named: "blk.0.attn_q.weight")), "another seed, other signs")

        let rotatedStats = folder + "/rotated.qkstats"
        let calibrate = try CLIRunner.run("calibrate", rotated, "-o", rotatedStats, "--tokens", "64", "--sample-length", "16", "--quiet")
        #expect(calibrate.status == 0, "\(calibrate.stderr)")
        let smooth = try CLIRunner.run("convert", rotated, "-o", folder + "/rotated-sq.gguf", "--type", "F16",
                                       "--stats", rotatedStats, "--smoothquant", "auto", "--quiet")
        #expect(smooth.status == 0, "\(smooth.stderr)")
        #expect(try GGUFFile(path: folder + "/rotated-sq.gguf").metadata.array("quantkit.smoothquant.alpha_ffn_down_in")?.count == 2)
    }
}
