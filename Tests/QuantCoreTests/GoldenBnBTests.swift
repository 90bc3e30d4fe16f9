import Foundation
@testable import QuantCore
import QuantFormats
import Testing
import TestScratch

/// Bit-exactness against bitsandbytes 0.50.2 itself (`golden/bnb-golden.safetensors`).
@Suite(TestData.needs(.shared("golden"), .shared("stories260K")), .tags(.golden))
struct GoldenBnBTests {
    static let file = (try? SafetensorsFile(path: TestData.shared("golden/bnb-golden.safetensors")))
    static let cases = ["gauss", "edge", "attn_q", "ffn_down", "odd"]
    static let blocksizes = [32, 64, 128, 256]

    static func bytes(_ file: SafetensorsFile, _ name: String) throws -> [UInt8] { Array(try file.data(named: name)) }

    @Test func codesEqualBitsandbytes() throws {
        let golden = try #require(Self.file)
        for type in BnB4BitType.allCases {
            let expected = try TestData.floats(golden, "code.\(type.rawValue)")
            #expect(type.code.map(\.bitPattern) == expected.map(\.bitPattern), "\(type)")
        }
        let nested = try TestData.floats(golden, "nf4.gauss.bs64.dq.nested_code")
        #expect(DynamicMap.signed.map(\.bitPattern) == nested.map(\.bitPattern))
    }

    @Test(arguments: BnB4BitType.allCases)
    func quantizeAndDequantizeMatch(_ type: BnB4BitType) throws {
        let golden = try #require(Self.file)
        for name in Self.cases {
            let input = try TestData.floats(golden, "input.\(name)")
            for blocksize in Self.blocksizes {
                let prefix = "\(type.rawValue).\(name).bs\(blocksize)"
                let ours = try input.withUnsafeBufferPointer { try BnB4Bit.quantize($0, type: type, blocksize: blocksize) }
                let packed = try Self.bytes(golden, "\(prefix).packed")
                let differing = zip(ours.packed, packed).filter { $0 != $1 }.count
                #expect(differing == 0 && ours.packed.count == packed.count, "\(prefix): \(differing) packed bytes differ")
                let absmax = try TestData.floats(golden, "\(prefix).absmax")
                #expect(ours.absmax.map(\.bitPattern) == absmax.map(\.bitPattern), "\(prefix) absmax")

                // bitsandbytes' CPU dequantization (the golden) indexes blocks per row; see
                // `BnB4Bit.dequantize(cpuKernelRowLength:)`.
                let rowLength = Int(try #require(golden.tensor(named: "input.\(name)")).shape.last!)
                var decoded = [Float](repeating: .nan, count: input.count)
                try decoded.withUnsafeMutableBufferPointer { try BnB4Bit.dequantize(ours, cpuKernelRowLength: rowLength, into: $0) }
                let expected = try TestData.floats(golden, "\(prefix).dequant")
                let wrong = zip(decoded, expected).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(wrong == 0, "\(prefix): \(wrong) dequantized floats differ")
                if rowLength % blocksize == 0 && input.count > rowLength {
                    // Where the kernel's indexing is the flat one, the default path equals it too.
                    var flat = [Float](repeating: .nan, count: input.count)
                    try flat.withUnsafeMutableBufferPointer { try BnB4Bit.dequantize(ours, into: $0) }
                    #expect(flat.map(\.bitPattern) == expected.map(\.bitPattern), "\(prefix) flat dequant")
                }
            }
        }
    }
}

/// Double quantization (`compress_statistics=True`) against bitsandbytes' golden statistics.
@Suite(TestData.needs(.shared("golden"), .shared("stories260K")), .tags(.golden))
struct GoldenBnBDoubleQuantTests {
    @Test(arguments: BnB4BitType.allCases)
    func statisticsMatch(_ type: BnB4BitType) throws {
        let golden = try #require(GoldenBnBTests.file)
        for name in GoldenBnBTests.cases {
            let input = try TestData.floats(golden, "input.\(name)")
            let rowLength = Int(try #require(golden.tensor(named: "input.\(name)")).shape.last!)
            for blocksize in GoldenBnBTests.blocksizes {
                let prefix = "\(type.rawValue).\(name).bs\(blocksize)"
                let tensor = try input.withUnsafeBufferPointer { try BnB4Bit.quantize($0, type: type, blocksize: blocksize) }
                #expect(tensor.packed == (try GoldenBnBTests.bytes(golden, "\(prefix).dq.packed")), "\(prefix) dq packed")
                let stats = BnBDoubleQuant.compress(tensor.absmax)
                #expect(stats.offset.bitPattern == (try TestData.floats(golden, "\(prefix).dq.offset"))[0].bitPattern, "\(prefix) offset")
                #expect(stats.nestedAbsmax.map(\.bitPattern) == (try TestData.floats(golden, "\(prefix).dq.nested_absmax")).map(\.bitPattern),
                        "\(prefix) nested absmax")
                let expectedIndices = try GoldenBnBTests.bytes(golden, "\(prefix).dq.qabsmax")
                let differing = zip(stats.indices, expectedIndices).filter { $0 != $1 }.count
                #expect(stats.indices == expectedIndices, "\(prefix): \(differing) nested indices differ")
                // End to end: our own statistics decompress to bitsandbytes' dequantized floats.
                let restored = BnBDoubleQuant.decompress(stats)
                var decoded = [Float](repeating: .nan, count: input.count)
                try decoded.withUnsafeMutableBufferPointer {
                    try BnB4Bit.dequantize(tensor, absmax: restored, cpuKernelRowLength: rowLength, into: $0)
                }
                let expected = try TestData.floats(golden, "\(prefix).dq.dequant")
                let wrong = zip(decoded, expected).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(wrong == 0, "\(prefix): \(wrong) double-quantized dequant floats differ")
            }
        }
    }
}
