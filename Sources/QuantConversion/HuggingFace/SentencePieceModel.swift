import QuantCore
import QuantFormats

/// The parts of a SentencePiece model file (`tokenizer.model`, a protobuf `ModelProto`) that a
/// GGUF vocabulary needs: every piece with its score and type, and the normalizer's
/// `add_dummy_prefix`. A minimal protobuf reader: unknown fields are skipped by wire type, and
/// any length or tag that does not fit the file is an error naming the offset.
struct SentencePieceModel {
    /// sentencepiece's `ModelProto.SentencePiece.Type`, numbered as llama.cpp's token types.
    enum PieceType: Int32 { case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6 }

    struct Piece: Equatable {
        var text: String
        var score: Float
        var type: PieceType
    }

    let pieces: [Piece]
    let addsDummyPrefix: Bool

    init(path: String) throws {
        let file = try MappedFile(path: path)
        (pieces, addsDummyPrefix) = try file.withBytes { try Self.parse($0, file: path) }
    }

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        let file: String
        var offset: Int
        let end: Int

        func fail(_ message: String) -> HFCheckpointError {
            HFCheckpointError(file: file, .unsupportedTokenizer("malformed SentencePiece model at byte \(offset): \(message)"))
        }
        var atEnd: Bool { offset >= end }

        mutating func varint() throws -> UInt64 {
            var value: UInt64 = 0
            for shift in stride(from: 0, to: 64, by: 7) {
                guard offset < end else { throw fail("truncated varint") }
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7F) << UInt64(shift)
                if byte & 0x80 == 0 { return value }
            }
            throw fail("varint longer than 10 bytes")
        }

        /// A length-delimited field's bounds.
        mutating func delimited() throws -> Range<Int> {
            let length = try varint()
            guard length <= UInt64(end - offset) else { throw fail("length \(length) runs past the message") }
            defer { offset += Int(length) }
            return offset..<(offset + Int(length))
        }

        mutating func fixed32() throws -> UInt32 {
            guard end - offset >= 4 else { throw fail("truncated fixed32") }
            defer { offset += 4 }
            return bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian
        }

        mutating func skip(wireType: UInt64) throws {
            switch wireType {
            case 0: _ = try varint()
            case 1: guard end - offset >= 8 else { throw fail("truncated fixed64") }; offset += 8
            case 2: _ = try delimited()
            case 5: _ = try fixed32()
            default: throw fail("unsupported wire type \(wireType)")
            }
        }

        func nested(_ range: Range<Int>) -> Reader { Reader(bytes: bytes, file: file, offset: range.lowerBound, end: range.upperBound) }
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, file: String) throws -> ([Piece], Bool) {
        var reader = Reader(bytes: bytes, file: file, offset: 0, end: bytes.count)
        var pieces: [Piece] = []
        var addsDummyPrefix = true   // the proto default
        while !reader.atEnd {
            let key = try reader.varint()
            switch (key >> 3, key & 7) {
            case (1, 2):   // pieces
                var message = reader.nested(try reader.delimited())
                var piece = Piece(text: "", score: 0, type: .normal)
                while !message.atEnd {
                    let field = try message.varint()
                    switch (field >> 3, field & 7) {
                    case (1, 2):
                        let range = try message.delimited()
                        guard let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self) else {
                            throw message.fail("piece \(pieces.count) is not UTF-8")
                        }
                        piece.text = text
                    case (2, 5): piece.score = Float(bitPattern: try message.fixed32())
                    case (3, 0):
                        let raw = try message.varint()
                        guard let type = PieceType(rawValue: Int32(truncatingIfNeeded: raw)) else { throw message.fail("unknown piece type \(raw)") }
                        piece.type = type
                    case let (_, wire): try message.skip(wireType: wire)
                    }
                }
                pieces.append(piece)
            case (3, 2):   // normalizer_spec
                var message = reader.nested(try reader.delimited())
                while !message.atEnd {
                    let field = try message.varint()
                    if field >> 3 == 3 && field & 7 == 0 { addsDummyPrefix = try message.varint() != 0 } else { try message.skip(wireType: field & 7) }
                }
            case let (_, wire): try reader.skip(wireType: wire)
            }
        }
        guard !pieces.isEmpty else { throw reader.fail("no pieces") }
        return (pieces, addsDummyPrefix)
    }
}
