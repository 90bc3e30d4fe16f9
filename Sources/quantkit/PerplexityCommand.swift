import ArgumentParser
import Foundation
import Inference
import QuantFormats

struct PerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perplexity",
        abstract: "Perplexity of a GGUF model on a text, measured exactly as llama-perplexity does.",
        discussion: "Non-overlapping chunks of --ctx tokens, the second half of each scored. Progress prints the running PPL per chunk ([1]24.49,[2]…) on stderr."
    )

    @Argument(help: "A GGUF model file (llama architecture).") var model: String
    @OptionGroup var text: EvaluationTextOptions
    @OptionGroup var threads: ThreadOptions
    @OptionGroup var arithmetic: ArithmeticOptions
    @Flag(help: "Print the result, with per-chunk values, as JSON.") var json = false

    func run() throws {
        try reportingErrors {
            let llama = try LlamaModel(path: model)
            llama.threads = threads.count
            arithmetic.apply(to: llama)
            let content = try MappedFile.readText(path: text.file)
            let stderr = FileHandle.standardError
            let result = try Perplexity.evaluate(model: llama, text: content, context: text.ctx, maxChunks: text.chunks, batch: text.batch) { chunk, total in
                stderr.write(Data("[\(chunk.index)]\(String(format: "%.4f", chunk.runningPerplexity)),".utf8))
                if chunk.index == total { stderr.write(Data("\n".utf8)) }
            }
            arithmetic.reportDecomposition(of: llama)
            if json {
                try JSONOutput.print(result)
            } else {
                print(String(format: "Final estimate: PPL = %.4f +/- %.5f", result.perplexity, result.uncertainty))
                print("\(result.chunks.count) chunks × \(text.ctx) tokens, \(result.scoredTokens) scored, "
                      + String(format: "%.1f s, %.0f tokens/s", result.seconds, result.tokensPerSecond))
            }
        }
    }
}
