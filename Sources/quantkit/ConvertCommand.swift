import ArgumentParser
import Foundation
import QuantCalibration
import QuantConversion
import QuantCore
import QuantFormats

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a GGUF or a Hugging Face llama checkpoint to a (quantized) GGUF.",
        discussion: """
        --type takes llama-quantize's names: \(QuantizationPreset.all.map(\.name).joined(separator: ", ")) \
        (Q3_K, Q4_K and Q5_K mean the _M mixes, as in llama-quantize). Unless --pure, the mix rules of \
        llama.cpp give sensitive tensors more bits (output and tied embeddings Q6_K, some attn_v and \
        ffn_down Q5_K/Q6_K). Tensors whose rows are not whole blocks fall back as llama-quantize does and \
        are listed in the summary. A Hugging Face folder (config.json, safetensors, tokenizer.json) keeps \
        its stored precision when --type is omitted. Writes atomically: the output appears complete or \
        not at all. Experimental options (GPTQ variants) are listed by --help-hidden.
        """
    )

    @Argument(help: "The input: a GGUF file or a Hugging Face checkpoint folder.") var input: String
    @Option(name: .shortAndLong, help: "The output GGUF.") var output: String?
    @Option(help: "Target type or mix preset (default for Hugging Face input: the stored precision).") var type: String?
    @Flag(help: "Every quantizable tensor gets the --type's tensor type (no mix rules).") var pure = false
    @Option(name: .customLong("tensor-type"), help: "REGEX=TYPE: tensors whose name matches get TYPE (repeatable; first match wins).")
    var tensorTypes: [String] = []
    @Option(help: "A YAML file of {pattern, type} rules, checked after --tensor-type.") var rules: String?
    @Option(help: "Type of output.weight.") var outputTensorType: String?
    @Option(help: "Type of token_embd.weight.") var tokenEmbeddingType: String?
    @Option(help: "A llama.cpp importance matrix (legacy .dat or GGUF imatrix) for importance-weighted rounding.") var imatrix: String?
    @Option(help: "A QuantKit statistics file (quantkit calibrate) for importance-weighted rounding.") var stats: String?
    @Option(help: "SmoothQuant: a fixed α in [0, 1]; 'auto' to search α per layer and site on the W8A8 layer-output error; 'tuned' (experimental, ~18 min on the test bed) to choose it by the model's W8A8 KL divergence on --calib text (GGUF input). All need --stats.")
    var smoothquant: String?
    @Option(help: "SmoothQuant sites: 'all' (norms, ffn_up → ffn_down, attn_v → attn_output) or 'norms' (attn_norm, ffn_norm only, as in the paper).")
    var smoothquantSites = "all"
    @Flag(help: "Rotate the residual stream and V heads by randomized Hadamard matrices folded into the weights (QuaRot): the same function in float, no outlier channels for int8. Unties a tied output head. Statistics change with it: calibrate the rotated file before --stats/--smoothquant.")
    var rotate = false
    @Option(help: "Seed of --rotate's random signs (and of the random rotation where no Hadamard matrix of the order exists).")
    var rotationSeed: UInt64?
    @Flag(help: ArgumentHelp("Experimental: GPTQ-style error compensation (needs --stats from calibrate --hessian); helps only in-domain.", visibility: .hidden))
    var gptq = false
    @Option(help: ArgumentHelp("Experimental: GPTQ damping, this fraction of the mean Hessian diagonal.", visibility: .hidden)) var gptqDamping = 0.01
    @Flag(help: ArgumentHelp("Experimental: round the blocks' linear weights onto W8A8's int8 grid with GPTQ (float --type; needs --stats from calibrate --hessian).", visibility: .hidden))
    var w8a8Gptq = false

    @Flag(help: "Choose each tensor's type by measured sensitivity (KL divergence on --calib text or data-free samples) within the size of the --type preset's plan (GGUF input).")
    var optimizeMix = false
    @Option(help: "File size --optimize-mix fills instead of the --type preset's: bytes, or with a unit (91.7MB, 87MiB) — to compare with another file at equal size.")
    var targetSize: ByteSize?
    @Option(help: "Text for --optimize-mix and --smoothquant tuned (default: data-free sequences sampled from the model).") var calib: String?
    @Option(help: "Tokens --optimize-mix and --smoothquant tuned run the model over, per variant tried.") var calibTokens = 512
    @Option(help: "Seed of the data-free sampler.") var seed: UInt64 = 1

    @Flag(help: "Allow converting tensors that are already quantized (compounds error).") var allowRequantize = false
    @Flag(help: "Fail instead of falling back when a tensor's rows do not fit the type.") var noFallback = false
    @Flag(help: "Keep NaN/Inf weights (by default a tensor holding any is an error).") var allowNonfinite = false
    @Flag(help: "Allow the output inside the Hugging Face checkpoint folder being converted (refused by default).")
    var allowOutputInInputFolder = false
    @Flag(help: "Print the per-tensor plan and totals without writing anything.") var dryRun = false
    @Flag(help: "No progress output.") var quiet = false
    @Flag(help: "Print the summary (and, with --dry-run, the plan) as JSON.") var json = false
    @OptionGroup var threads: ThreadOptions

    /// The options as a recipe (the keys a batch manifest uses); rules files are read here.
    func recipe() throws -> ConversionRecipe {
        var recipe = ConversionRecipe()
        recipe.type = type
        recipe.pure = pure
        recipe.tensorTypes = try tensorTypes.map(TensorTypeRules.rule(argument:)) + (rules.map(TensorTypeRules.rules(file:)) ?? [])
        recipe.outputTensorType = outputTensorType
        recipe.tokenEmbeddingType = tokenEmbeddingType
        recipe.imatrix = imatrix
        recipe.stats = stats
        recipe.smoothquant = smoothquant
        recipe.smoothquantSites = smoothquantSites
        recipe.rotate = rotate
        recipe.rotationSeed = rotationSeed
        recipe.gptq = gptq
        recipe.gptqDamping = gptqDamping
        recipe.w8a8Gptq = w8a8Gptq
        recipe.optimizeMix = optimizeMix
        recipe.targetSize = targetSize?.bytes
        if calib != nil || calibTokens != 512 || seed != 1 { recipe.calibration = .init(text: calib, tokens: calibTokens, seed: seed) }
        recipe.allowRequantize = allowRequantize
        recipe.noFallback = noFallback
        recipe.allowNonfinite = allowNonfinite
        recipe.allowOutputInInputFolder = allowOutputInInputFolder
        return recipe
    }

    func run() throws {
        try reportingErrors {
            var pipeline = try ConversionPipeline(recipe: try recipe(), input: input)
            pipeline.threads = threads.count
            guard dryRun || output != nil else { throw ConversionPipeline.InputError.noOutput }
            let report = ConvertReport(json: json, quiet: quiet)
            let outcome = try pipeline.run(output: dryRun ? nil : output, events: report.show, progress: report.tensorWritten)
            if let summary = outcome.summary {
                try report.printSummary(summary, written: output, outcome: outcome)
            } else {
                try report.printPlan(outcome.converter)
            }
        }
    }
}
