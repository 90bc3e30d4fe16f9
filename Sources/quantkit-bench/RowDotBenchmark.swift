import ArgumentParser
import Foundation
import QuantCore
import QuantFormats

/// Single-token matrix-vector throughput per stored type on one thread: the fused decode-and-dot
/// (`RowDotCodec`) and the integer kernel on int8 activations (`Int8RowDotCodec`, the generation
/// path where it exists) against decoding each row to floats and dotting those. Reported as MB/s
/// of stored weights, the number that bounds generation speed; the integer column's error is its
/// max |Δ| relative to max |dot| (it includes the activations' int8 rounding).
struct RowDotBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rowdot",
        abstract: "Matrix-vector MB/s (stored weight bytes) of fused and integer row dots vs decode-then-dot, one thread."
    )

    @Option(help: "Comma-separated ggml types.")
    var types = "F16,BF16,Q8_0,Q4_0,Q4_1,Q5_0,Q5_1,Q2_K,Q3_K,Q4_K,Q5_K,Q6_K,IQ4_NL,IQ4_XS,NF4"
    @Option(help: "Rows of the matrix.") var rows = 1536
    @Option(help: "Columns (a multiple of 256).") var cols = 1536
    @Option(help: "Products per measurement.") var iterations = 50
    @Option(help: "Runs per measurement; the best is reported.") var repeats = 3

    func run() throws {
        let input = BenchData.gaussian(rows * cols, seed: 42)
        let x = BenchData.gaussian(cols, seed: 3)
        print("type      fused MB/s   int8 MB/s   decode+dot MB/s   max |Δ| fused   rel. |Δ| int8")
        for name in types.split(separator: ",") {
            guard let type = GGMLType(name: String(name)), let codec = CodecRegistry.codec(for: type) else {
                throw ValidationError("unknown or unsupported type \(name)")
            }
            let rowBytes = cols / codec.blockSize * codec.blockBytes
            var blocks = [UInt8](repeating: 0, count: rows * rowBytes)
            blocks.withUnsafeMutableBytes { out in
                input.withUnsafeBufferPointer { src in
                    for r in 0..<rows { codec.quantizeRow(src.baseAddress! + r * cols, count: cols, into: out.baseAddress! + r * rowBytes) }
                }
            }
            var fused = [Float](repeating: 0, count: rows), decoded = fused
            var row = [Float](repeating: 0, count: cols)
            let megabytes = Double(blocks.count * iterations) / 1e6
            let fusedTime: Double? = CodecRegistry.rowDot(for: type).map { dot in
                var arranged = [Float](repeating: 0, count: dot.activationLayout.arrangedCount(cols))
                x.withUnsafeBufferPointer { source in
                    arranged.withUnsafeMutableBufferPointer { dot.activationLayout.arrange(source.baseAddress!, count: cols, into: $0.baseAddress!) }
                }
                return Measurement.bestTime(repeats: repeats) {
                    blocks.withUnsafeBytes { w in
                        arranged.withUnsafeBufferPointer { xp in
                            for _ in 0..<iterations {
                                for r in 0..<rows { fused[r] = dot.dot(w.baseAddress! + r * rowBytes, xp.baseAddress!, count: cols) }
                            }
                        }
                    }
                }
            }
            var integer = [Float](repeating: 0, count: rows)
            let integerDot = CodecRegistry.int8RowDot(for: type)
            let activations = QuantizedActivations(count: cols)
            defer { activations.deallocate() }
            x.withUnsafeBufferPointer { activations.quantize($0.baseAddress!) }
            let integerTime: Double? = integerDot.map { dot in
                Measurement.bestTime(repeats: repeats) {
                    blocks.withUnsafeBytes { w in
                        for _ in 0..<iterations {
                            for r in 0..<rows { integer[r] = dot.dot(w.baseAddress! + r * rowBytes, activations, count: cols) }
                        }
                    }
                }
            }
            let fast = codec as? any FastBlockCodec.Type
            let decodedTime = Measurement.bestTime(repeats: repeats) {
                blocks.withUnsafeBytes { w in
                    x.withUnsafeBufferPointer { xp in
                        row.withUnsafeMutableBufferPointer { rp in
                            for _ in 0..<iterations {
                                for r in 0..<rows {
                                    if let fast { fast.fastDequantizeRow(w.baseAddress! + r * rowBytes, count: cols, into: rp.baseAddress!) }
                                    else { codec.dequantizeRow(w.baseAddress! + r * rowBytes, count: cols, into: rp.baseAddress!) }
                                    decoded[r] = dotFloats(rp.baseAddress!, xp.baseAddress!, count: cols)
                                }
                            }
                        }
                    }
                }
            }
            let difference = fusedTime == nil ? 0 : zip(fused, decoded).map { abs($0 - $1) }.max() ?? 0
            let integerError = integerTime == nil ? 0
                : (zip(integer, decoded).map { abs($0 - $1) }.max() ?? 0) / max(Float.leastNormalMagnitude, decoded.map(abs).max() ?? 0)
            func rate(_ time: Double?) -> NSString { (time.map { String(format: "%.0f", megabytes / $0) } ?? "-") as NSString }
            print(name.padding(toLength: 10, withPad: " ", startingAt: 0)
                  + String(format: "%10@   %9@   %15.0f   %13.2e   %13.2e", rate(fusedTime), rate(integerTime), megabytes / decodedTime,
                           difference, integerError))
        }
    }
}
