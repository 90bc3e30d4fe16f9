/// What sets a decoder architecture apart from llama's in the forward pass, found by the GGUF's
/// `general.architecture` — llama.cpp's `llm_arch`, whose graph builders sit one per file in
/// `src/models/`. An architecture is one file here (its value) and one line in `all`; the block
/// itself (`LlamaModel.run`) reads these switches.
public struct ModelArchitecture: Sendable, Equatable, CustomStringConvertible {
    /// How RoPE pairs a head's dimensions (llama.cpp's `llama_rope_type`).
    public enum RopeStyle: Sendable, Equatable {
        /// `LLAMA_ROPE_TYPE_NORM`: adjacent pairs (2i, 2i+1); llama's GGUF q/k rows are permuted
        /// into this order by the converter.
        case adjacentPairs
        /// `LLAMA_ROPE_TYPE_NEOX`: pairs (i, i + n/2), Hugging Face's rotate-half, rows as stored.
        case halves
    }

    /// `general.architecture`.
    public let name: String
    public let ropeStyle: RopeStyle
    /// Per-head RMSNorm of queries and keys before RoPE (`attn_q_norm`, `attn_k_norm`), required.
    public let normsQueriesAndKeys: Bool
    /// q/k/v biases (`attn_q.bias` …), read when the file has them.
    public let allowsAttentionBiases: Bool

    public var description: String { name }

    /// Every architecture the inference core runs.
    public static let all: [ModelArchitecture] = [.llama, .qwen2, .qwen3]

    public static func named(_ name: String) -> ModelArchitecture? { all.first { $0.name == name } }
}
