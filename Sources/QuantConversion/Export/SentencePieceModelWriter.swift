import QuantCore
import QuantFormats

/// Writes a SentencePiece `tokenizer.model` (protobuf `ModelProto`, sentencepiece_model.proto)
/// for a GGUF `llama` vocabulary: every piece with its score and type, a BPE trainer spec with
/// the special ids and byte fallback, and the identity normalizer with `add_dummy_prefix` as
/// `tokenizer.ggml.add_space_prefix` says. `SentencePieceModel` reads what this writes.
enum SentencePieceModelWriter {
    static func serialized(tokens: [String], scores: [Float], types: [Int64], metadata: GGUFMetadata) -> [UInt8] {
        // The converter pads the vocabulary to vocab_size with `[PADn]`: those are not pieces.
        var count = tokens.count
        while count > 0, HFTokenizerExport.isConverterPadding(tokens[count - 1], id: count - 1, type: types[count - 1]) { count -= 1 }
        var model = ProtobufWriter()
        for id in 0..<count {
            var piece = ProtobufWriter()
            piece.string(field: 1, tokens[id])
            piece.float(field: 2, id < scores.count ? scores[id] : 0)
            let type = types[id] == Int64(SentencePieceModel.PieceType.userDefined.rawValue) ? SentencePieceModel.PieceType.normal.rawValue : Int32(types[id])
            if type != SentencePieceModel.PieceType.normal.rawValue { piece.varint(field: 3, UInt64(type)) }
            model.message(field: 1, piece)
        }
        var trainer = ProtobufWriter()
        trainer.varint(field: 3, 2)   // model_type = BPE
        trainer.varint(field: 4, UInt64(count))
        let hasBytes = types.prefix(count).contains(Int64(SentencePieceModel.PieceType.byte.rawValue))
        if hasBytes { trainer.varint(field: 35, 1) }   // byte_fallback
        let unknown = types.prefix(count).firstIndex(of: Int64(SentencePieceModel.PieceType.unknown.rawValue))
        let ids: [(Int, Int64?)] = [(40, unknown.map(Int64.init)), (41, metadata.integer(GGUFKey.Tokenizer.bosID)),
                                    (42, metadata.integer(GGUFKey.Tokenizer.eosID)), (43, metadata.integer("tokenizer.ggml.padding_token_id"))]
        for (field, id) in ids {
            // int32 fields: a missing id is -1 (sentencepiece's "none"), sign-extended to 64 bits.
            trainer.varint(field: field, UInt64(bitPattern: id.map { $0 < Int64(count) ? $0 : -1 } ?? -1))
        }
        model.message(field: 2, trainer)
        var normalizer = ProtobufWriter()
        normalizer.string(field: 1, "identity")
        normalizer.varint(field: 3, metadata[GGUFKey.Tokenizer.addSpacePrefix]?.bool == false ? 0 : 1)
        normalizer.varint(field: 4, 0)   // remove_extra_whitespaces: off, as Llama's model has it
        model.message(field: 3, normalizer)
        return model.bytes
    }
}

/// The protobuf wire format's few encodings a `ModelProto` needs.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    private mutating func rawVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }
    private mutating func key(_ field: Int, _ wireType: UInt64) { rawVarint(UInt64(field) << 3 | wireType) }

    mutating func varint(field: Int, _ value: UInt64) { key(field, 0); rawVarint(value) }
    mutating func float(field: Int, _ value: Float) {
        key(field, 5)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
    }
    mutating func string(field: Int, _ value: String) { key(field, 2); rawVarint(UInt64(value.utf8.count)); bytes += value.utf8 }
    mutating func message(field: Int, _ value: ProtobufWriter) { key(field, 2); rawVarint(UInt64(value.bytes.count)); bytes += value.bytes }
}
