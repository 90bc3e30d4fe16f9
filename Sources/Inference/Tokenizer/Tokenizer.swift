import QuantFormats

/// A model's tokenizer, built from GGUF metadata (`tokenizer.ggml.*`). Tokenizer kinds are found
/// through one table (`Tokenizer.kinds`); an unknown one is an error listing what is supported.
public final class Tokenizer: @unchecked Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        /// Byte-level BPE (GPT-2 family, SmolLM, Llama 3).
        case gpt2
        /// SentencePiece-style, scores instead of merges (Llama 1/2, Mistral v0.1, TinyStories).
        case llama
    }



    public let kind: Kind
    public let vocabularySize: Int
    public let bosToken: Int32?
    public let eosToken: Int32?
    /// Whether `encode(addSpecial: true)` prepends BOS (`tokenizer.ggml.add_bos_token`).
    public let addsBOS: Bool
    private let model: any TokenizerModel

    public init(metadata: GGUFMetadata) throws {
        let modelName = metadata.string(GGUFKey.Tokenizer.model) ?? ""
        guard let kind = Kind(rawValue: modelName) else {
            throw InferenceError.unsupportedTokenizer(model: modelName.isEmpty ? "(none)" : modelName, supported: Kind.allCases.map(\.rawValue))
        }
        guard let tokens = metadata.array(GGUFKey.Tokenizer.tokens)?.strings else {
            throw InferenceError.missingMetadata(key: GGUFKey.Tokenizer.tokens)
        }
        self.kind = kind
        vocabularySize = tokens.count
        // llama.cpp's defaults when the keys are absent: SentencePiece vocabularies add BOS and
        // use ids 1/2; byte-level BPE ones add nothing.
        let defaults: (bos: Int32?, eos: Int32?, addBOS: Bool) = kind == .llama ? (1, 2, true) : (nil, nil, false)
        bosToken = metadata.integer(GGUFKey.Tokenizer.bosID).map { Int32(truncatingIfNeeded: $0) } ?? defaults.bos
        eosToken = metadata.integer(GGUFKey.Tokenizer.eosID).map { Int32(truncatingIfNeeded: $0) } ?? defaults.eos
        addsBOS = metadata[GGUFKey.Tokenizer.addBOS]?.bool ?? defaults.addBOS
        switch kind {
        case .gpt2:
            guard let merges = metadata.array(GGUFKey.Tokenizer.merges)?.strings else {
                throw InferenceError.missingMetadata(key: GGUFKey.Tokenizer.merges)
            }
            let pre = try PreTokenizer(name: metadata.string(GGUFKey.Tokenizer.pre) ?? "default")
            model = ByteLevelBPE(tokens: tokens, merges: merges, preTokenizer: pre)
        case .llama:
            guard let scores = metadata.array(GGUFKey.Tokenizer.scores)?.floats, scores.count == tokens.count else {
                throw InferenceError.missingMetadata(key: GGUFKey.Tokenizer.scores)
            }
            let types = metadata.array(GGUFKey.Tokenizer.tokenTypes)?.integers.map { $0.map { Int32(truncatingIfNeeded: $0) } }
                ?? [Int32](repeating: 1, count: tokens.count)
            guard types.count == tokens.count else { throw InferenceError.missingMetadata(key: GGUFKey.Tokenizer.tokenTypes) }
            model = SentencePieceBPE(tokens: tokens, scores: scores, types: types,
                                     addsSpacePrefix: metadata[GGUFKey.Tokenizer.addSpacePrefix]?.bool ?? true)
        }
    }

    /// Token ids of `text`, with BOS first when the vocabulary asks for it and `addSpecial` is
    /// set. Special-token text in `text` is tokenized as plain text (llama.cpp `parse_special`
    /// false, as llama-perplexity does).
    public func encode(_ text: String, addSpecial: Bool = true) -> [Int32] {
        var ids: [Int32] = []
        if addSpecial && addsBOS, let bos = bosToken { ids.append(bos) }
        ids.append(contentsOf: model.encode(text))
        return ids
    }

    public func decode(_ ids: [Int32]) -> String { model.decode(ids) }

    /// The raw vocabulary string of one token.
    public func tokenText(_ id: Int32) -> String? { id >= 0 && Int(id) < model.tokens.count ? model.tokens[Int(id)] : nil }
}

/// What `Tokenizer` needs of a tokenization algorithm: ids of a text that starts a prompt, the
/// text of ids, and the vocabulary.
protocol TokenizerModel: Sendable {
    var tokens: [String] { get }
    func encode(_ text: String) -> [Int32]
    func decode(_ ids: [Int32]) -> String
}
