import Foundation
import Inference
@testable import QuantCalibration
import QuantFormats
import Testing
import TestScratch

/// The statistics collector and the `.qkstats` file: what is accumulated, that it round-trips,
/// and that a damaged file is a typed error.
@Suite(.tags(.unit))
struct ActivationStatisticsTests {
    static let provenance = ActivationStatistics.Provenance(model: "m.gguf", modelSHA256: String(repeating: "a", count: 64), corpus: "c.txt",
                                                           corpusSHA256: String(repeating: "b", count: 64), tokens: 3, sequences: 1,
                                                           contextLength: 3, activeThreshold: 0.5)

    func observe(_ collector: ActivationCollector, _ site: ActivationSite, layer: Int, _ rows: [[Float]]) {
        let flat = rows.flatMap { $0 }
        flat.withUnsafeBufferPointer { collector.observe(site, layer: layer, values: $0, tokens: rows.count, width: rows[0].count) }
    }

    @Test func collectorAccumulatesMeanSquareMaxAndActivity() {
        let collector = ActivationCollector(activeThreshold: 0.5, sampleRows: 2, sampledSites: [.attentionInput])
        observe(collector, .ffnDownInput, layer: 0, [[1, -2, 0], [3, 0.25, 0]])
        observe(collector, .ffnDownInput, layer: 0, [[-1, 0, 0.75]])
        observe(collector, .attentionInput, layer: 0, [[1, 2], [3, 4], [5, 6]])
        let stats = collector.statistics(provenance: Self.provenance)
        let down = try! #require(stats.entry(.ffnDownInput, layer: 0))
        let expectedMeanSquare: [Double] = [11.0 / 3, 4.0625 / 3, 0.5625 / 3]
        #expect(down.meanSquare == expectedMeanSquare.map { Float($0) })
        #expect(down.maxAbs == [3, 2, 0.75])
        let third = Float(1.0 / 3)
        #expect(down.activeFraction == [1, third, third])
        #expect(down.sampleRows == 0)  // not a sampled site here
        let attention = try! #require(stats.entry(.attentionInput, layer: 0))
        #expect(attention.activeFraction == nil)
        #expect(attention.sampleRows == 2)  // reservoir capped at sampleRows
        let rows = Set([[1, 2], [3, 4], [5, 6]] as [[Float]])
        #expect(rows.contains(Array(attention.samples[0..<2])) && rows.contains(Array(attention.samples[2..<4])))
        #expect(collector.tokenCount == 3)
        #expect(stats.importance["blk.0.attn_k.weight"] == attention.meanSquare)
        #expect(stats.importance["blk.0.ffn_down.weight"] == down.meanSquare)
    }

    @Test func collectorAccumulatesTheSecondMomentAtHessianSites() {
        let collector = ActivationCollector(sampleRows: 0, hessianSites: [.ffnInput])
        observe(collector, .ffnInput, layer: 1, [[1, 2, 3], [-1, 0, 2]])
        observe(collector, .ffnInput, layer: 1, [[0.5, 4, -1]])
        observe(collector, .attentionInput, layer: 1, [[1, 2, 3]])
        let stats = collector.statistics(provenance: Self.provenance)
        // Mean xxᵀ, upper triangle row by row: (0,0) (0,1) (0,2) (1,1) (1,2) (2,2).
        let rows: [[Double]] = [[1, 2, 3], [-1, 0, 2], [0.5, 4, -1]]
        var expected: [Float] = []
        for i in 0..<3 { for j in i..<3 { expected.append(Float(rows.reduce(0) { $0 + $1[i] * $1[j] } / 3)) } }
        #expect(stats.entry(.ffnInput, layer: 1)?.hessian == expected)
        #expect(stats.entry(.attentionInput, layer: 1)?.hessian == nil)
        #expect(stats.hessians["blk.1.ffn_up.weight"] == expected && stats.hessians["blk.1.ffn_gate.weight"] == expected)
        #expect(stats.hessians["blk.1.attn_q.weight"] == nil)
    }

    @Test func hessiansRoundTripAndAreChecked() throws {
        var statistics = sampleStatistics()
        statistics.entries["blk.0.attn_in"]!.hessian = [1, 0.5, -0.25, 2, 0.125, 3]
        let path = try temporaryDirectory() + "/stats.qkstats"
        try ActivationStatisticsFile.write(statistics, to: path)
        #expect(try ActivationStatisticsFile.read(path: path) == statistics)
        statistics.entries["blk.0.attn_in"]!.hessian![1] = .nan
        try ActivationStatisticsFile.write(statistics, to: path)
        #expect(throws: FormatError.self) { try ActivationStatisticsFile.read(path: path) }
    }

    func sampleStatistics() -> ActivationStatistics {
        let entries: [String: ActivationStatistics.Entry] = [
            "blk.0.attn_in": .init(columns: 3, meanSquare: [1, 2, 3], maxAbs: [4, 5, 6], activeFraction: nil, samples: [0.5, -1.25, 3, 7, 8, 9]),
            "blk.10.ffn_down_in": .init(columns: 2, meanSquare: [0.1, 0.2], maxAbs: [1, 2], activeFraction: [0.5, 1], samples: []),
            "output_in": .init(columns: 1, meanSquare: [2], maxAbs: [3], activeFraction: nil, samples: []),
        ]
        return ActivationStatistics(provenance: Self.provenance, entries: entries)
    }

    @Test func fileRoundTrips() throws {
        let path = try temporaryDirectory() + "/stats.qkstats"
        let original = sampleStatistics()
        try ActivationStatisticsFile.write(original, to: path)
        let read = try ActivationStatisticsFile.read(path: path)
        #expect(read == original)  // the sample values are exact in f16
    }

    /// The decompressed image of a valid file, to damage.
    func image() throws -> [UInt8] {
        let path = try temporaryDirectory() + "/stats.qkstats"
        try ActivationStatisticsFile.write(sampleStatistics(), to: path)
        return try MappedFile(path: path).withBytes { try Zstd.decompress($0, file: path) }
    }

    func parseError(_ bytes: [UInt8]) -> FormatError? {
        do {
            _ = try bytes.withUnsafeBytes { try ActivationStatisticsFile.parse($0, file: "damaged") }
            return nil
        } catch let error as FormatError {
            return error
        } catch {
            Issue.record("not a FormatError: \(error)")
            return nil
        }
    }

    @Test func damagedImagesAreTypedErrors() throws {
        let good = try image()
        var badMagic = good
        badMagic[0] = UInt8(ascii: "X")
        #expect(parseError(badMagic)?.reason.caseName == "badMagic")
        #expect(parseError(Array(good.dropLast(3)))?.reason.caseName == "truncated")
        #expect(parseError(good + [0])?.reason.caseName == "badMetadata")
        var badVersion = good
        badVersion[8] = 9
        #expect(parseError(badVersion)?.reason.caseName == "unsupportedVersion")
        var badJSON = good
        badJSON[16] = UInt8(ascii: "]")
        #expect(parseError(badJSON)?.reason.caseName == "malformedJSON")
        var hugeJSON = good
        hugeJSON[12 ..< 16] = [0xff, 0xff, 0xff, 0x7f]
        #expect(parseError(hugeJSON)?.reason.caseName == "truncated")
    }

    @Test func nonZstdFileIsATypedError() throws {
        let path = try temporaryDirectory() + "/stats.qkstats"
        try Data("not zstd at all".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: FormatError.self) { try ActivationStatisticsFile.read(path: path) }
    }
}
