import ArgumentParser
import Foundation
import QuantFormats

@main
struct QuantKitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantkit",
        abstract: "Post-training quantization toolchain for LLMs (GGUF, safetensors).",
        version: QuantKitVersion.current,
        subcommands: [InspectCommand.self, TokenizeCommand.self, PerplexityCommand.self, GenerateCommand.self, KLDCommand.self, CalibrateCommand.self, ConvertCommand.self, ExportCommand.self, BatchCommand.self, ReportCommand.self]
    )

    static func main() {
        // Past a file-size limit (ulimit -f) the kernel would kill us with SIGXFSZ mid-write;
        // ignoring it turns the failure into EFBIG, a clear error, and the atomic writer removes
        // its partial file.
        signal(SIGXFSZ, SIG_IGN)
        main(nil)
    }
}

/// Runs a command body, turning any error into one clear line on stderr and exit status 1.
/// (ArgumentParser's own usage errors keep their status 64.)
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(1)
    }
}
