/// The llama family's GGUF tensor names (gguf-py `constants.py` `TENSOR_NAMES` for
/// `MODEL_ARCH.LLAMA`, `QWEN2`, `QWEN3`), spelled here once: the weights loader, activation sites,
/// the Hugging Face name map, rotation, permutation and SmoothQuant all name tensors through this
/// table.
public enum LlamaTensor: String, CaseIterable, Sendable {
    case tokenEmbedding = "token_embd"
    case outputNorm = "output_norm"
    case output = "output"
    case ropeFrequencies = "rope_freqs"
    case attentionNorm = "attn_norm"
    case attentionQ = "attn_q"
    case attentionK = "attn_k"
    case attentionV = "attn_v"
    case attentionOutput = "attn_output"
    /// Qwen3's per-head RMSNorm weights of queries and keys (one head's width).
    case attentionQNorm = "attn_q_norm"
    case attentionKNorm = "attn_k_norm"
    case ffnNorm = "ffn_norm"
    case ffnGate = "ffn_gate"
    case ffnUp = "ffn_up"
    case ffnDown = "ffn_down"

    /// Whether each block has one (`blk.N.<name>.weight`).
    public var isPerLayer: Bool {
        switch self {
        case .tokenEmbedding, .outputNorm, .output, .ropeFrequencies: false
        default: true
        }
    }

    /// The weight's GGUF name: `blk.<layer>.<name>.weight` for per-layer tensors.
    public func name(layer: Int = 0) -> String { isPerLayer ? "blk.\(layer).\(rawValue).weight" : "\(rawValue).weight" }

    /// The bias's GGUF name, `blk.<layer>.<name>.bias` (Qwen2's q/k/v projections have one).
    public func biasName(layer: Int = 0) -> String { isPerLayer ? "blk.\(layer).\(rawValue).bias" : "\(rawValue).bias" }

    /// The tensor and block a GGUF weight name refers to (nil for names outside the table).
    public static func parse(_ name: String) -> (tensor: LlamaTensor, layer: Int?)? {
        guard name.hasSuffix(".weight") else { return nil }
        let parts = name.dropLast(".weight".count).split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 1, let tensor = LlamaTensor(rawValue: String(parts[0])), !tensor.isPerLayer { return (tensor, nil) }
        guard parts.count == 3, parts[0] == "blk", let layer = Int(parts[1]), layer >= 0,
              let tensor = LlamaTensor(rawValue: String(parts[2])), tensor.isPerLayer else { return nil }
        return (tensor, layer)
    }
}
