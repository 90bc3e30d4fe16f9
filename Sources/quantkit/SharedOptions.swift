import ArgumentParser
import Foundation
import Inference

/// The text and windows of an evaluation (perplexity, kld).
struct EvaluationTextOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The text file.") var file: String
    @Option(help: "Context length per chunk.") var ctx = 512
    @Option(help: "Evaluate at most this many chunks (default: all).") var chunks: Int?
    @Option(help: ArgumentHelp("Tokens per forward pass (default: --ctx), as llama-perplexity's -b.",
                               discussion: "Passes of up to 4 tokens multiply quantized weights with our int8-rounded activations (slower); --llama-arithmetic follows llama.cpp's rounding in every pass."))
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

/// Whose arithmetic a model run follows.
struct ArithmeticOptions: ParsableArguments {
    @Flag(help: ArgumentHelp("Round every product's activations as llama.cpp's CPU backend does for the weight type (q8_0, q8_K per 256, f16), so results follow llama-perplexity's arithmetic.",
                             discussion: "By default batches multiply quantized weights with f32 activations, which measures the weights' error alone."))
    var llamaArithmetic = false

    func apply(to model: LlamaModel) {
        model.llamaCppRounding = llamaArithmetic
    }
}
