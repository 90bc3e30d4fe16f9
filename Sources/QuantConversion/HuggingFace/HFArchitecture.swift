import QuantFormats

/// How convert_hf_to_gguf.py writes each Hugging Face architecture it shares with QuantKit: the
/// GGUF architecture, whether q/k rows are permuted for llama.cpp's adjacent-pair RoPE (llama
/// only; Qwen runs NEOX RoPE on the rows as stored), and the extra per-layer tensors. One row per
/// architecture; the inference core's side is `ModelArchitecture` (Sources/Inference/Architectures).
public struct HFArchitecture: Sendable, Equatable {
    /// `architectures[0]` in config.json.
    public let hfName: String
    /// `general.architecture`.
    public let ggufName: String
    /// q_proj/k_proj rows reordered per head from rotate-half to adjacent pairs (`LlamaModel.permute`).
    public let permutesQueryKeyRows: Bool
    /// q/k/v projection biases: required (Qwen2), allowed when `attention_bias` says so, or refused.
    public let attentionBiases: Presence
    /// Per-head RMSNorm weights of q and k (`self_attn.q_norm`, Qwen3).
    public let queryKeyNorms: Bool

    public enum Presence: Sendable, Equatable { case never, ifConfigured, always }

    public static let all: [HFArchitecture] = [
        HFArchitecture(hfName: "LlamaForCausalLM", ggufName: "llama", permutesQueryKeyRows: true, attentionBiases: .never, queryKeyNorms: false),
        HFArchitecture(hfName: "MistralForCausalLM", ggufName: "llama", permutesQueryKeyRows: true, attentionBiases: .never, queryKeyNorms: false),
        HFArchitecture(hfName: "Qwen2ForCausalLM", ggufName: "qwen2", permutesQueryKeyRows: false, attentionBiases: .always, queryKeyNorms: false),
        HFArchitecture(hfName: "Qwen3ForCausalLM", ggufName: "qwen3", permutesQueryKeyRows: false, attentionBiases: .ifConfigured, queryKeyNorms: true),
    ]

    public static func named(_ hfName: String) -> HFArchitecture? { all.first { $0.hfName == hfName } }

    /// GGUF architectures the converter reads and writes.
    public static var ggufNames: [String] { Array(Set(all.map(\.ggufName))).sorted() }
}
