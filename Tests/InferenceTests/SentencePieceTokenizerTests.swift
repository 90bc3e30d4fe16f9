import Foundation
@testable import Inference
import QuantFormats
import Testing
import TestScratch

/// The SentencePiece-style tokenizer on a hand-made vocabulary: score order, leftmost ties, byte
/// fallback, the space prefix, llama.cpp's defaults, decoding. (Agreement with llama.cpp on a
/// real vocabulary is `InferenceInteropTests.sentencePieceModelMatchesLlamaCpp`.)
@Suite(.tags(.unit))
struct SentencePieceTokenizerTests {
    static let normal: Int32 = 1, unknown: Int32 = 2, control: Int32 = 3, byte: Int32 = 6

    /// <unk> <s> </s>, 256 byte tokens, then pieces with scores.
    static func metadata(pieces: [(String, Float)], extra: (inout GGUFMetadata) -> Void = { _ in }) -> GGUFMetadata {
        var tokens = ["<unk>", "<s>", "</s>"], scores: [Float] = [0, 0, 0], types = [unknown, control, control]
        for b in 0..<256 {
            tokens.append("<0x" + String(format: "%02X", b) + ">")
            scores.append(0)
            types.append(byte)
        }
        for (text, score) in pieces {
            tokens.append(text)
            scores.append(score)
            types.append(normal)
        }
        var metadata = GGUFMetadata()
        metadata[GGUFKey.Tokenizer.model] = .string("llama")
        metadata[GGUFKey.Tokenizer.tokens] = .array(.string(tokens))
        metadata[GGUFKey.Tokenizer.scores] = .array(.float32(scores))
        metadata[GGUFKey.Tokenizer.tokenTypes] = .array(.int32(types))
        extra(&metadata)
        return metadata
    }

    static let pieces: [(String, Float)] = [("▁", -1), ("a", -2), ("b", -3), ("▁a", -4), ("aa", -0.5), ("▁b", -6), ("ab", -7)]
    /// The id of piece `text` in `pieces`.
    static func id(_ text: String) -> Int32 { Int32(259 + pieces.firstIndex { $0.0 == text }!) }

    @Test func mergesByScoreLeftmostFirstWithBOSAndSpacePrefix() throws {
        let tokenizer = try Tokenizer(metadata: Self.metadata(pieces: Self.pieces))
        #expect(tokenizer.kind == .llama && tokenizer.addsBOS && tokenizer.bosToken == 1 && tokenizer.eosToken == 2)
        // "▁aaa": "aa" (−0.5) beats "▁a" (−4); of the two equal "aa" pairs the leftmost wins.
        #expect(tokenizer.encode("aaa") == [1, Self.id("▁"), Self.id("aa"), Self.id("a")])
        // Spaces become ▁: "▁a▁b" → ▁a, ▁b.
        #expect(tokenizer.encode("a b", addSpecial: false) == [Self.id("▁a"), Self.id("▁b")])
        // Not in the vocabulary: UTF-8 bytes as <0xXX> tokens (é = C3 A9).
        let byteIDs: [Int32] = [3 + 0xC3, 3 + 0xA9]
        #expect(tokenizer.encode("é", addSpecial: false) == [Self.id("▁")] + byteIDs)
        #expect(tokenizer.encode("", addSpecial: true) == [1])
    }

    @Test func metadataFlagsAreHonoured() throws {
        let tokenizer = try Tokenizer(metadata: Self.metadata(pieces: Self.pieces) {
            $0[GGUFKey.Tokenizer.addSpacePrefix] = .bool(false)
            $0[GGUFKey.Tokenizer.addBOS] = .bool(false)
        })
        #expect(tokenizer.encode("ab") == [Self.id("ab")])
        var missingScores = Self.metadata(pieces: Self.pieces)
        missingScores[GGUFKey.Tokenizer.scores] = nil
        #expect(throws: InferenceError.missingMetadata(key: GGUFKey.Tokenizer.scores)) { try Tokenizer(metadata: missingScores) }
    }

    @Test func decodeRestoresTextBytesAndDropsControlTokens() throws {
        let tokenizer = try Tokenizer(metadata: Self.metadata(pieces: Self.pieces))
        for text in ["a b", "aaa ab", "é a", "  two  spaces ", "\n"] {
            let ids = tokenizer.encode(text)
            #expect(tokenizer.decode(ids) == text, "\(text)")
        }
        #expect(tokenizer.decode([1, Self.id("▁a"), 2]) == "a")
        #expect(tokenizer.decode([0]) == "\u{2585}")
    }
}
