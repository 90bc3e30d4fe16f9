import Foundation
@testable import QuantCore
import QuantFormats
import Testing
import TestScratch

/// The fused decode-and-dot kernels against the reference decoder and a float64 dot. Sums are
/// reordered in lanes, so the bound is relative to Σ|wⱼxⱼ| (f32 rounding over a few thousand
/// terms), not bit equality.
@Suite(.tags(.unit)) struct RowDotTests {
    static let fusedTypes = CodecRegistry.supportedTypes.filter { CodecRegistry.rowDot(for: $0) != nil }

    @Test func theGenerationTypesHaveFusedDots() {
        for type in [GGMLType.F32, .F16, .BF16, .Q8_0, .Q4_0, .Q4_1, .Q5_0, .Q5_1, .Q3_K, .Q4_K, .Q5_K, .Q6_K] {
            #expect(Self.fusedTypes.contains(type), "\(type) has no fused dot")
        }
    }

    @Test(arguments: fusedTypes)
    func fusedDotMatchesDecodedRows(_ type: GGMLType) throws {
        let codec = try #require(CodecRegistry.rowDot(for: type))
        for rowLength in Set([256, 1536, codec.blockSize * 3]) where rowLength % codec.blockSize == 0 {
            let rows = FastPathTests.testMatrix(rowLength: rowLength)
            let x = gaussianVector(rowLength, seed: 9).map { $0 * 3 }
            let rowBytes = rowLength / codec.blockSize * codec.blockBytes
            var blocks = [UInt8](repeating: 0, count: rows.count / rowLength * rowBytes)
            var arranged = [Float](repeating: 0, count: codec.activationLayout.arrangedCount(rowLength))
            x.withUnsafeBufferPointer { xp in
                arranged.withUnsafeMutableBufferPointer { codec.activationLayout.arrange(xp.baseAddress!, count: rowLength, into: $0.baseAddress!) }
            }
            var decoded = [Float](repeating: 0, count: rowLength)
            for r in 0 ..< rows.count / rowLength {
                let (fused, exact, magnitude) = blocks.withUnsafeMutableBytes { raw -> (Float, Double, Double) in
                    let row = raw.baseAddress! + r * rowBytes
                    rows.withUnsafeBufferPointer { codec.quantizeRow($0.baseAddress! + r * rowLength, count: rowLength, into: row) }
                    decoded.withUnsafeMutableBufferPointer { codec.dequantizeRow(row, count: rowLength, into: $0.baseAddress!) }
                    let fused = arranged.withUnsafeBufferPointer { codec.dot(row, $0.baseAddress!, count: rowLength) }
                    let products = zip(decoded, x).map { Double($0) * Double($1) }
                    return (fused, products.reduce(0, +), products.map(abs).reduce(0, +))
                }
                #expect(abs(Double(fused) - exact) <= 1e-5 * magnitude + 1e-30,
                        "\(type) row \(r) of \(rowLength): fused \(fused), exact \(exact), Σ|wx| \(magnitude)")
            }
        }
    }

    @Test func zeroRowDotsToZero() throws {
        for type in Self.fusedTypes {
            let codec = try #require(CodecRegistry.rowDot(for: type))
            let rowLength = 256
            var blocks = [UInt8](repeating: 0, count: rowLength / codec.blockSize * codec.blockBytes)
            let zeros = [Float](repeating: 0, count: rowLength)
            zeros.withUnsafeBufferPointer { z in blocks.withUnsafeMutableBytes { codec.quantizeRow(z.baseAddress!, count: rowLength, into: $0.baseAddress!) } }
            var arranged = [Float](repeating: 0, count: codec.activationLayout.arrangedCount(rowLength))
            let x = gaussianVector(rowLength, seed: 4)
            x.withUnsafeBufferPointer { xp in
                arranged.withUnsafeMutableBufferPointer { codec.activationLayout.arrange(xp.baseAddress!, count: rowLength, into: $0.baseAddress!) }
            }
            let dot = blocks.withUnsafeBytes { b in arranged.withUnsafeBufferPointer { codec.dot(b.baseAddress!, $0.baseAddress!, count: rowLength) } }
            #expect(dot == 0, "\(type): zero row dots to \(dot)")
        }
    }

    /// The interleaved layout is a permutation of each group of 32 plus its lane sums.
    @Test func interleavedLayoutPermutesGroups() {
        let x = (0..<64).map(Float.init)
        var y = [Float](repeating: -1, count: ActivationLayout.interleaved32.arrangedCount(64))
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { ActivationLayout.interleaved32.arrange(xp.baseAddress!, count: 64, into: $0.baseAddress!) } }
        #expect(y[0 ..< 8] == [0, 4, 8, 12, 16, 20, 24, 28])
        #expect(y[8 ..< 16] == [1, 5, 9, 13, 17, 21, 25, 29])
        #expect(y[32 ..< 40] == [32, 36, 40, 44, 48, 52, 56, 60])
        #expect(Set(y[0 ..< 64]) == Set(x))
        #expect(y[64] == 0 + 1 + 2 + 3 && y[72] == 32 + 33 + 34 + 35)
    }
}
