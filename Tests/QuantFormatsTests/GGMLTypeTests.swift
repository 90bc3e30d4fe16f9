import Testing
import TestScratch
@testable import QuantFormats

@Suite(.tags(.unit)) struct GGMLTypeTests {
    @Test func tableIsIndexedById() {
        for (index, row) in GGMLType.traitsTable.enumerated() {
            if let row { #expect(Int(row.id) == index) }
        }
    }

    @Test func knownSizesFromSpecs() {
        let expected: [(GGMLType, Int, Int)] = [
            (.F32, 1, 4), (.F16, 1, 2), (.Q4_0, 32, 18), (.Q4_1, 32, 20), (.Q5_0, 32, 22), (.Q5_1, 32, 24),
            (.Q8_0, 32, 34), (.Q2_K, 256, 84), (.Q3_K, 256, 110), (.Q4_K, 256, 144), (.Q5_K, 256, 176),
            (.Q6_K, 256, 210), (.Q8_K, 256, 292), (.IQ4_NL, 32, 18), (.BF16, 1, 2), (.IQ4_XS, 256, 136),
        ]
        for (type, block, bytes) in expected {
            #expect(type.traits?.blockSize == block, "\(type)")
            #expect(type.traits?.bytesPerBlock == bytes, "\(type)")
        }
    }

    @Test func namesParseCaseInsensitivelyAndSkipRetired() {
        #expect(GGMLType(name: "q4_k") == .Q4_K)
        #expect(GGMLType(name: "BF16") == .BF16)
        #expect(GGMLType(name: "Q4_2") == nil)  // retired
        #expect(GGMLType(name: "Q9_9") == nil)
        #expect(GGMLType(rawValue: 99).traits == nil)
        #expect(GGMLType(rawValue: 4).traits?.isRetired == true)
    }

    @Test func rowBytesRequiresWholeBlocks() {
        #expect(GGMLType.Q4_K.traits?.rowBytes(elements: 512) == 288)
        #expect(GGMLType.Q4_K.traits?.rowBytes(elements: 576) == nil)
        #expect(GGMLType.Q8_0.traits?.rowBytes(elements: 576) == 18 * 34)
    }
}
