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
    /// USER_DEFINED tokens (type 4) as UTF-8, longest first. llama.cpp cuts them out of raw
    /// text before the tokenizer runs, even when special tokens are not parsed
    /// (`tokenizer_st_partition`); control tokens stay plain text.
    private let userDefined: [(bytes: [UInt8], id: Int32)]
    /// `tokenizer.ggml.token_type`'s value for USER_DEFINED.
    static let userDefinedType: Int32 = 4

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
        let types = metadata.array(GGUFKey.Tokenizer.tokenTypes)?.integers.map { $0.map { Int32(truncatingIfNeeded: $0) } }
        if let types, types.count != tokens.count { throw InferenceError.missingMetadata(key: GGUFKey.Tokenizer.tokenTypes) }
        userDefined = (types ?? []).enumerated().filter { $0.element == Self.userDefinedType && !tokens[$0.offset].isEmpty }
            .map { (bytes: Array(tokens[$0.offset].utf8), id: Int32($0.offset)) }
            .sorted { $0.bytes.count > $1.bytes.count }
        switch kind {
        case .gpt2:
            guard let merges = metadata.array(GGUFKey.Tokenizer.merges)?.strings else {
                throw InferenceError.missingMetadata(key: GGUFKey.Tokenizer.merges)
            }
            let name = metadata.string(GGUFKey.Tokenizer.pre) ?? "default"
            model = ByteLevelBPE(tokens: tokens, merges: merges, preTokenizer: try PreTokenizer(name: name),
                                 ignoresMerges: PreTokenizer.ignoresMerges.contains(name))
        case .llama:
            guard let scores = metadata.array(GGUFKey.Tokenizer.scores)?.floats, scores.count == tokens.count else {
                throw InferenceError.missingMetadata(key: GGUFKey.Tokenizer.scores)
            }
            model = SentencePieceBPE(tokens: tokens, scores: scores, types: types ?? [Int32](repeating: 1, count: tokens.count),
                                     addsSpacePrefix: metadata[GGUFKey.Tokenizer.addSpacePrefix]?.bool ?? true)
        }
    }

    /// Token ids of `text`, with BOS first when the vocabulary asks for it and `addSpecial` is
    /// set. Control-token text in `text` is tokenized as plain text (llama.cpp `parse_special`
    /// false, as llama-perplexity does); user-defined tokens are matched first and each
    /// remaining piece is tokenized on its own (SentencePiece gives each its space prefix, as
    /// llama.cpp does after a special token).
    public func encode(_ text: String, addSpecial: Bool = true) -> [Int32] {
        var ids: [Int32] = []
        if addSpecial && addsBOS, let bos = bosToken { ids.append(bos) }
        guard !userDefined.isEmpty else {
            ids.append(contentsOf: model.encode(text))
            return ids
        }
        let bytes = Array(text.utf8)
        for fragment in partition(bytes) {
            switch fragment {
            case let .text(range): ids.append(contentsOf: model.encode(String(decoding: bytes[range], as: UTF8.self)))
            case let .token(id): ids.append(id)
            }
        }
        return ids
    }

    private enum Fragment {
        case text(Range<Int>)
        case token(Int32)
    }

    /// `bytes` cut at every occurrence of each user-defined token, longest token first, leftmost
    /// match first, as `tokenizer_st_partition` does; empty text pieces are dropped.
    private func partition(_ bytes: [UInt8]) -> [Fragment] {
        var fragments: [Fragment] = bytes.isEmpty ? [] : [.text(0 ..< bytes.count)]
        for (needle, id) in userDefined {
            var next: [Fragment] = []
            for fragment in fragments {
                guard case var .text(range) = fragment else { next.append(fragment); continue }
                while let match = Self.firstMatch(of: needle, in: bytes, range) {
                    if match > range.lowerBound { next.append(.text(range.lowerBound ..< match)) }
                    next.append(.token(id))
                    range = match + needle.count ..< range.upperBound
                }
                if !range.isEmpty { next.append(.text(range)) }
            }
            fragments = next
        }
        return fragments
    }

    private static func firstMatch(of needle: [UInt8], in bytes: [UInt8], _ range: Range<Int>) -> Int? {
        guard needle.count <= range.count else { return nil }
        var start = range.lowerBound
        while start + needle.count <= range.upperBound {
            guard let first = bytes[start ..< range.upperBound - needle.count + 1].firstIndex(of: needle[0]) else { return nil }
            if bytes[first ..< first + needle.count].elementsEqual(needle) { return first }
            start = first + 1
        }
        return nil
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
