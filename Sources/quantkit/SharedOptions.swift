import ArgumentParser
import Foundation

/// The text and windows of an evaluation (perplexity, kld).
struct EvaluationTextOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The text file.") var file: String
    @Option(help: "Context length per chunk.") var ctx = 512
    @Option(help: "Evaluate at most this many chunks (default: all).") var chunks: Int?
}

/// How much of the machine a model run uses.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Worker threads (default: all cores).") var threads = ProcessInfo.processInfo.activeProcessorCount
    var count: Int { max(1, threads) }
}
