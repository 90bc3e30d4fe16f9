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

/// Whose arithmetic a model run follows: stored weights with f32 activations (default),
/// llama.cpp's activation rounding, or W8A8.
struct ArithmeticOptions: ParsableArguments {
    @Flag(help: ArgumentHelp("Round every product's activations as llama.cpp's CPU backend does for the weight type (q8_0, q8_K per 256, f16), so results follow llama-perplexity's arithmetic.",
                             discussion: "By default batches multiply quantized weights with f32 activations, which measures the weights' error alone."))
    var llamaArithmetic = false
    @Flag(help: "Evaluate in W8A8: int8 per-channel weights and per-token int8 activations in the blocks' linear layers (kld: MODEL only; the base runs as stored).")
    var w8a8 = false
    @Flag(help: ArgumentHelp("Experimental, with --w8a8: rotate ffn_down's activations by a Hadamard matrix online before int8 (its weights rotated to match), as QuaRot's kernels do. Measures a W8A8 runtime with that kernel; llama.cpp has none.", visibility: .hidden))
    var w8a8Hadamard = false
    @Option(help: ArgumentHelp("Experimental, with --w8a8: LLM.int8()'s mixed-precision decomposition at this threshold (bitsandbytes' default is 6.0): input features where any token of a pass reaches |x| ≥ τ are multiplied in float with the dequantized int8 weights, as bitsandbytes' Linear8bitLt(threshold:) does.", valueName: "τ", visibility: .hidden))
    var w8a8Outliers: Float?

    func validate() throws {
        if w8a8Hadamard && !w8a8 { throw ValidationError("--w8a8-hadamard changes the W8A8 kernel: it needs --w8a8") }
        if let threshold = w8a8Outliers {
            guard w8a8 else { throw ValidationError("--w8a8-outliers changes the W8A8 kernel: it needs --w8a8") }
            guard threshold > 0, threshold.isFinite else { throw ValidationError("--w8a8-outliers must be a positive threshold, got \(threshold)") }
        }
        if w8a8 && llamaArithmetic { throw ValidationError("--w8a8 has its own int8 arithmetic: it excludes --llama-arithmetic") }
    }

    /// With --w8a8-outliers, after a run: what the threshold cost, on stderr.
    func reportDecomposition(of model: LlamaModel) {
        guard let threshold = w8a8Outliers, let share = model.w8a8FloatShare else { return }
        FileHandle.standardError.write(Data(String(format: "LLM.int8() decomposition (τ = %g): %.2f %% of the int8 layers' input values multiplied in float\n",
                                                   threshold, 100 * share).utf8))
    }

    /// `judged`: false for kld's base, which never runs in W8A8.
    func apply(to model: LlamaModel, judged: Bool = true) {
        model.arithmetic = StoredWeightArithmetic(llamaCppRounding: llamaArithmetic)
        if judged && w8a8 { model.enableW8A8(hadamardBeforeFFNDown: w8a8Hadamard, outlierThreshold: w8a8Outliers) }
    }
}
