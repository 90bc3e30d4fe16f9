import ArgumentParser
import Foundation
import QuantFormats

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a model file's metadata, tensors and totals (GGUF file, safetensors file, or checkpoint folder).",
        discussion: "Reads headers only: tensor data is never loaded. --json prints the report documented in docs/CLI.md (schema quantkit.inspect/1)."
    )

    @Argument(help: "A .gguf file, a .safetensors file, a model.safetensors.index.json, or a Hugging Face checkpoint folder.")
    var path: String

    @Flag(help: "Print a machine-readable JSON report.")
    var json = false

    @Flag(help: "Include the per-tensor table (name, type, shape, bytes).")
    var tensors = false

    @Option(help: "Array elements shown before a long metadata array is summarised.")
    var arrayPreview = 8

    func run() throws {
        try reportingErrors {
            let report = try InspectionReport.make(path: path, includeTensors: tensors, arrayPreview: max(0, arrayPreview))
            if json {
                try JSONOutput.print(report)
            } else {
                print(InspectionText.render(report), terminator: "")
            }
        }
    }
}
