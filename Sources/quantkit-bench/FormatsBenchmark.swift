import ArgumentParser
import Foundation
import QuantFormats

/// Opening a model file must cost header parsing only: this measures it, and how little memory
/// it takes, on real files.
struct FormatsBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "formats",
        abstract: "Time opening (parse + validate) GGUF/safetensors files; report header MB/s and peak RSS."
    )

    @Argument(help: "GGUF or safetensors files (or checkpoint folders).")
    var paths: [String]

    @Option(help: "Runs per file; the best is reported.")
    var repeats = 10

    func run() throws {
        print(row("file", "size", "open (best)", "header", "header MB/s", "peak RSS"))
        for path in paths {
            let isGGUF = path.hasSuffix(".gguf")
            var headerBytes: UInt64 = 0
            var fileBytes: UInt64 = 0
            let seconds = try Measurement.bestTime(repeats: repeats) {
                if isGGUF {
                    let file = try GGUFFile(path: path)
                    headerBytes = file.dataOffset
                    fileBytes = file.fileSize
                } else {
                    let checkpoint = try SafetensorsCheckpoint(path: path)
                    headerBytes = checkpoint.shards.reduce(0) { $0 + $1.header.dataOffset }
                    fileBytes = checkpoint.totalBytes
                }
            }
            print(row((path as NSString).lastPathComponent, Measurement.megabytes(fileBytes), String(format: "%.2f ms", seconds * 1e3),
                      Measurement.megabytes(headerBytes), String(format: "%.0f", Double(headerBytes) / 1e6 / seconds),
                      Measurement.megabytes(Measurement.peakRSS)))
        }
    }

    private func row(_ columns: String...) -> String {
        let widths = [36, 10, 13, 10, 12, 10]
        return zip(columns, widths).map { $0.count >= $1 ? $0 + " " : $0 + String(repeating: " ", count: $1 - $0.count) }.joined()
    }
}
