import Foundation
import QuantCalibration
import QuantFormats
import Testing
import TestScratch

/// Reading llama.cpp importance matrices: both layouts, normalization, provenance, bad files.
@Suite(.tags(.unit))
struct ImportanceMatrixTests {
    static let anchor = TestData.shared("anchors/testbed-imatrix-tinyshakespeare.dat")

    func legacyBytes(entries: [(String, Int32, [Float])], chunks: Int32?, dataset: String?) -> [UInt8] {
        var bytes: [UInt8] = []
        func int(_ v: Int32) { bytes += withUnsafeBytes(of: v.littleEndian, Array.init) }
        int(Int32(entries.count))
        for (name, calls, values) in entries {
            int(Int32(name.utf8.count)); bytes += Array(name.utf8); int(calls); int(Int32(values.count))
            for v in values { bytes += withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) }
        }
        if let chunks { int(chunks) }
        if let dataset { int(Int32(dataset.utf8.count)); bytes += Array(dataset.utf8) }
        return bytes
    }

    func write(_ bytes: [UInt8]) throws -> String {
        let path = try temporaryDirectory() + "/imatrix.dat"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func legacyValuesAreDividedByCalls() throws {
        let path = try write(legacyBytes(entries: [("blk.0.ffn_up.weight", 4, [4, 8, 2]), ("blk.0.attn_q.weight", 0, [3])],
                                         chunks: 7, dataset: "corpus.txt"))
        let matrix = try ImportanceMatrix(path: path)
        #expect(matrix.entries["blk.0.ffn_up.weight"] == [1, 2, 0.5])
        #expect(matrix.entries["blk.0.attn_q.weight"] == [3])     // ncall 0: kept as stored
        #expect(matrix.chunkCount == 7)
        #expect(matrix.datasets == ["corpus.txt"])
        #expect(matrix.provenance.map(\.key) == ["quantize.imatrix.file", "quantize.imatrix.dataset",
                                                 "quantize.imatrix.entries_count", "quantize.imatrix.chunks_count"])
        // The trailer is optional.
        let bare = try ImportanceMatrix(path: try write(legacyBytes(entries: [("w", 1, [1])], chunks: nil, dataset: nil)))
        #expect(bare.chunkCount == 0 && bare.datasets.isEmpty)
    }

    @Test func ggufImatrixIsSumsOverCounts() throws {
        var metadata = GGUFMetadata()
        metadata["general.type"] = .string("imatrix")
        metadata["imatrix.datasets"] = .array(.string(["wiki.train"]))
        metadata["imatrix.chunk_count"] = .uint32(12)
        metadata["imatrix.chunk_size"] = .uint32(512)
        let tensors = [GGUFTensorDescriptor(name: "blk.0.ffn_down.weight.in_sum2", shape: [4, 2], type: .F32),
                       GGUFTensorDescriptor(name: "blk.0.ffn_down.weight.counts", shape: [1, 2], type: .F32)]
        let path = try temporaryDirectory() + "/imatrix.gguf"
        let data: [[Float]] = [[2, 4, 6, 8, 1, 1, 1, 1], [2, 0]]   // expert 1 saw no tokens → 1s
        try GGUFWriter(metadata: metadata, tensors: tensors).write(to: path, tensorData: data.map { $0.withUnsafeBytes(Array.init) })
        let matrix = try ImportanceMatrix(path: path)
        #expect(matrix.entries["blk.0.ffn_down.weight"] == [1, 2, 3, 4, 1, 1, 1, 1])
        #expect(matrix.chunkCount == 12 && matrix.datasets == ["wiki.train"])
    }

    @Test func malformedFilesAreFormatErrors() throws {
        let good = legacyBytes(entries: [("blk.0.ffn_up.weight", 2, [1, 2, 3])], chunks: 1, dataset: "x")
        for cut in [0, 3, 6, 20, 30] {
            #expect(throws: FormatError.self) { try ImportanceMatrix(path: try write(Array(good.prefix(cut)))) }
        }
        #expect(throws: FormatError.self) {
            try ImportanceMatrix(path: try write(legacyBytes(entries: [("w", 1, [.nan])], chunks: nil, dataset: nil)))
        }
    }

    /// llama-imatrix's file for the test bed: 210 entries (one per 2-D weight), 10 chunks.
    @Test(TestData.needs(.shared("anchors/testbed-imatrix-tinyshakespeare.dat"))) func readsLlamaImatrixOutput() throws {
        let matrix = try ImportanceMatrix(path: Self.anchor)
        #expect(matrix.entries.count == 210)
        #expect(matrix.chunkCount == 10)
        #expect(matrix.entries["blk.0.ffn_down.weight"]?.count == 1536)
        #expect(matrix.entries["blk.0.attn_q.weight"]?.count == 576)
        #expect(matrix.entries.values.allSatisfy { $0.allSatisfy { $0 >= 0 } })
    }
}
