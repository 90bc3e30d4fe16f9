import ArgumentParser
import Foundation
import QuantCore
import QuantFormats

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a GGUF model to one ggml type (every 2-D tensor; norms stay F32).",
        discussion: """
        Tensors whose rows are not whole blocks of the type fall back as llama-quantize does \
        (Q4_K→Q5_0, Q5_K→Q5_1, Q6_K→Q8_0, Q2_K/Q3_K/IQ4_XS→IQ4_NL, then F16) and are listed in the summary. \
        Writes atomically: the output appears complete or not at all. Mix presets (Q4_K_M…) and \
        Hugging Face inputs are not implemented yet.
        """
    )

    @Argument(help: "The input GGUF.") var input: String
    @Option(name: .shortAndLong, help: "The output GGUF.") var output: String?
    @Option(help: "Target type: \(TensorTypeChoice.fileType.keys.map(\.name).sorted().joined(separator: ", ")).") var type: String
    @Flag(help: "Allow converting tensors that are already quantized (compounds error).") var allowRequantize = false
    @Flag(help: "Fail instead of falling back when a tensor's rows do not fit the type.") var noFallback = false
    @Flag(help: "Keep NaN/Inf weights (by default a tensor holding any is an error).") var allowNonfinite = false
    @Flag(help: "Print the per-tensor plan and totals without writing anything.") var dryRun = false
    @Flag(help: "No progress output.") var quiet = false
    @Flag(help: "Print the summary as JSON.") var json = false
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try reportingErrors {
            guard let target = GGMLType(name: type), TensorTypeChoice.fileType[target] != nil else {
                throw ValidationError("unknown type '\(type)' (supported: \(TensorTypeChoice.fileType.keys.map(\.name).sorted().joined(separator: ", ")))")
            }
            guard try ModelFileKind.detect(path: input) == .gguf else {
                throw ValidationError("'\(input)' is not a GGUF file; converting Hugging Face checkpoints is not implemented yet")
            }
            var options = GGUFRequantizer.Options(target: target)
            options.allowRequantize = allowRequantize
            options.noFallback = noFallback
            options.allowNonFinite = allowNonfinite
            options.threads = threads.count
            let converter = try GGUFRequantizer(source: try GGUFFile(path: input), options: options)
            let stderr = FileHandle.standardError
            if allowRequantize, converter.plan.contains(where: { !TensorTypeChoice.floatTypes.contains($0.sourceType) && $0.shape.count >= 2 }) {
                stderr.write(Data("warning: requantizing already-quantized tensors compounds their error\n".utf8))
            }
            if dryRun {
                for tensor in converter.plan {
                    let fallback = tensor.choice.fellBackFrom.map { " (fallback from \($0.name))" } ?? ""
                    print("\(tensor.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(tensor.sourceType.name) → \(tensor.choice.type.name)\(fallback)  \(tensor.bytes) bytes")
                }
                try printSummary(converter.plannedSummary, written: nil)
                return
            }
            guard let output else { throw ValidationError("give the output with -o (or use --dry-run)") }
            let interactive = isatty(STDERR_FILENO) != 0
            let summary = try converter.write(to: output) { i, n, tensor in
                guard !quiet else { return }
                let line = "[\(i)/\(n)] \(tensor.name) \(tensor.sourceType.name) → \(tensor.choice.type.name)"
                stderr.write(Data((interactive ? "\r\u{1B}[K" + line : line + "\n").utf8))
            }
            if !quiet && interactive { stderr.write(Data("\n".utf8)) }
            try printSummary(summary, written: output)
        }
    }

    private func printSummary(_ summary: GGUFRequantizer.Summary, written: String?) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
            return
        }
        let types = summary.typeCounts.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        print("\(written.map { "wrote \($0)" } ?? "plan"): \(summary.tensors) tensors (\(types)), "
              + String(format: "%.1f MB, %.2f bits/weight", Double(summary.fileBytes) / 1e6, summary.bitsPerWeight)
              + (written != nil ? String(format: ", %.1f s", summary.seconds) : ""))
        if !summary.fallbacks.isEmpty { print("fallbacks: \(summary.fallbacks.count) tensors (\(Set(summary.fallbacks.values).sorted().joined(separator: ", ")))") }
    }
}
