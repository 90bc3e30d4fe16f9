import Foundation
import QuantCore
import QuantFormats

/// The tokenizer files of a checkpoint → the `tokenizer.ggml.*` keys, as convert_hf_to_gguf.py
/// writes them: a SentencePiece `tokenizer.model` (Llama 1/2, Mistral v0.1, TinyStories) as its
/// `_set_vocab_sentencepiece` does (model `llama`: pieces, scores, token types), otherwise a
/// byte-level BPE `tokenizer.json` as `_set_vocab_gpt2` does; then gguf-py's `SpecialVocab`
/// (special ids, add-BOS/EOS flags, chat template) from `tokenizer_config.json`.
struct HFTokenizerMetadata {
    /// llama.cpp token types (`llama_token_type`).
    enum TokenType: Int32 { case normal = 1, unused = 5, control = 3, userDefined = 4 }

    /// llama.cpp `tokenizer.ggml.pre` names and the `pre_tokenizer` of tokenizer.json that
    /// behaves so. llama.cpp identifies a pre-tokenizer by hashing the HF tokenizer's output on a
    /// test string, which needs the `tokenizers` library; the structure (`fingerprint`) names the
    /// same behaviour. Conversion matches a checkpoint's structure here; export writes the entry.
    static let preTokenizers: [(name: String, json: JSONValue)] = [
        ("gpt-2", byteLevel(useRegex: true)),
        ("smollm", .object([("type", .string("Sequence")), ("pretokenizers", .array([
            .object([("type", .string("Digits")), ("individual_digits", .bool(true))]), byteLevel(useRegex: true)]))])),
        ("llama-bpe", .object([("type", .string("Sequence")), ("pretokenizers", .array([
            .object([("type", .string("Split")), ("pattern", .object([("Regex", .string(llama3SplitPattern))])),
                     ("behavior", .string("Isolated")), ("invert", .bool(false))]),
            byteLevel(useRegex: false)]))])),
        ("qwen2", .object([("type", .string("Sequence")), ("pretokenizers", .array([
            .object([("type", .string("Split")), ("pattern", .object([("Regex", .string(qwen2SplitPattern))])),
                     ("behavior", .string("Isolated")), ("invert", .bool(false))]),
            byteLevel(useRegex: false)]))])),
    ]
    static let llama3SplitPattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    /// Qwen2/Qwen3: Llama 3's pattern with one digit per piece.
    static let qwen2SplitPattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    static func byteLevel(useRegex: Bool) -> JSONValue {
        .object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)), ("trim_offsets", .bool(true)), ("use_regex", .bool(useRegex))])
    }

    let entries: [GGUFKeyValue]

    init(folder: String, config: HFLlamaConfig) throws {
        let tokenizerConfigPath = folder + "/tokenizer_config.json"
        let tokenizerConfig = FileManager.default.fileExists(atPath: tokenizerConfigPath) ? try HFJSONFile(path: tokenizerConfigPath) : nil
        let sentencePiecePath = folder + "/tokenizer.model"
        var (entries, idOfContent): ([GGUFKeyValue], [String: Int]) = FileManager.default.fileExists(atPath: sentencePiecePath)
            ? try Self.sentencePieceVocabulary(path: sentencePiecePath, config: config)
            : try Self.byteLevelVocabulary(folder: folder, config: config, tokenizerConfig: tokenizerConfig)
        // Special tokens: tokenizer_config.json names them by content; config.json ids fill gaps.
        let fallbackIDs = ["bos": config.bosTokenID, "eos": config.eosTokenID]
        for kind in ["bos", "eos", "unk", "sep", "pad", "cls", "mask"] {
            let content = tokenizerConfig?.value("\(kind)_token").flatMap { $0.string ?? $0["content"]?.string }
            guard let id = content.flatMap({ idOfContent[$0] }) ?? fallbackIDs[kind] ?? nil else { continue }
            let key = kind == "unk" ? "unknown" : kind == "pad" ? "padding" : kind == "sep" ? "seperator" : kind
            entries.append(.init("tokenizer.ggml.\(key)_token_id", .uint32(UInt32(id))))
        }
        for kind in ["bos", "eos"] {
            if let flag = try tokenizerConfig?.bool("add_\(kind)_token") {
                entries.append(.init("tokenizer.ggml.add_\(kind)_token", .bool(flag)))
            }
        }
        if let template = try Self.chatTemplate(folder: folder, tokenizerConfig: tokenizerConfig) {
            entries.append(.init(GGUFKey.Tokenizer.chatTemplate, .string(template)))
        }
        self.entries = entries
    }

    /// `_set_vocab_sentencepiece`: one token per piece (padded to config.json's vocab_size with
    /// unused `[PADn]`), its score, and its type (user-defined pieces count as normal).
    static func sentencePieceVocabulary(path: String, config: HFLlamaConfig) throws -> ([GGUFKeyValue], [String: Int]) {
        let model = try SentencePieceModel(path: path)
        guard model.pieces.count <= config.vocabularySize else {
            throw HFCheckpointError(file: path, .unsupportedTokenizer("\(model.pieces.count) pieces, more than config.json's vocab_size \(config.vocabularySize)"))
        }
        var texts: [String] = [], scores: [Float] = [], types: [Int32] = []
        var idOfContent: [String: Int] = [:]
        for (id, piece) in model.pieces.enumerated() {
            texts.append(piece.text)
            scores.append(piece.score)
            types.append(piece.type == .userDefined ? SentencePieceModel.PieceType.normal.rawValue : piece.type.rawValue)
            if idOfContent[piece.text] == nil { idOfContent[piece.text] = id }
        }
        for id in model.pieces.count..<config.vocabularySize {
            texts.append("[PAD\(id)]")
            scores.append(-1000)
            types.append(SentencePieceModel.PieceType.unused.rawValue)
        }
        return ([
            .init(GGUFKey.Tokenizer.model, .string("llama")),
            .init(GGUFKey.Tokenizer.pre, .string("default")),
            .init(GGUFKey.Tokenizer.tokens, .array(.string(texts))),
            .init(GGUFKey.Tokenizer.scores, .array(.float32(scores))),
            .init(GGUFKey.Tokenizer.tokenTypes, .array(.int32(types))),
            .init(GGUFKey.Tokenizer.addSpacePrefix, .bool(model.addsDummyPrefix)),
        ], idOfContent)
    }

    /// `_set_vocab_gpt2`: tokenizer.json's BPE vocabulary, added tokens, merges and the
    /// pre-tokenizer's llama.cpp name.
    static func byteLevelVocabulary(folder: String, config: HFLlamaConfig, tokenizerConfig: HFJSONFile?) throws -> ([GGUFKeyValue], [String: Int]) {
        let tokenizerPath = folder + "/tokenizer.json"
        let tokenizer = try HFJSONFile(path: tokenizerPath)
        func unsupported(_ message: String) -> HFCheckpointError { HFCheckpointError(file: tokenizerPath, .unsupportedTokenizer(message)) }

        guard let model = tokenizer.value("model"), model["type"]?.string == "BPE",
              let vocab = model["vocab"]?.members, let mergeList = model["merges"]?.array else {
            throw unsupported("only byte-level BPE tokenizer.json files are converted (model.type must be \"BPE\" with vocab and merges)")
        }
        let fingerprint = Self.fingerprint(tokenizer.value("pre_tokenizer"))
        guard let pre = Self.preTokenizers.first(where: { Self.fingerprint($0.json) == fingerprint })?.name else {
            let known = Self.preTokenizers.map { Self.fingerprint($0.json) }
            throw unsupported("pre-tokenizer \(fingerprint) is not a known byte-level one (known: \(known.joined(separator: "; ")))")
        }

        // Vocabulary by id: the BPE vocab, then added tokens (which may extend it).
        var byID: [Int: (text: String, type: TokenType)] = [:]
        for (text, id) in vocab {
            guard let id = id.int64.flatMap({ Int(exactly: $0) }), id >= 0 else { throw unsupported("vocab entry '\(text)' has no valid id") }
            byID[id] = (text, .normal)
        }
        var idOfContent: [String: Int] = [:]
        for token in tokenizer.value("added_tokens")?.array ?? [] {
            guard let id = token["id"]?.int64.flatMap({ Int(exactly: $0) }), let content = token["content"]?.string else {
                throw unsupported("added token without id or content")
            }
            let special = token["special"]?.bool ?? false
            byID[id] = (content, special || Self.looksSpecial(content) ? .control : .userDefined)
            idOfContent[content] = id
        }
        let vocabularySize = max(config.vocabularySize, (byID.keys.max() ?? -1) + 1)
        guard byID.keys.max().map({ $0 < config.vocabularySize }) ?? true else {
            throw unsupported("token id \(byID.keys.max()!) is outside config.json's vocab_size \(config.vocabularySize)")
        }
        var texts: [String] = [], types: [Int32] = []
        for id in 0..<vocabularySize {
            let token = byID[id] ?? ("[PAD\(id)]", .unused)
            texts.append(token.text)
            types.append(token.type.rawValue)
            if idOfContent[token.text] == nil { idOfContent[token.text] = id }
        }
        let merges = try mergeList.map { merge -> String in
            if let text = merge.string { return text }
            if let pair = merge.array, pair.count == 2, let a = pair[0].string, let b = pair[1].string { return a + " " + b }
            throw unsupported("a merge is neither \"a b\" nor [\"a\", \"b\"]")
        }

        var entries: [GGUFKeyValue] = []
        if let addPrefix = try tokenizerConfig?.bool("add_prefix_space") {
            entries.append(.init("tokenizer.ggml.add_space_prefix", .bool(addPrefix)))
        }
        entries += [
            .init(GGUFKey.Tokenizer.model, .string("gpt2")),
            .init(GGUFKey.Tokenizer.pre, .string(pre)),
            .init(GGUFKey.Tokenizer.tokens, .array(.string(texts))),
            .init(GGUFKey.Tokenizer.tokenTypes, .array(.int32(types))),
            .init(GGUFKey.Tokenizer.merges, .array(.string(merges))),
        ]
        return (entries, idOfContent)
    }

    /// gguf-py's `does_token_look_special`.
    static func looksSpecial(_ text: String) -> Bool {
        ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].contains(text)
            || (text.hasPrefix("<|") && text.hasSuffix("|>"))
            || (text.hasPrefix("<｜") && text.hasSuffix("｜>"))
            || (text.hasPrefix("<start_of_") && text.hasSuffix(">"))
    }

    /// A short structural description of `pre_tokenizer`.
    static func fingerprint(_ pre: JSONValue?) -> String {
        guard let pre, let type = pre["type"]?.string else { return "none" }
        switch type {
        case "Sequence":
            return "Sequence[" + (pre["pretokenizers"]?.array ?? []).map { fingerprint($0) }.joined(separator: ",") + "]"
        case "ByteLevel":
            return pre["use_regex"]?.bool ?? true ? "ByteLevel(regex)" : "ByteLevel"
        case "Digits":
            return pre["individual_digits"]?.bool == true ? "Digits(individual)" : "Digits"
        case "Split":
            let pattern = pre["pattern"]?["Regex"]?.string ?? pre["pattern"]?["String"]?.string ?? ""
            return pattern == llama3SplitPattern ? "Split(llama3)" : pattern == qwen2SplitPattern ? "Split(qwen2)" : "Split(\(pattern))"
        default:
            return type
        }
    }

    /// `chat_template` of tokenizer_config.json (a string, or named templates of which "default"
    /// is used), else a `chat_template.jinja` file.
    static func chatTemplate(folder: String, tokenizerConfig: HFJSONFile?) throws -> String? {
        if let value = tokenizerConfig?.value("chat_template") {
            if let text = value.string { return text }
            for entry in value.array ?? [] where entry["name"]?.string == "default" { return entry["template"]?.string }
        }
        let jinja = folder + "/chat_template.jinja"
        guard FileManager.default.fileExists(atPath: jinja) else { return nil }
        return try MappedFile.readText(path: jinja)
    }
}
