import Foundation
@testable import QuantCore
import QuantFormats
import Testing
import TestScratch

/// llama.cpp's quantization test vector (tests/test-quantize-fns.cpp): 0.1 + 2·cos(i + offset).
func cosineVector(_ count: Int, offset: Float = 0) -> [Float] {
    (0..<count).map { 0.1 + 2 * cos(Float($0) + offset) }
}

/// Deterministic pseudo-random normal values (Box–Muller over a 64-bit LCG).
func gaussianVector(_ count: Int, seed: UInt64) -> [Float] {
    var state = seed &* 6364136223846793005 &+ 1442695040888963407
    func uniform() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return (Double(state >> 11) + 0.5) / Double(1 << 53)
    }
    return (0..<count).map { _ in Float((-2 * Foundation.log(uniform())).squareRoot() * cos(2 * .pi * uniform())) }
}

@Suite(.tags(.unit)) struct TensorCodecTests {
    /// Relative RMSE on the cosine vector, measured, with ~10 % headroom: a regression that makes
    /// a codec noticeably worse fails here even if llama.cpp's coarser bound still passes.
    static let relativeRMSEBound: [GGMLType: Double] = [
        .Q8_0: 0.0037, .Q4_0: 0.056, .Q4_1: 0.057, .Q5_0: 0.030, .Q5_1: 0.028, .Q2_K: 0.232, .Q3_K: 0.125,
        .Q4_K: 0.049, .Q5_K: 0.027, .Q6_K: 0.013, .IQ4_NL: 0.062, .IQ4_XS: 0.063,
    ]
    static let quantizedTypes: [GGMLType] = [.Q8_0, .Q4_0, .Q4_1, .Q5_0, .Q5_1, .Q2_K, .Q3_K, .Q4_K, .Q5_K, .Q6_K, .IQ4_NL, .IQ4_XS]

    @Test func everyCodecMatchesTheTraitTable() {
        for (type, codec) in CodecRegistry.codecs {
            let fieldBytes = codec.fields.reduce(0) { $0 + $1.count }
            #expect(fieldBytes == type.traits!.bytesPerBlock || codec.fields.count == 1, "\(type) fields sum to \(fieldBytes)")
            var offset = 0
            for field in codec.fields {
                #expect(field.offset == offset, "\(type).\(field.name) offset")
                offset += field.count
            }
        }
    }

    @Test func rowsNotWholeBlocksAreTypedErrors() throws {
        let codec = try TensorCodec(type: .Q4_K)
        #expect(throws: CodecError.rowNotBlockAligned(tensor: "blk.0.ffn_down.weight", rowLength: 1536 + 32, blockSize: 256, type: "Q4_K")) {
            _ = try codec.quantize([Float](repeating: 1, count: 1568), rowLength: 1568, tensor: "blk.0.ffn_down.weight")
        }
        #expect(throws: CodecError.importanceLengthMismatch(tensor: "t", rowLength: 256, found: 3)) {
            _ = try codec.quantize([Float](repeating: 1, count: 512), rowLength: 256, importance: [1, 2, 3], tensor: "t")
        }
        #expect(throws: CodecError.unsupportedType(tensor: "t", type: "IQ2_XXS")) { _ = try TensorCodec(type: GGMLType(rawValue: 16), tensor: "t") }
        let message = CodecError.rowNotBlockAligned(tensor: "w", rowLength: 100, blockSize: 32, type: "Q4_0").description
        #expect(message == "tensor 'w': row length 100 is not a multiple of Q4_0's block size 32")
    }

    @Test(arguments: quantizedTypes)
    func threadCountDoesNotChangeBytes(_ type: GGMLType) throws {
        let rowLength = 512, values = gaussianVector(rowLength * 9, seed: 7)
        let importance = gaussianVector(rowLength, seed: 8).map { $0 * $0 + 0.01 }
        let one = try TensorCodec(type: type, threads: 1), two = try TensorCodec(type: type, threads: 2)
        #expect(try one.quantize(values, rowLength: rowLength) == two.quantize(values, rowLength: rowLength))
        #expect(try one.quantize(values, rowLength: rowLength, importance: importance)
            == two.quantize(values, rowLength: rowLength, importance: importance))
    }

    @Test(arguments: quantizedTypes)
    func allZeroRowRoundTripsToZeros(_ type: GGMLType) throws {
        let codec = try TensorCodec(type: type)
        for importance in [nil, [Float](repeating: 1, count: 256)] {
            let bytes = try codec.quantize([Float](repeating: 0, count: 256), rowLength: 256, importance: importance)
            let decoded = try codec.dequantize(bytes, rowLength: 256)
            #expect(decoded.allSatisfy { $0 == 0 }, "\(type): zero row decodes to \(decoded.prefix(4))")
        }
    }

    /// Round-trip bounds as llama.cpp's test-quantize-fns checks them: √(Σ(x − x̂)²)/n on its
    /// cosine vector, 0.002 for 4–8 bit types, 0.004 for 3-bit, 0.0075 for 2-bit.
    @Test(arguments: quantizedTypes)
    func roundTripErrorOnCosineVector(_ type: GGMLType) throws {
        let values = cosineVector(32 * 128)
        let codec = try TensorCodec(type: type)
        let decoded = try codec.dequantize(try codec.quantize(values, rowLength: values.count), rowLength: values.count)
        let totalError = zip(values, decoded).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot() / Double(values.count)
        let bound = type == .Q2_K ? 0.0075 : type == .Q3_K ? 0.0040 : 0.002
        #expect(totalError < bound, "\(type): \(totalError) ≥ \(bound)")
        let stats = ErrorStatistics(reference: values, approximation: decoded)
        #expect(stats.relativeRMSE < Self.relativeRMSEBound[type]!, "\(type): relative RMSE \(stats.relativeRMSE)")
    }

    @Test func floatCodecsRoundTrip() throws {
        let values: [Float] = [0, -0.0, 1, -2.5, 65504, 1e-8, .infinity, 3.14159265]
        #expect(try TensorCodec(type: .F32).dequantize(TensorCodec(type: .F32).quantize(values, rowLength: 8), rowLength: 8) == values)
        let half = try TensorCodec(type: .F16).dequantize(TensorCodec(type: .F16).quantize(values, rowLength: 8), rowLength: 8)
        #expect(half == values.map { Float(Float16($0)) })
        let bf16 = try TensorCodec(type: .BF16).quantize([1.00390625, 1.01171875, .nan], rowLength: 3)
        // Round to nearest even: 1.00390625 is a tie that goes down to 1.0 (0x3F80); 1.01171875 goes up.
        #expect(bf16[0...1] == [0x80, 0x3F] && bf16[2...3] == [0x82, 0x3F])
        #expect(floatFromBFloat16(UInt16(bf16[4]) | UInt16(bf16[5]) << 8).isNaN)
    }
}

