import Foundation
import QuantCore
@testable import QuantConversion
import QuantFormats
import Testing
import TestScratch

/// The SentencePiece model reader on stories260K's real `tok512.model`, and on damaged bytes.
@Suite(.tags(.golden))
struct SentencePieceModelTests {
    @Test(TestData.needs(.shared("golden"), .shared("stories260K")))
    func readsTheStories260KVocabulary() throws {
        let model = try SentencePieceModel(path: TestData.shared("stories260K/tok512.model"))
        #expect(model.pieces.count == 512 && model.addsDummyPrefix)
        #expect(model.pieces[0] == .init(text: "<unk>", score: 0, type: .unknown))
        #expect(model.pieces[1].type == .control && model.pieces[2].type == .control)
        #expect(model.pieces[3] == .init(text: "<0x00>", score: 0, type: .byte))
        #expect(model.pieces[258].text == "<0xFF>")
        // Merged pieces carry decreasing scores (their merge order).
        #expect(model.pieces[259].type == .normal && model.pieces[259].score > model.pieces[400].score)
    }

    @Test func damagedModelsAreTypedErrors() throws {
        // A piece message: field 1 (piece, "ab"), field 2 (score −1.5), field 3 (type 1).
        var piece: [UInt8] = [0x0A, 0x02, 0x61, 0x62, 0x15]
        piece += withUnsafeBytes(of: Float(-1.5).bitPattern.littleEndian, Array.init)
        piece += [0x18, 0x01]
        let valid: [UInt8] = [0x0A, UInt8(piece.count)] + piece
        func parse(_ bytes: [UInt8]) throws -> ([SentencePieceModel.Piece], Bool) {
            try bytes.withUnsafeBytes { try SentencePieceModel.parse($0, file: "t.model") }
        }
        let (pieces, prefix) = try parse(valid)
        #expect(pieces == [.init(text: "ab", score: -1.5, type: .normal)] && prefix)
        // Normalizer spec with add_dummy_prefix = false.
        #expect(try parse(valid + [0x1A, 0x02, 0x18, 0x00]).1 == false)
        for damaged in [Array(valid.dropLast()), [0x0A, 0x7F] + piece, [0x0A], valid + [0x0F], [UInt8]()] {
            #expect(throws: HFCheckpointError.self) { try parse(damaged) }
        }
    }
}
