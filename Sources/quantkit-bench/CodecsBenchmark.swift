import ArgumentParser
import Foundation
import QuantCore
import QuantFormats

/// Quantize and dequantize throughput per type (MB/s of F32), reference and fast paths, on 1 and 2
/// threads, with llama.cpp's libggml measured on the same data in the same run when the
/// llama-cpp-python package is installed.
struct CodecsBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codecs",
        abstract: "Codec throughput (MB/s of F32 input) for QuantKit's reference and fast paths and for llama.cpp's libggml."
    )

    @Option(help: "Comma-separated ggml types.")
    var types = "Q8_0,Q4_0,Q4_1,Q5_0,Q5_1,Q2_K,Q3_K,Q4_K,Q5_K,Q6_K,IQ4_NL,IQ4_XS,NF4"
    @Option(help: "Rows of the test matrix.") var rows = 256
    @Option(help: "Columns of the test matrix (a multiple of 256).") var cols = 4096
    @Option(help: "Comma-separated thread counts.") var threads = "1,2"
    @Option(help: "Runs per measurement; the best is reported.") var repeats = 3
    @Flag(help: "Skip the llama.cpp comparison.") var noLlama = false
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() throws {
        let typeList = try types.split(separator: ",").map { name -> GGMLType in
            guard let type = GGMLType(name: String(name)), CodecRegistry.codec(for: type) != nil else {
                throw ValidationError("unknown or unsupported type \(name)")
            }
            return type
        }
        let threadCounts = threads.split(separator: ",").compactMap { Int($0) }
        let input = BenchData.gaussian(rows * cols, seed: 42)
        // Importance-weighted quantization (imatrix / --stats), the calibrated path.
        let importance = BenchData.gaussian(cols, seed: 7).map { $0 * $0 + 0.01 }
        let megabytes = Double(input.count * 4) / 1e6
        var report: [String: [String: [String: Double]]] = [:]

        for type in typeList {
            var entry: [String: [String: Double]] = [:]
            for path in CodecPath.allCases {
                guard path == .reference || CodecRegistry.hasFastPath(type) else { continue }
                for n in threadCounts {
                    let codec = try TensorCodec(type: type, threads: n, path: path)
                    let rowBytes = try codec.rowBytes(rowLength: cols)
                    var blocks = [UInt8](repeating: 0, count: rows * rowBytes)
                    var output = [Float](repeating: 0, count: input.count)
                    let quantizeTime = try Measurement.bestTime(repeats: repeats) {
                        try input.withUnsafeBufferPointer { x in
                            try blocks.withUnsafeMutableBytes { try codec.quantize(x, rowLength: cols, into: $0) }
                        }
                    }
                    let dequantizeTime = try Measurement.bestTime(repeats: repeats) {
                        try blocks.withUnsafeBytes { raw in
                            try output.withUnsafeMutableBufferPointer { try codec.dequantize(raw, rowLength: cols, into: $0) }
                        }
                    }
                    entry["quantize.\(path)", default: [:]]["\(n)"] = megabytes / quantizeTime
                    if path == .reference {
                        let weightedTime = try Measurement.bestTime(repeats: repeats) {
                            try input.withUnsafeBufferPointer { x in
                                try importance.withUnsafeBufferPointer { w in
                                    try blocks.withUnsafeMutableBytes { try codec.quantize(x, rowLength: cols, importance: w, into: $0) }
                                }
                            }
                        }
                        entry["quantize.weighted", default: [:]]["\(n)"] = megabytes / weightedTime
                    }
                    entry["dequantize.\(path)", default: [:]]["\(n)"] = megabytes / dequantizeTime
                }
            }
            report[type.name] = entry
        }
        // QuantKit's extension types (NF4) have no libggml counterpart.
        if !noLlama, let llama = try LlamaCppCodecBench.run(input: input, rows: rows, cols: cols, types: typeList.filter { !$0.isExtension },
                                                            threads: threadCounts, repeats: repeats) {
            for (name, measurements) in llama { report[name, default: [:]].merge(measurements) { $1 } }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            printTable(report, types: typeList, threads: threadCounts)
        }
        print("matrix \(rows)×\(cols) F32 (\(String(format: "%.1f", megabytes)) MB); peak RSS \(Measurement.megabytes(Measurement.peakRSS))")
    }

    private func printTable(_ report: [String: [String: [String: Double]]], types: [GGMLType], threads: [Int]) {
        let columns = [("quantize.reference", "q ref"), ("quantize.fast", "q fast"), ("quantize.llama.cpp", "q llama"), ("quantize.weighted", "q imp"),
                       ("dequantize.reference", "dq ref"), ("dequantize.fast", "dq fast"), ("dequantize.llama.cpp", "dq llama")]
        print("MB/s of F32 input (best of \(repeats)); q = quantize, dq = dequantize; ref/fast = QuantKit, llama = libggml; imp = with importance")
        var header = "type    "
        for (_, label) in columns { for n in threads { header += "\(label) \(n)t".padding(toLength: 11, withPad: " ", startingAt: 0) } }
        print(header)
        for type in types {
            var line = type.name.padding(toLength: 8, withPad: " ", startingAt: 0)
            for (key, _) in columns {
                for n in threads {
                    let value = report[type.name]?[key]?["\(n)"]
                    line += (value.map { String(format: "%-11.0f", $0) } ?? "-          ")
                }
            }
            print(line)
        }
    }
}

enum BenchData {
    /// Deterministic gaussian values (Box–Muller over a 64-bit LCG).
    static func gaussian(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        return (0..<count).map { _ in Float((-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform())) }
    }
}

/// Runs scripts/bench/ggml_codec_bench.py (llama.cpp's codecs through the llama-cpp-python
/// package's libggml) on the same input; nil when the package is not installed.
enum LlamaCppCodecBench {
    static func run(input: [Float], rows: Int, cols: Int, types: [GGMLType], threads: [Int], repeats: Int) throws -> [String: [String: [String: Double]]]? {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../scripts/bench/ggml_codec_bench.py").standardized.path
        guard FileManager.default.fileExists(atPath: script) else { return nil }
        let inputPath = NSTemporaryDirectory() + "quantkit-bench-\(getpid()).f32"
        try input.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: inputPath)) }
        defer { try? FileManager.default.removeItem(atPath: inputPath) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, inputPath, "\(rows)", "\(cols)", types.map(\.name).joined(separator: ","),
                             threads.map(String.init).joined(separator: ","), "\(repeats)"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let parsed = try? JSONDecoder().decode([String: [String: [String: Double]]].self, from: data) else {
            FileHandle.standardError.write(Data("llama.cpp comparison skipped (python3 with llama-cpp-python not available)\n".utf8))
            return nil
        }
        return parsed.mapValues { entry in Dictionary(uniqueKeysWithValues: entry.map { ("\($0.key).llama.cpp", $0.value) }) }
    }
}