@Suite(.tags(.unit)) struct ErrorStatisticsTests {
    @Test func knownValues() {
        let stats = ErrorStatistics(reference: [1, 2, 3, 4], approximation: [1, 2, 3, 5])
        #expect(stats.rmse == 0.5)
        #expect(abs(stats.relativeRMSE - (1.0 / 30).squareRoot()) < 1e-12)
        #expect(abs(stats.sqnr - 10 * log10(30.0)) < 1e-9)
        #expect(stats.maxAbsError == 1)
        #expect(ErrorStatistics(reference: [1, 2], approximation: [1, 2]).sqnr == .infinity)
    }

    @Test func mergeEqualsWhole() {
        let a = gaussianVector(100, seed: 1), b = a.map { $0 + 0.01 * sin($0 * 10) }
        var merged = ErrorStatistics()
        for row in ErrorStatistics.perRow(reference: a, approximation: b, rowLength: 30) { merged.merge(row) }
        let whole = ErrorStatistics(reference: a, approximation: b)
        #expect(merged.count == 100 && abs(merged.rmse - whole.rmse) < 1e-12 && merged.maxAbsError == whole.maxAbsError)
    }
}

@Suite(.tags(.unit)) struct HalfConversionTests {
    @Test func widenHalfMatchesFloat16ForAllBitPatterns() {
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let ours = Float(bitPattern: F16Codec.widenHalf(bits))
            if expected.isNaN {
                #expect(ours.isNaN, "\(bits)")
            } else {
                #expect(ours.bitPattern == expected.bitPattern, "\(bits): \(ours) vs \(expected)")
            }
            #expect(floatFromHalf(bits).bitPattern == expected.bitPattern || expected.isNaN)
        }
    }
}
