import Foundation
@testable import QuantCore
import QuantFormats
import Testing
import TestScratch

/// Every fast path must produce the reference's bytes and floats exactly. Inputs mix gaussian
/// rows at several scales, an all-zero row, a constant row, and rows with repeated magnitudes of
/// both signs (the first-wins tie in signed absmax).
@Suite(.tags(.unit)) struct FastPathTests {
    static let fastTypes = CodecRegistry.supportedTypes.filter { CodecRegistry.hasFastPath($0) }

    static func testMatrix(rowLength: Int) -> [Float] {
        var rows: [[Float]] = []
        for (i, scale) in [Float(1), 1e-3, 37, 1e-7].enumerated() {
            rows.append(gaussianVector(rowLength, seed: UInt64(100 + i)).map { $0 * scale })
        }
        rows.append([Float](repeating: 0, count: rowLength))
        rows.append([Float](repeating: -0.75, count: rowLength))
        rows.append((0..<rowLength).map { $0 % 3 == 0 ? 2 : ($0 % 3 == 1 ? -2 : 0.5) })
        rows.append(cosineVector(rowLength))
        return rows.flatMap { $0 }
    }

    @Test func someTypesHaveFastPaths() {
        #expect(Self.fastTypes.count >= 2, "fast paths: \(Self.fastTypes)")
    }

    @Test(arguments: fastTypes)
    func fastEqualsReference(_ type: GGMLType) throws {
        let rowLength = 512
        let values = Self.testMatrix(rowLength: rowLength)
        let directions = try #require(CodecRegistry.codec(for: type) as? any FastBlockCodec.Type).fastDirections
        #expect(!directions.isEmpty, "\(type) conforms to FastBlockCodec without a fast direction")
        let reference = try TensorCodec(type: type, threads: 1, path: .reference)
        let fast = try TensorCodec(type: type, threads: 2, path: .fast)
        let referenceBytes = try reference.quantize(values, rowLength: rowLength)
        if directions.contains(.quantize) {
            let fastBytes = try fast.quantize(values, rowLength: rowLength)
            let differingBlocks = stride(from: 0, to: referenceBytes.count, by: reference.codec.blockBytes).filter {
                referenceBytes[$0 ..< $0 + reference.codec.blockBytes] != fastBytes[$0 ..< $0 + reference.codec.blockBytes]
            }.count
            #expect(differingBlocks == 0, "\(type): \(differingBlocks) blocks differ between fast and reference quantize")
        }
        if directions.contains(.dequantize) {
            let referenceFloats = try reference.dequantize(referenceBytes, rowLength: rowLength)
            let fastFloats = try fast.dequantize(referenceBytes, rowLength: rowLength)
            #expect(referenceFloats.map(\.bitPattern) == fastFloats.map(\.bitPattern), "\(type): dequantize differs")
        }
    }
}
