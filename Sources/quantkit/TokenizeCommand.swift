import ArgumentParser
import Foundation
import Inference
import QuantFormats

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Tokenize text with a GGUF model's tokenizer (as llama-tokenize does)."
    )

    @Argument(help: "A GGUF model file.") var model: String
    @Option(name: .shortAndLong, help: "Read the text from a file.") var file: String?
    @Option(name: .shortAndLong, help: "The text (when no file is given).") var prompt: String?
    @Flag(help: "Do not add BOS even if the vocabulary asks for it.") var noSpecial = false
    @Flag(help: "Print {\"count\": N, \"ids\": [...]} as JSON.") var json = false

    func run() throws {
        try reportingErrors {
            let gguf = try GGUFFile(path: model)
            let tokenizer = try Tokenizer(metadata: gguf.metadata)
            let text: String
            if let file {
                text = try MappedFile.readText(path: file)
            } else if let prompt {
                text = prompt
            } else {
                throw ValidationError("give the text with -p or -f")
            }
            let ids = tokenizer.encode(text, addSpecial: !noSpecial)
            if json {
                print("{\"count\": \(ids.count), \"ids\": [" + ids.map(String.init).joined(separator: ",") + "]}")
            } else {
                for id in ids { print("\(id)\t\(tokenizer.tokenText(id) ?? "")") }
            }
        }
    }
}
