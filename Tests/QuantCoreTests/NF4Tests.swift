import Foundation
@testable import QuantCore
import QuantFormats
import Testing
import TestScratch

/// QuantKit's NF4 GGUF extension: the plain codec is bitsandbytes' NF4 at blocksize 64 byte for
/// byte, the calibrated one never loses to it on the weighted error, and NF4_DQ is bitsandbytes'
/// double quantization.
@Suite(.tags(.unit))
struct NF4Tests {
    /// Gaussian rows with one outlier column (×6), like real weights.
    static func gaussianRows(_ rows: Int, _ columns: Int, seed: UInt64) -> [Float] {
        gaussianVector(rows * columns, seed: seed).enumerated().map { i, g in (i % columns == 5 ? 6 : 1) * g * 0.02 }
    }

    @Test func traitsAndRegistry() {
        #expect(GGMLType(name: "nf4") == .NF4 && GGMLType(name: "NF4_DQ") == .NF4_DQ)
        #expect(GGMLType.NF4.traits?.bitsPerWeight == 4.5)
        #expect(GGMLType.NF4_DQ.traits?.bytesPerBlock == 33 && GGMLType.NF4.isExtension && !GGMLType.Q4_0.isExtension)
        #expect(!GGMLType.allLive.contains(.NF4))
        #expect(CodecRegistry.codec(for: .NF4) != nil && CodecRegistry.codec(for: .NF4_DQ) == nil)
        #expect(GGMLType.doubleQuantCompanionLength(elements: 1536 * 576) == 1 + 54)
    }

    @Test func plainCodecIsBitsandbytesNF4AtBlocksize64() throws {
        let columns = 576, rows = 12
        var x = Self.gaussianRows(rows, columns, seed: 7)
        x.replaceSubrange(0..<64, with: repeatElement(0, count: 64))   // an all-zero block
        let ours = try TensorCodec(type: .NF4).quantize(x, rowLength: columns)
        let bnb = try x.withUnsafeBufferPointer { try BnB4Bit.quantize($0, type: .nf4, blocksize: 64) }
        for block in 0..<x.count / 64 {
            let b = ours[(block * 36)..<(block * 36 + 36)]
            let absmax = b.withUnsafeBytes { $0.loadUnaligned(as: Float.self) }
            #expect(absmax.bitPattern == bnb.absmax[block].bitPattern, "block \(block) absmax")
            #expect(Array(b.dropFirst(4)) == Array(bnb.packed[(block * 32)..<(block * 32 + 32)]), "block \(block) codes")
        }
        let decoded = try TensorCodec(type: .NF4).dequantize(ours, rowLength: columns)
        var reference = [Float](repeating: 0, count: x.count)
        try reference.withUnsafeMutableBufferPointer { try BnB4Bit.dequantize(bnb, into: $0) }
        #expect(decoded.map(\.bitPattern) == reference.map(\.bitPattern))
        #expect(decoded[0..<64].allSatisfy { $0 == 0 })
    }

    /// Σ importanceⱼ(xⱼ − x̂ⱼ)², the search's objective.
    static func weightedError(_ x: [Float], _ decoded: [Float], importance: [Float], columns: Int) -> Double {
        var total = 0.0
        for (k, (a, b)) in zip(x, decoded).enumerated() { total += Double(importance[k % columns]) * Double(a - b) * Double(a - b) }
        return total
    }

