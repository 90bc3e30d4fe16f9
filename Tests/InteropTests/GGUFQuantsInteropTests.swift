import Foundation
import QuantCore
import QuantFormats
import Testing
import TestScratch

/// Our codecs against gguf-py's own numpy quantizers and dequantizers (the other oracle besides
/// the libggml golden file), on random data with a wide dynamic range.
@Suite(TestData.needs(.python(["gguf", "safetensors", "numpy"])), .tags(.interop))
struct GGUFQuantsInteropTests {
    static let types: [GGMLType] = [.F16, .BF16, .Q8_0, .Q4_0, .Q4_1, .Q5_0, .Q5_1, .Q2_K, .Q3_K, .Q4_K, .Q5_K, .Q6_K, .IQ4_NL, .IQ4_XS]

    @Test func matchesGGUFPy() throws {
        let rows = 24, cols = 512
        var state: UInt64 = 12345
        let input: [Float] = (0..<rows * cols).map { i in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let u = Float(state >> 40) / Float(1 << 24) - 0.5
            return u * Float(1 << (i / cols % 8)) * (i % 97 == 0 ? 20 : 1)  // rows of different scale, some outliers
        }
        var descriptors = [SafetensorsTensorDescriptor(name: "input", dtype: .F32, shape: [UInt64(rows), UInt64(cols)])]
        var contents: [[UInt8]] = [input.withUnsafeBytes { Array($0) }]
        var ours: [GGMLType: [UInt8]] = [:]
        for type in Self.types {
            let bytes = try TensorCodec(type: type).quantize(input, rowLength: cols)
            ours[type] = bytes
            descriptors.append(SafetensorsTensorDescriptor(name: "\(type.name).ours", dtype: .U8, shape: [UInt64(rows), UInt64(bytes.count / rows)]))
            contents.append(bytes)
        }
        let folder = try temporaryDirectory()
        try SafetensorsWriter(tensors: descriptors).write(to: folder + "/in.safetensors", tensorData: contents)
        try PythonOracle.run([PythonOracle.scripts + "/gguf_quants.py", folder + "/in.safetensors", folder + "/out.safetensors"])
        let result = try SafetensorsFile(path: folder + "/out.safetensors")

        var quantizedByGGUFPy = 0
        for type in Self.types {
            let decoded = try TensorCodec(type: type).dequantize(ours[type]!, rowLength: cols)
            let theirs = try result.data(named: "\(type.name).dequant")
            let theirFloats = (0..<theirs.count / 4).map { theirs.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) }
            let differing = zip(decoded, theirFloats).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(type): gguf-py dequantizes \(differing) values differently")
            if let info = result.tensor(named: "\(type.name).gguf") {
                let bytes = Array(result.data(for: info))
                let differingBytes = zip(bytes, ours[type]!).filter { $0 != $1 }.count
                #expect(differingBytes == 0 && bytes.count == ours[type]!.count, "\(type): \(differingBytes) bytes differ from gguf-py's quantizer")
                quantizedByGGUFPy += 1
            }
        }
        #expect(quantizedByGGUFPy >= 7, "gguf-py quantized only \(quantizedByGGUFPy) types")
    }
}
