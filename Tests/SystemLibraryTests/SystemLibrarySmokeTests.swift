import CBLAS
import CZstd
import Testing
import TestScratch

/// One smoke test per system library: it links and computes something checkable.
@Suite(.tags(.unit)) struct SystemLibrarySmokeTests {
    @Test func openBLASMultipliesMatrices() {
        // [1 2; 3 4] × [5 6; 7 8] = [19 22; 43 50]
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
        var c = [Float](repeating: 0, count: 4)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1, a, 2, b, 2, 0, &c, 2)
        #expect(c == [19, 22, 43, 50])
    }

    @Test func zstdRoundTrips() {
        let input = [UInt8]((0..<10_000).map { UInt8($0 % 7) })
        var compressed = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let size = ZSTD_compress(&compressed, compressed.count, input, input.count, 3)
        #expect(ZSTD_isError(size) == 0)
        #expect(size < input.count / 10)
        var output = [UInt8](repeating: 0, count: input.count)
        let restored = ZSTD_decompress(&output, output.count, compressed, size)
        #expect(restored == input.count)
        #expect(output == input)
    }
}
