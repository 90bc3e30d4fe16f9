import ArgumentParser
import Foundation

/// The text and windows of an evaluation (perplexity, kld).
struct EvaluationTextOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The text file.") var file: String
    @Option(help: "Context length per chunk.") var ctx = 512
    @Option(help: "Evaluate at most this many chunks (default: all).") var chunks: Int?
    @Option(help: ArgumentHelp("Tokens per forward pass (default: --ctx), as llama-perplexity's -b.",
                               discussion: "Passes of up to 4 tokens multiply quantized weights with int8-rounded activations, as llama.cpp does in every pass (slower; closer to llama.cpp's numbers on quantized files)."))
    var batch: Int?

    func validate() throws {
        guard ctx >= 2 else { throw ValidationError("--ctx must be at least 2") }
        if let batch, batch < 1 { throw ValidationError("--batch must be at least 1") }
    }
}

/// How much of the machine a model run uses.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Worker threads (default: all cores).") var threads = ProcessInfo.processInfo.activeProcessorCount
    var count: Int { max(1, threads) }
}
