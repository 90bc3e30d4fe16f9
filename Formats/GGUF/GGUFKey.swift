/// Metadata key spellings (gguf-py `constants.py` `Keys`), written once here.
public enum GGUFKey {
    public static let architecture = "general.architecture"
    public static let name = "general.name"
    public static let alignment = "general.alignment"
    public static let fileType = "general.file_type"
    public static let quantizationVersion = "general.quantization_version"

    /// Per-architecture hyper-parameter keys, `<arch>.<suffix>`.
    public enum LLM: String, CaseIterable, Sendable {
        case contextLength = "context_length"
        case embeddingLength = "embedding_length"
        case blockCount = "block_count"
        case feedForwardLength = "feed_forward_length"
        case headCount = "attention.head_count"
        case headCountKV = "attention.head_count_kv"
        case rmsNormEpsilon = "attention.layer_norm_rms_epsilon"
        case ropeFreqBase = "rope.freq_base"
        case ropeDimensionCount = "rope.dimension_count"
        case vocabSize = "vocab_size"

        public func key(_ architecture: String) -> String { "\(architecture).\(rawValue)" }
    }

    public enum Tokenizer {
        public static let model = "tokenizer.ggml.model"
        public static let pre = "tokenizer.ggml.pre"
        public static let tokens = "tokenizer.ggml.tokens"
        public static let tokenTypes = "tokenizer.ggml.token_type"
        public static let scores = "tokenizer.ggml.scores"
        public static let merges = "tokenizer.ggml.merges"
        public static let bosID = "tokenizer.ggml.bos_token_id"
        public static let eosID = "tokenizer.ggml.eos_token_id"
        public static let addBOS = "tokenizer.ggml.add_bos_token"
        public static let addEOS = "tokenizer.ggml.add_eos_token"
        public static let addSpacePrefix = "tokenizer.ggml.add_space_prefix"
        public static let unknownID = "tokenizer.ggml.unknown_token_id"
        public static let chatTemplate = "tokenizer.chat_template"
    }

    /// Default `general.alignment` when the key is absent.
    public static let defaultAlignment: UInt64 = 32
}
