import QuantCore
import QuantFormats
import Testing
import TestScratch

/// The activation rounding llama.cpp's CPU kernels apply before a product: which format per
/// weight type, and each format's scale, rounding and block size.
@Suite(.tags(.unit))
struct LlamaCppActivationsTests {
    func rounded(_ values: [Float], _ rounding: LlamaCppActivations) -> [Float] {
        var x = values
        x.withUnsafeMutableBufferPointer { rounding.round($0.baseAddress!, count: $0.count) }
        return x
    }

    @Test func formatFollowsTheWeightTypesVecDotType() {
        for type in [GGMLType.Q4_0, .Q4_1, .Q5_0, .Q5_1, .Q8_0, .IQ4_NL] { #expect(LlamaCppActivations.forWeights(type) == .q8_0, "\(type)") }
        for type in [GGMLType.Q2_K, .Q3_K, .Q4_K, .Q5_K, .Q6_K, .IQ4_XS] { #expect(LlamaCppActivations.forWeights(type) == .q8_K, "\(type)") }
        #expect(LlamaCppActivations.forWeights(.F16) == .f16)
        #expect(LlamaCppActivations.forWeights(.BF16) == .bf16)
        #expect(LlamaCppActivations.forWeights(.F32) == .exact)
        #expect(LlamaCppActivations.forWeights(.NF4) == .exact)  // ours; llama.cpp cannot run it
    }

    /// max 127 makes the multiplier exactly 1: halves round to even, as `_mm256_round_ps` does
    /// (roundf would give 3, 4, −3).
    @Test func q8_0RoundsHalvesToEven() {
        var block = [Float](repeating: 0, count: 32)
        block[0] = 127; block[1] = 2.5; block[2] = 3.5; block[3] = -2.5; block[4] = 0.49
        let out = rounded(block, .q8_0)
        #expect(Array(out[0 ..< 5]) == [127, 2, 4, -2, 0])
    }

    /// The scale the kernels multiply with is the f16 one stored in block_q8_0, not max/127.
    @Test func q8_0UsesTheHalfPrecisionScale() {
        var block = [Float](repeating: 0.25, count: 32)
        block[7] = -1
        let out = rounded(block, .q8_0)
        let d = roundedToHalf(1 / 127)
        #expect(d != 1 / 127)
        #expect(out[7] == -127 * d)
        #expect(out[0] == 32 * d)  // 0.25 · 127 = 31.75 → 32
    }

    /// One scale per 256 values: a small value next to a large one in another 32-block is lost
    /// under q8_K but kept under q8_0; all-zero blocks stay zero.
    @Test func q8_KSharesOneScaleOver256() {
        var x = [Float](repeating: 0, count: 512)
        x[0] = 0.3; x[200] = -127; x[201] = 127; x[202] = 2.5
        let k = rounded(x, .q8_K), legacy = rounded(x, .q8_0)
        #expect(k[0] == 0 && legacy[0] != 0)
        #expect(k[200] == -127 && k[201] == 127 && k[202] == 2)
        #expect(k[256 ..< 512].allSatisfy { $0 == 0 })
    }

    @Test func floatFormatsRoundEachValue() {
        let x: [Float] = [1 + 1.0 / 4096, 1 + 1.0 / 256, -3.14159]
        #expect(rounded(x, .f16) == x.map(roundedToHalf))
        #expect(rounded(x, .f16)[0] == 1)
        #expect(rounded(x, .bf16)[0] == 1 && rounded(x, .bf16)[1] == 1)
        #expect(rounded(x, .exact) == x)
    }
}
