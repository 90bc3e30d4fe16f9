import ArgumentParser
import Foundation
import Inference
import QuantFormats

/// Evaluation speed (512-token chunks with logits, as perplexity runs) and generation speed for
/// QuantKit and, on the same files in the same run, llama.cpp through llama-cpp-python.
struct InferenceBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perplexity",
        abstract: "Tokens/s evaluating 512-token chunks and generating, QuantKit vs llama.cpp, per model file."
    )

    @Argument(help: "GGUF model files.") var models: [String]
    @Option(name: .shortAndLong, help: "Text to evaluate.") var file: String
    @Option(help: "Chunks of 512 tokens.") var chunks = 4
    @Option(help: "Tokens to generate (greedy).") var generate = 32
    @Option(help: "Threads for both.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Skip llama.cpp.") var noLlama = false
    @Flag(help: "Run ours in W8A8 (int8 weights per channel, int8 activations per token); llama.cpp, which has no W8A8, runs the file as stored.")
    var w8a8 = false
    @Flag(help: "With --w8a8: the online Hadamard rotation before ffn_down (quantkit perplexity --w8a8-hadamard).")
    var w8a8Hadamard = false
    @Option(help: "With --w8a8: LLM.int8()'s outlier decomposition at this threshold (quantkit perplexity --w8a8-outliers).")
    var w8a8Outliers: Float?
    @Option(help: "Rounds per file, ours and llama.cpp by turns; medians are reported (this machine's speed drifts by up to 2× over minutes).")
    var rounds = 3

    func run() throws {
        // Perplexity.evaluate reads 0 chunks as "the whole file" (hundreds of chunks), which a
        // benchmark run would sit in for many minutes.
        guard chunks > 0, generate > 0, rounds > 0 else { throw ValidationError("--chunks, --generate and --rounds must be at least 1") }
        guard w8a8 || !w8a8Hadamard else { throw ValidationError("--w8a8-hadamard needs --w8a8") }
        guard w8a8 || w8a8Outliers == nil else { throw ValidationError("--w8a8-outliers needs --w8a8") }
        let text = try MappedFile.readText(path: file)
        print("model                         eval t/s (ours, llama.cpp)   generate t/s (ours, llama.cpp)   peak RSS   (medians of \(rounds))")
        for path in models {
            let model = try LlamaModel(path: path)
            model.threads = threads
            if w8a8 { model.enableW8A8(hadamardBeforeFFNDown: w8a8Hadamard, outlierThreshold: w8a8Outliers) }
            let prompt = Array(model.tokenizer.encode(text).prefix(16))
            var ours: [(Double, Double)] = [], theirs: [(Double, Double)] = []
            for _ in 0..<rounds {
                let result = try Perplexity.evaluate(model: model, text: text, context: 512, maxChunks: chunks)
                var sampler = Sampler(temperature: 0)
                let start = Date()
                let generated = try model.generate(prompt: prompt, count: generate, sampler: &sampler)
                ours.append((result.tokensPerSecond, Double(generated.count) / Date().timeIntervalSince(start)))
                if !noLlama, let measured = llamaCpp(model: path) { theirs.append(measured) }
            }
            func median(_ values: [Double]) -> String? {
                values.isEmpty ? nil : String(format: "%.1f", values.sorted()[(values.count - 1) / 2])
            }
            let name = (path as NSString).lastPathComponent.padding(toLength: 30, withPad: " ", startingAt: 0)
            print(name + String(format: "%8@  %8@            %8@  %8@              %@", median(ours.map(\.0))! as NSString,
                                (median(theirs.map(\.0)) ?? "-") as NSString, median(ours.map(\.1))! as NSString,
                                (median(theirs.map(\.1)) ?? "-") as NSString, Measurement.megabytes(Measurement.peakRSS) as NSString))
        }
    }

    private func llamaCpp(model: String) -> (Double, Double)? {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../scripts/bench/llama_eval_bench.py").standardized.path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, model, file, "\(chunks)", "\(generate)", "\(threads)"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let json = try? JSONDecoder().decode([String: Double].self, from: data),
              let evaluation = json["eval_tokens_per_second"], let generation = json["generate_tokens_per_second"] else { return nil }
        return (evaluation, generation)
    }
}
