import QuantFormats

/// A model's tokenizer, built from GGUF metadata (`tokenizer.ggml.*`). Tokenizer kinds are found
/// through one table (`Tokenizer.kinds`); an unknown one is an error listing what is supported.
public final class Tokenizer: @unchecked Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        /// Byte-level BPE (GPT-2 family, SmolLM, Llama 3).
        case gpt2
    }

    public let kind: Kind
    public let vocabularySize: Int
    public let bosToken: Int32?
    public let eosToken: Int32?
    /// Whether `encode(addSpecial: true)` prepends BOS (`tokenizer.ggml.add_bos_token`).
    public let addsBOS: Bool
    private let bpe: ByteLevelBPE

    public init(metadata: GGUFMetadata) throws {
        let model = metadata.string(GGUFKey.Tokenizer.model) ?? ""
        guard let kind = Kind(rawValue: model) else {
            throw InferenceError.unsupportedTokenizer(model: model.isEmpty ? "(none)" : model, supported: Kind.allCases.map(\.rawValue))
        }
        guard let tokens = metadata.array(GGUFKey.Tokenizer.tokens)?.strings else {
            throw InferenceError.missingMetadata(key: GGUFKey.Tokenizer.tokens)
        }
        self.kind = kind
        vocabularySize = tokens.count
        bosToken = metadata.integer(GGUFKey.Tokenizer.bosID).map { Int32(truncatingIfNeeded: $0) }
        eosToken = metadata.integer(GGUFKey.Tokenizer.eosID).map { Int32(truncatingIfNeeded: $0) }
        // llama.cpp's default for BPE vocabularies without the key is to add no BOS.
        addsBOS = metadata[GGUFKey.Tokenizer.addBOS]?.bool ?? false
        guard let merges = metadata.array(GGUFKey.Tokenizer.merges)?.strings else {
            throw InferenceError.missingMetadata(key: GGUFKey.Tokenizer.merges)
        }
        let pre = try PreTokenizer(name: metadata.string(GGUFKey.Tokenizer.pre) ?? "default")
        bpe = ByteLevelBPE(tokens: tokens, merges: merges, preTokenizer: pre)
    }

    /// Token ids of `text`, with BOS first when the vocabulary asks for it and `addSpecial` is
    /// set. Special-token text in `text` is tokenized as plain text (llama.cpp `parse_special`
    /// false, as llama-perplexity does).
    public func encode(_ text: String, addSpecial: Bool = true) -> [Int32] {
        var ids: [Int32] = []
        if addSpecial && addsBOS, let bos = bosToken { ids.append(bos) }
        ids.append(contentsOf: bpe.encode(text))
        return ids
    }

    public func decode(_ ids: [Int32]) -> String { bpe.decode(ids) }

    /// The raw vocabulary string of one token.
    public func tokenText(_ id: Int32) -> String? { id >= 0 && Int(id) < bpe.tokens.count ? bpe.tokens[Int(id)] : nil }
}
