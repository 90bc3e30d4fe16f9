import ArgumentParser
import Foundation
import QuantCalibration
import QuantConversion
import QuantCore
import QuantFormats

extension HuggingFaceExporter.DType: ExpressibleByArgument {}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a GGUF model as a Hugging Face checkpoint (config.json, safetensors, tokenizer files): the inverse of convert.",
        discussion: """
        Any type QuantKit decodes is dequantized to --dtype. q/k rows go back to Hugging Face's layout, a tied head stays \
        tied, Llama 3's rope_freqs go back into rope_scaling. The folder appears under its name only when complete.
        """
    )

    @Argument(help: "The GGUF file.") var model: String
    @Option(name: .shortAndLong, help: "The checkpoint folder to create (must not exist, or be empty).") var output: String
    @Option(help: "Weight precision: bf16, f16 or f32 (default: the file's own float type, else bf16).") var dtype: HuggingFaceExporter.DType?
    @Option(help: "Largest safetensors shard (e.g. 5GB, 2GiB); larger models are sharded with an index, as transformers saves them.")
    var maxShardSize = ByteSize(bytes: HuggingFaceExporter.defaultMaxShardBytes)
    @Option(help: ArgumentHelp("Shuffle channels with function-preserving permutations from this seed before writing.",
                               discussion: "The model computes the same function, but weights dequantized from a block format no longer sit on its grid, so re-quantizing them measures a real error. For making test and demo inputs from a quantized sample; not for models you publish.",
                               valueName: "seed"))
    var permuteChannels: UInt64?
    @Flag(help: "Print a JSON summary (schema quantkit.export/1).") var json = false
    @Flag(help: "No progress output.") var quiet = false

    func validate() throws {
        guard maxShardSize.bytes > 0 else { throw ValidationError("--max-shard-size must be positive") }
    }

    func run() throws {
        try reportingErrors {
            let start = Date()
            var source: any ConversionSource = GGUFSource(file: try GGUFFile(path: model))
            if let seed = permuteChannels { source = try ChannelPermutedSource(base: source, seed: seed) }
            let exporter = try HuggingFaceExporter(source: source, dtype: dtype, maxShardBytes: maxShardSize.bytes)
            let progress = ProgressReporter(total: exporter.tensors.count, totalBytes: exporter.weightBytes, quiet: quiet)
            try exporter.write(to: output) { done, tensor in progress.step(done, bytes: tensor.bytes, label: tensor.hfName) }
            let seconds = Date().timeIntervalSince(start)
            if json {
                let summary = ExportSummary(output: output, dtype: exporter.dtype.rawValue, files: exporter.fileNames,
                                            tensors: exporter.tensors.count, weightBytes: exporter.weightBytes,
                                            tiedEmbeddings: exporter.config.tiedEmbeddings, permutationSeed: permuteChannels, seconds: seconds)
                try JSONOutput.print(summary)
            } else {
                print("wrote \(output): \(exporter.tensors.count) tensors, \(exporter.weightBytes) bytes of \(exporter.dtype.rawValue) weights in "
                      + "\(exporter.shardNames.count) file(s), \(String(format: "%.1f", seconds)) s")
                print("files: " + exporter.fileNames.joined(separator: ", "))
            }
        }
    }
}

/// `export --json` (schema quantkit.export/1).
struct ExportSummary: Encodable {
    let schema = "quantkit.export/1"
    let output: String
    let dtype: String
    let files: [String]
    let tensors: Int
    let weightBytes: UInt64
    let tiedEmbeddings: Bool
    let permutationSeed: UInt64?
    let seconds: Double

    enum CodingKeys: String, CodingKey {
        case schema, output, dtype, files, tensors, seconds
        case weightBytes = "weight_bytes", tiedEmbeddings = "tied_embeddings", permutationSeed = "permutation_seed"
    }
}