    @Test func calibratedSearchNeverLosesToAbsmaxAndUsuallyWins() throws {
        let columns = 576, rows = 32
        let x = Self.gaussianRows(rows, columns, seed: 11)
        let importance = gaussianVector(columns, seed: 3).map { $0 * $0 + 0.01 }
        let codec = try TensorCodec(type: .NF4)
        let plain = try codec.dequantize(try codec.quantize(x, rowLength: columns), rowLength: columns)
        let calibrated = try codec.dequantize(try codec.quantize(x, rowLength: columns, importance: importance), rowLength: columns)
        #expect(calibrated.allSatisfy { $0.isFinite })
        // Block by block: the search starts from absmax, so it can only improve.
        for row in 0..<rows {
            for block in 0..<columns / 64 {
                let range = (row * columns + block * 64)..<(row * columns + block * 64 + 64)
                let xs = Array(x[range])
                let columnsImportance = Array(importance[(block * 64)..<(block * 64 + 64)])
                func error(_ decoded: [Float]) -> Float {
                    zip(zip(xs, decoded[range]), columnsImportance).reduce(0) { sum, item in
                        let ((v, d), w) = item
                        return sum + w * (v - d) * (v - d)
                    }
                }
                #expect(error(calibrated) <= error(plain) * (1 + 1e-5), "row \(row) block \(block)")
            }
        }
        let before = Self.weightedError(x, plain, importance: importance, columns: columns)
        let after = Self.weightedError(x, calibrated, importance: importance, columns: columns)
        #expect(after < 0.9 * before, "weighted error \(before) → \(after)")
    }

    @Test func doubleQuantizationIsBitsandbytesCompressStatistics() throws {
        let columns = 576, rows = 40    // 360 blocks: two nested blocks, the second partial
        let x = Self.gaussianRows(rows, columns, seed: 5)
        let (blocks, companion) = try x.withUnsafeBufferPointer { try NF4DoubleQuant.encode($0, rowLength: columns) }
        let bnb = try x.withUnsafeBufferPointer { try BnB4Bit.quantize($0, type: .nf4, blocksize: 64) }
        let statistics = BnBDoubleQuant.compress(bnb.absmax)
        #expect(companion.map(\.bitPattern) == ([statistics.offset] + statistics.nestedAbsmax).map(\.bitPattern))
        #expect(blocks.count == 360 * 33)
        for block in 0..<360 {
            #expect(blocks[block * 33] == statistics.indices[block], "block \(block) absmax index")
            #expect(Array(blocks[(block * 33 + 1)..<(block * 33 + 33)]) == Array(bnb.packed[(block * 32)..<(block * 32 + 32)]))
        }
        // Decoding through the expansion equals bitsandbytes' dequantization with restored absmax.
        let expanded = try blocks.withUnsafeBytes { raw in try companion.withUnsafeBufferPointer { try NF4DoubleQuant.expand(raw, companion: $0) } }
        let decoded = try TensorCodec(type: .NF4).dequantize(expanded, rowLength: columns)
        var reference = [Float](repeating: 0, count: x.count)
        try reference.withUnsafeMutableBufferPointer { try BnB4Bit.dequantize(bnb, absmax: BnBDoubleQuant.decompress(statistics), into: $0) }
        #expect(decoded.map(\.bitPattern) == reference.map(\.bitPattern))
        // A companion of the wrong length is refused, naming it.
        #expect(throws: CodecError.dataSizeMismatch(tensor: "w.nf4_dq", expected: 3, found: 2)) {
            try blocks.withUnsafeBytes { raw in try [Float](companion.prefix(2)).withUnsafeBufferPointer { try NF4DoubleQuant.expand(raw, companion: $0, tensor: "w") } }
        }
    }

    @Test func calibratedDoubleQuantizationRoundsAgainstTheRestoredScales() throws {
        let columns = 576, rows = 16
        let x = Self.gaussianRows(rows, columns, seed: 9)
        let importance = [Float](repeating: 1, count: columns)
        func decode(_ encoded: (blocks: [UInt8], companion: [Float])) throws -> [Float] {
            let expanded = try encoded.blocks.withUnsafeBytes { raw in try encoded.companion.withUnsafeBufferPointer { try NF4DoubleQuant.expand(raw, companion: $0) } }
            return try TensorCodec(type: .NF4).dequantize(expanded, rowLength: columns)
        }
        let plain = try decode(try x.withUnsafeBufferPointer { try NF4DoubleQuant.encode($0, rowLength: columns) })
        let calibrated = try decode(try x.withUnsafeBufferPointer { v in
            try importance.withUnsafeBufferPointer { try NF4DoubleQuant.encode(v, rowLength: columns, importance: $0) }
        })
        let before = Self.weightedError(x, plain, importance: importance, columns: columns)
        let after = Self.weightedError(x, calibrated, importance: importance, columns: columns)
        #expect(after < 0.9 * before, "weighted error \(before) → \(after)")
    }
}
