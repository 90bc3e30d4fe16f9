import Foundation
import QuantCore
import QuantFormats

/// A GGUF vocabulary → the tokenizer files of a Hugging Face checkpoint: the inverse of
/// `HFTokenizerMetadata`, so `convert` of the exported folder writes the same `tokenizer.*` keys.
/// `gpt2` vocabularies become a byte-level BPE `tokenizer.json`; `llama` (SentencePiece)
/// vocabularies a `tokenizer.model`. Both get `tokenizer_config.json` (special tokens, add-BOS/EOS
/// flags, chat template).
struct HFTokenizerExport {
    static let supportedModels = ["gpt2", "llama"]

    /// File name → contents.
    let files: [(name: String, contents: [UInt8])]

    init(metadata: GGUFMetadata, config: HFLlamaConfig, file: String) throws {
        let model = metadata.string(GGUFKey.Tokenizer.model) ?? "(none)"
        guard let tokens = metadata.array(GGUFKey.Tokenizer.tokens)?.strings else {
            throw HFExportError(file: file, .missingKey(GGUFKey.Tokenizer.tokens))
        }
        let types = metadata.array(GGUFKey.Tokenizer.tokenTypes)?.integers ?? tokens.map { _ in Int64(HFTokenizerMetadata.TokenType.normal.rawValue) }
        var files: [(String, [UInt8])]
        switch model {
        case "gpt2":
            let pre = metadata.string(GGUFKey.Tokenizer.pre) ?? "gpt-2"
            guard let preTokenizer = HFTokenizerMetadata.preTokenizers.first(where: { $0.name == pre })?.json else {
                throw HFExportError(file: file, .unsupportedTokenizer(found: "gpt2 with pre-tokenizer '\(pre)'",
                                                                       supported: HFTokenizerMetadata.preTokenizers.map { "gpt2/\($0.name)" }))
            }
            let merges = metadata.array(GGUFKey.Tokenizer.merges)?.strings ?? []
            let json = Self.tokenizerJSON(tokens: tokens, types: types, merges: merges, preTokenizer: preTokenizer, metadata: metadata)
            files = [("tokenizer.json", Array(json.prettySerialized().utf8))]
        case "llama":
            let scores = metadata.array(GGUFKey.Tokenizer.scores)?.floats ?? tokens.map { _ in 0 }
            files = [("tokenizer.model", SentencePieceModelWriter.serialized(tokens: tokens, scores: scores, types: types, metadata: metadata))]
        default:
            throw HFExportError(file: file, .unsupportedTokenizer(found: model, supported: Self.supportedModels))
        }
        files.append(("tokenizer_config.json", Array(Self.tokenizerConfig(tokens: tokens, model: model, metadata: metadata, config: config).prettySerialized().utf8)))
        self.files = files
    }

    /// Whether token `id` is padding `convert` adds back by itself (`[PADn]`, unused).
    static func isConverterPadding(_ text: String, id: Int, type: Int64) -> Bool {
        type == Int64(HFTokenizerMetadata.TokenType.unused.rawValue) && text == "[PAD\(id)]"
    }

