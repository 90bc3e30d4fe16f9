import Foundation
import Inference
@testable import QuantCalibration
import QuantCore
import QuantFormats
import TestSupport
import Testing
import TestScratch

/// A calibration run's statistics against a straightforward reference: every raw activation row
/// recorded, then mean x² and max |x| computed naively in Double; and the first site's rows
/// recomputed from the tensors (RMSNorm of the token embeddings times attn_norm).
@Suite(.tags(.unit))
struct CalibratorTests {
    final class Recorder: ActivationObserver {
        var rows: [String: [[Float]]] = [:]
        func observe(_ site: ActivationSite, layer: Int, values: UnsafeBufferPointer<Float>, tokens: Int, width: Int) {
            for t in 0..<tokens { rows[site.key(layer: layer), default: []].append(Array(values[t * width ..< (t + 1) * width])) }
        }
    }

    @Test func statisticsEqualAReferenceComputation() throws {
        let model = try LlamaModel(path: try TinyModel.write())
        let corpus = try CalibrationCorpus.sampled(from: model, sequences: 3, length: 20, seed: 11)
        #expect(corpus.sequences.count == 3 && corpus.sequences.allSatisfy { $0.count == 20 })
        #expect(Set(corpus.sequences.map { $0[1] }).count > 1, "sequences start from different random tokens")
        let statistics = try Calibrator.run(model: model, corpus: corpus, collector: ActivationCollector(activeThreshold: 0.05, sampleRows: 8))

        let recorder = Recorder()
        model.observer = recorder
        for sequence in corpus.sequences {
            _ = try model.forward(sequence, state: try model.makeState(contextLength: 20), outputs: 0 ..< 20)
        }
        model.observer = nil
        #expect(statistics.entries.count == recorder.rows.count)
        for (key, rows) in recorder.rows {
            let entry = try #require(statistics.entries[key])
            #expect(rows.count == 60, "\(key): every position of every sequence")
            for j in 0..<entry.columns {
                let meanSquare = rows.reduce(0.0) { $0 + Double($1[j]) * Double($1[j]) } / Double(rows.count)
                #expect(abs(Double(entry.meanSquare[j]) - meanSquare) <= 1e-6 * max(meanSquare, 1e-12), "\(key)[\(j)] mean x²")
                #expect(entry.maxAbs[j] == rows.map { abs($0[j]) }.max()!, "\(key)[\(j)] max |x|")
                if let active = entry.activeFraction {
                    let reference = Double(rows.filter { abs($0[j]) > 0.05 }.count) / Double(rows.count)
                    #expect(abs(Double(active[j]) - reference) < 1e-6)
                }
            }
            if entry.sampleRows > 0 {
                let all = Set(rows)
                for r in 0..<entry.sampleRows { #expect(all.contains(Array(entry.samples[r * entry.columns ..< (r + 1) * entry.columns]))) }
            }
        }

        // The first site really is attn_norm(RMSNorm(embedding)): recompute it from the tensors.
        let embedding = try model.file.data(named: "token_embd.weight").bindMemory(to: Float.self)
        let norm = try model.file.data(named: "blk.0.attn_norm.weight").bindMemory(to: Float.self)
        let d = TinyModel.dim
        for (t, token) in corpus.sequences[0].enumerated() {
            let x = (0..<d).map { Double(embedding[Int(token) * d + $0]) }
            let inverse = 1 / (x.reduce(0) { $0 + $1 * $1 } / Double(d) + 1e-5).squareRoot()
            let expected = (0..<d).map { x[$0] * inverse * Double(norm[$0]) }
            let observed = recorder.rows["blk.0.attn_in"]![t]
            #expect(zip(expected, observed).allSatisfy { abs($0 - Double($1)) <= 1e-5 * max(1, abs($0)) }, "position \(t)")
        }
        #expect(statistics.provenance.modelSHA256.count == 64 && statistics.provenance.corpusSHA256.count == 64)
        #expect(statistics.provenance.corpus.hasPrefix("data-free"))
    }

    @Test func textCorpusCutsBOSWindows() throws {
        let model = try LlamaModel(path: try TinyModel.write())
        let path = try temporaryDirectory() + "/calib.txt"
        try String(repeating: "the cat sat on the mat. ", count: 40).write(toFile: path, atomically: true, encoding: .utf8)
        let corpus = try CalibrationCorpus.text(path: path, tokenizer: model.tokenizer, context: 32, maxTokens: 100)
        #expect(corpus.sequences.count == 4)  // windows until 100 tokens are covered
        #expect(corpus.sequences.allSatisfy { $0.count == 32 })
        let tokens = model.tokenizer.encode(try String(contentsOfFile: path, encoding: .utf8), addSpecial: true)
        #expect(corpus.sequences[1] == Array(tokens[32 ..< 64]))  // consecutive, non-overlapping windows
        #expect(corpus.sha256 == (try MappedFile(path: path).withBytes { SHA256.hex($0) }))
        let withBOS = try LlamaModel(path: try TinyModel.write { metadata, _ in metadata[GGUFKey.Tokenizer.addBOS] = .bool(true) })
        let windows = try CalibrationCorpus.text(path: path, tokenizer: withBOS.tokenizer, context: 32, maxTokens: 100).sequences
        let withBOSTokens = withBOS.tokenizer.encode(try String(contentsOfFile: path, encoding: .utf8), addSpecial: true)
        #expect(windows.allSatisfy { $0[0] == 1 })  // BOS replaces each window's first token
        #expect(Array(windows[1][1...]) == Array(withBOSTokens[33 ..< 64]))
        #expect(throws: InferenceError.self) { try CalibrationCorpus.text(path: path, tokenizer: model.tokenizer, context: 100_000, maxTokens: 10) }
    }
}
