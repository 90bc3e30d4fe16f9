import ArgumentParser
import Foundation
import Inference
import QuantFormats

struct KLDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kld",
        abstract: "KL divergence of MODEL against --base on a text, in one streaming run (the statistics of llama-perplexity --kl-divergence)."
    )

    @Option(help: "The reference model (e.g. the F16 GGUF).") var base: String
    @Argument(help: "The model to judge (e.g. a quantized GGUF).") var model: String
    @OptionGroup var text: EvaluationTextOptions
    @OptionGroup var threads: ThreadOptions
    @OptionGroup var arithmetic: ArithmeticOptions
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        try reportingErrors {
            let reference = try LlamaModel(path: base), judged = try LlamaModel(path: model)
            reference.threads = threads.count
            judged.threads = threads.count
            arithmetic.apply(to: reference, judged: false)
            arithmetic.apply(to: judged)
            let content = try MappedFile.readText(path: text.file)
            let result = try KLDivergence.evaluate(base: reference, model: judged, text: content, context: text.ctx, maxChunks: text.chunks, batch: text.batch) { i, n, kld in
                FileHandle.standardError.write(Data("[\(i)/\(n)] mean KLD \(String(format: "%.6f", kld))\(i == n ? "\n" : "\r")".utf8))
            }
            arithmetic.reportDecomposition(of: judged)
            if json {
                try JSONOutput.print(result)
                return
            }
            func line(_ label: String, _ e: KLDivergenceResult.Estimate, _ format: String = "%.6f") {
                print(label.padding(toLength: 30, withPad: " ", startingAt: 0) + String(format: "\(format) ± \(format)", e.value, e.uncertainty))
            }
            print("tokens scored: \(result.tokens)")
            line("Mean PPL(Q)", result.perplexity)
            line("Mean PPL(base)", result.basePerplexity)
            print("Cor(ln(PPL(Q)), ln(PPL(base))): " + String(format: "%.2f%%", 100 * result.perplexityCorrelation))
            line("Mean ln(PPL(Q)/PPL(base))", result.meanLogPerplexityRatio)
            line("Mean PPL(Q)/PPL(base)", result.perplexityRatio)
            line("Mean KLD", result.meanKLD)
            for key in ["max", "99.9", "99", "95", "90", "median", "10", "5", "1", "0.1", "min"] {
                print("  KLD \(key)".padding(toLength: 30, withPad: " ", startingAt: 0) + String(format: "%.6f", result.kldPercentiles[key] ?? 0))
            }
            line("Mean Δp (%)", .init(value: 100 * result.meanDeltaP.value, uncertainty: 100 * result.meanDeltaP.uncertainty), "%.3f")
            for key in ["max", "99.9", "99", "95", "90", "median", "10", "5", "1", "0.1", "min"] {
                print("  Δp \(key) (%)".padding(toLength: 30, withPad: " ", startingAt: 0) + String(format: "%.3f", 100 * (result.deltaPPercentiles[key] ?? 0)))
            }
            line("RMS Δp (%)", .init(value: 100 * result.rmsDeltaP.value, uncertainty: 100 * result.rmsDeltaP.uncertainty), "%.3f")
            line("Same top p (%)", .init(value: 100 * result.sameTopToken.value, uncertainty: 100 * result.sameTopToken.uncertainty), "%.3f")
        }
    }
}