    /// tokenizer.json in the `tokenizers` library's layout: normal tokens in the BPE vocabulary,
    /// control and user-defined tokens also as added tokens (special = control).
    static func tokenizerJSON(tokens: [String], types: [Int64], merges: [String], preTokenizer: JSONValue, metadata: GGUFMetadata) -> JSONValue {
        var vocab: [(key: String, value: JSONValue)] = [], added: [JSONValue] = []
        var seen = Set<String>()
        for (id, text) in tokens.enumerated() where !isConverterPadding(text, id: id, type: types[id]) {
            if seen.insert(text).inserted { vocab.append((text, .number(String(id)))) }
            let control = types[id] == Int64(HFTokenizerMetadata.TokenType.control.rawValue)
            guard control || types[id] == Int64(HFTokenizerMetadata.TokenType.userDefined.rawValue) else { continue }
            added.append(.object([("id", .number(String(id))), ("content", .string(text)), ("single_word", .bool(false)),
                                  ("lstrip", .bool(false)), ("rstrip", .bool(false)), ("normalized", .bool(!control)), ("special", .bool(control))]))
        }
        let byteLevel = JSONValue.object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(true)),
                                          ("trim_offsets", .bool(false)), ("use_regex", .bool(true))])
        var postProcessor = byteLevel
        // A tokenizer that adds BOS does it in its post-processor (as Llama 3's tokenizer.json).
        if metadata[GGUFKey.Tokenizer.addBOS]?.bool == true, let bos = metadata.integer(GGUFKey.Tokenizer.bosID), Int(bos) < tokens.count {
            let text = tokens[Int(bos)]
            let special = JSONValue.object([("SpecialToken", .object([("id", .string(text)), ("type_id", .number("0"))]))])
            func sequence(_ id: String, _ type: Int) -> JSONValue { .object([("Sequence", .object([("id", .string(id)), ("type_id", .number(String(type)))]))]) }
            postProcessor = .object([
                ("type", .string("TemplateProcessing")),
                ("single", .array([special, sequence("A", 0)])),
                ("pair", .array([special, sequence("A", 0), special, sequence("B", 1)])),
                ("special_tokens", .object([(text, .object([("id", .string(text)), ("ids", .array([.number(String(bos))])), ("tokens", .array([.string(text)]))]))])),
            ])
        }
        return .object([
            ("version", .string("1.0")),
            ("truncation", .null),
            ("padding", .null),
            ("added_tokens", .array(added)),
            ("normalizer", .null),
            ("pre_tokenizer", preTokenizer),
            ("post_processor", postProcessor),
            ("decoder", byteLevel),
            ("model", .object([
                ("type", .string("BPE")), ("dropout", .null), ("unk_token", .null), ("continuing_subword_prefix", .null),
                ("end_of_word_suffix", .null), ("fuse_unk", .bool(false)), ("byte_fallback", .bool(false)), ("ignore_merges", .bool(false)),
                ("vocab", .object(vocab)), ("merges", .array(merges.map(JSONValue.string))),
            ])),
        ])
    }

    /// The `<kind>_token_id` keys `convert` reads back from tokenizer_config.json, by kind.
    static let specialKinds: [(kind: String, key: String)] = [
        ("bos", GGUFKey.Tokenizer.bosID), ("eos", GGUFKey.Tokenizer.eosID), ("unk", GGUFKey.Tokenizer.unknownID),
        ("sep", "tokenizer.ggml.seperator_token_id"), ("pad", "tokenizer.ggml.padding_token_id"),
        ("cls", "tokenizer.ggml.cls_token_id"), ("mask", "tokenizer.ggml.mask_token_id"),
    ]

    static func tokenizerConfig(tokens: [String], model: String, metadata: GGUFMetadata, config: HFLlamaConfig) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        for kind in ["bos", "eos"] {
            if let flag = metadata["tokenizer.ggml.add_\(kind)_token"]?.bool { members.append(("add_\(kind)_token", .bool(flag))) }
        }
        if model == "gpt2", let flag = metadata[GGUFKey.Tokenizer.addSpacePrefix]?.bool { members.append(("add_prefix_space", .bool(flag))) }
        for (kind, key) in specialKinds {
            if let id = metadata.integer(key), id >= 0, Int(id) < tokens.count { members.append(("\(kind)_token", .string(tokens[Int(id)]))) }
        }
        if let template = metadata.string(GGUFKey.Tokenizer.chatTemplate) { members.append(("chat_template", .string(template))) }
        members += [
            ("clean_up_tokenization_spaces", .bool(false)),
            ("model_max_length", .number(String(config.contextLength))),
            ("tokenizer_class", .string(model == "llama" ? "LlamaTokenizer" : "PreTrainedTokenizerFast")),
        ]
        return .object(members)
    }
}
