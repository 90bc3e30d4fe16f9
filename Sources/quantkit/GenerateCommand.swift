import ArgumentParser
import Foundation
import Inference

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from a prompt, streaming tokens as they come; tokens/s at the end (stderr)."
    )

    @Argument(help: "A GGUF model file (llama architecture).") var model: String
    @Option(name: .shortAndLong, help: "The prompt.") var prompt: String
    @Option(name: .short, help: "Tokens to generate.") var n = 64
    @Option(help: "Sampling temperature (0 = greedy).") var temp: Float = 0
    @Option(help: "Random seed for sampling.") var seed: UInt64 = 0
    @Option(help: "Keep the k most likely tokens (0 = all).") var topK = 40
    @Option(help: "Keep the smallest set of tokens with this total probability.") var topP: Float = 0.95
    @OptionGroup var threads: ThreadOptions
    @Flag(help: "Print {\"prompt_tokens\", \"tokens\", \"text\", \"tokens_per_second\"} as JSON instead of streaming.") var json = false

    func run() throws {
        try reportingErrors {
            let llama = try LlamaModel(path: model)
            llama.threads = threads.count
            let promptTokens = llama.tokenizer.encode(prompt, addSpecial: true)
            var sampler = Sampler(temperature: temp, topK: topK, topP: topP, seed: seed)
            if !json { FileHandle.standardOutput.write(Data(prompt.utf8)) }
            var pending: [Int32] = []
            let start = Date()
            let tokens = try llama.generate(prompt: promptTokens, count: n, sampler: &sampler) { token in
                guard !json else { return true }
                // Multi-byte characters can span tokens: print once the bytes decode cleanly.
                pending.append(token)
                let text = llama.tokenizer.decode(pending)
                if !text.unicodeScalars.contains("\u{FFFD}") {
                    FileHandle.standardOutput.write(Data(text.utf8))
                    pending.removeAll()
                }
                return true
            }
            let seconds = Date().timeIntervalSince(start)
            let rate = Double(tokens.count) / max(seconds, 1e-9)
            if json {
                let ids = tokens.map(String.init).joined(separator: ",")
                let text = String(decoding: try JSONEncoder().encode(llama.tokenizer.decode(tokens)), as: UTF8.self)
                print("{\"prompt_tokens\": \(promptTokens.count), \"tokens\": [\(ids)], \"text\": \(text), \"tokens_per_second\": \(rate)}")
            } else {
                if !pending.isEmpty { FileHandle.standardOutput.write(Data(llama.tokenizer.decode(pending).utf8)) }
                // Unbuffered like the streamed tokens, so the newline lands before the stats.
                FileHandle.standardOutput.write(Data("\n".utf8))
                FileHandle.standardError.write(Data(String(format: "%d tokens in %.2f s, %.1f tokens/s (prompt %d tokens)\n",
                                                           tokens.count, seconds, rate, promptTokens.count).utf8))
            }
        }
    }
}
