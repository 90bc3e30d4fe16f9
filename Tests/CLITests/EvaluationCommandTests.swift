import Foundation
import QuantFormats
import TestSupport
import Testing
import TestScratch

/// `quantkit perplexity` and `quantkit kld` as a script sees them: JSON on stdout, `--batch`
/// changing only how the window is cut, and a non-zero status with a clear message for bad input.
@Suite(.tags(.unit))
struct EvaluationCommandTests {
    func tinyModelAndText() throws -> (model: String, quantized: String, text: String) {
        let folder = try temporaryDirectory()
        let text = folder + "/text.txt"
        try String(repeating: "a dog ran past the old red barn and the cat watched it go. ", count: 30)
            .write(toFile: text, atomically: true, encoding: .utf8)
        return (try TinyModel.write(type: .F32), try TinyModel.write(type: .Q4_0), text)
    }

    @Test func perplexityAndKLDPrintJSONForAnyBatch() throws {
        let (model, quantized, text) = try tinyModelAndText()
        var perplexities: [Double] = []
        for batch in ["32", "5"] {
            let run = try CLIRunner.run("perplexity", model, "-f", text, "--ctx", "32", "--chunks", "3", "--batch", batch, "--json")
            #expect(run.status == 0, "\(run.stderr)")
            let json = try JSONParser.parse(run.stdout)
            #expect(json["chunks"]?.array?.count == 3)
            perplexities.append(try #require(json["ppl"]?.double))
        }
        // F32 weights: passes of 5 tokens give the same numbers up to summation order.
        #expect(abs(perplexities[0] / perplexities[1] - 1) < 1e-5, "\(perplexities)")

        let kld = try CLIRunner.run("kld", "--base", model, quantized, "-f", text, "--ctx", "32", "--chunks", "2", "--json")
        #expect(kld.status == 0, "\(kld.stderr)")
        let json = try JSONParser.parse(kld.stdout)
        #expect(json["tokens"]?.int64 == 30)  // 2 chunks × 15 scored positions
        #expect((json["mean_kld"]?["value"]?.double).map { $0 > 0 && $0.isFinite } == true)
        #expect(json["kld_percentiles"]?["99"]?.double != nil && json["same_top_token"]?["value"]?.double != nil)
    }

    /// --llama-arithmetic rounds the activations of the Q4_0 products as llama.cpp does: the
    /// numbers move (by rounding noise), the F32 reference does not (its products stay f32).
    @Test func llamaArithmeticRoundsQuantizedProductsOnly() throws {
        let (model, quantized, text) = try tinyModelAndText()
        func ppl(_ path: String, _ extra: String...) throws -> Double {
            let run = try CLIRunner.run(arguments: ["perplexity", path, "-f", text, "--ctx", "32", "--chunks", "2", "--json"] + extra)
            #expect(run.status == 0, "\(run.stderr)")
            return try #require(try JSONParser.parse(run.stdout)["ppl"]?.double)
        }
        #expect(try ppl(model) == (try ppl(model, "--llama-arithmetic")))
        let plain = try ppl(quantized), rounded = try ppl(quantized, "--llama-arithmetic")
        #expect(plain != rounded && abs(plain / rounded - 1) < 0.01, "\(plain) vs \(rounded)")
        let kld = try CLIRunner.run("kld", "--base", model, quantized, "-f", text, "--ctx", "32", "--chunks", "2", "--llama-arithmetic", "--json")
        #expect(kld.status == 0, "\(kld.stderr)")
    }

    @Test func badInputIsAClearError() throws {
        let (model, quantized, text) = try tinyModelAndText()
        let short = text + ".short"
        try "a dog ran.".write(toFile: short, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["perplexity", model, "-f", text, "--batch", "0"], "--batch must be at least 1"),
            (["perplexity", model, "-f", text, "--ctx", "4096"], "context"),
            (["perplexity", model, "-f", short, "--ctx", "32"], "at least 64 are needed"),
            (["kld", "--base", model, quantized, "-f", text + ".missing"], "text.txt.missing"),
            (["perplexity", quantized, "-f", text, "--w8a8", "--llama-arithmetic"], "excludes --llama-arithmetic"),
        ]
        for (arguments, message) in cases {
            let run = try CLIRunner.run(arguments: arguments)
            #expect(run.status != 0, "\(arguments)")
            #expect(run.stderr.lowercased().contains(message.lowercased()), "\(arguments): \(run.stderr)")
        }
    }
}
