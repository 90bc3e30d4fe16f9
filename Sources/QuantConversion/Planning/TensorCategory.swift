/// The broad role of a tensor, from its GGUF name, as llama.cpp's quantizer classifies it
/// (`tensor_get_category` in llama-quant.cpp): mix presets give roles, not names, their types.
public enum TensorCategory: String, Sendable, CaseIterable {
    case tokenEmbedding, attentionQ, attentionK, attentionV, attentionQKV, attentionKVB
    case attentionOutput, ffnUp, ffnGate, ffnDown, output, other

    private enum Match { case exact, substring }

    /// Checked in order; the first match wins (so "attn_qkv" is tested before "attn_q").
    private static let table: [(String, Match, TensorCategory)] = [
        ("output.weight", .exact, .output),
        ("token_embd.weight", .exact, .tokenEmbedding),
        ("per_layer_token_embd.weight", .exact, .tokenEmbedding),
        ("attn_qkv.weight", .substring, .attentionQKV),
        ("attn_kv_b.weight", .substring, .attentionKVB),
        ("attn_v.weight", .substring, .attentionV),
        ("attn_k.weight", .substring, .attentionK),
        ("attn_q.weight", .substring, .attentionQ),
        ("attn_output.weight", .substring, .attentionOutput),
        ("ffn_up", .substring, .ffnUp),
        ("ffn_gate", .substring, .ffnGate),
        ("ffn_down", .substring, .ffnDown),
    ]

    public init(tensorName name: String) {
        for (pattern, match, category) in Self.table {
            if match == .exact ? name == pattern : name.contains(pattern) {
                self = category
                return
            }
        }
        self = .other
    }

    /// attn_v-like tensors, which llama.cpp treats as the most sensitive to quantization.
    public var isAttentionValueLike: Bool { self == .attentionV || self == .attentionQKV || self == .attentionKVB }

    /// N of a `blk.N.…` tensor name; nil outside the blocks.
    public static func layerIndex(of name: String) -> Int? {
        guard name.hasPrefix("blk.") else { return nil }
        return Int(name.dropFirst(4).prefix { $0.isNumber })
    }

    /// Whether llama.cpp quantizes a tensor at all (`tensor_allows_quantization`): only 2-D+
    /// `*weight` tensors, never norms, expert routers or the small special tables listed here.
    public static func allowsQuantization(name: String, dimensions: Int) -> Bool {
        guard dimensions >= 2, name.hasSuffix("weight") else { return false }
        return !neverQuantizedFragments.contains { name.contains($0) }
    }

    private static let neverQuantizedFragments = [
        "_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel",
        "per_layer_model_proj", "position_embd", "token_types", "ssm_conv1d", "shortconv.conv.weight",
        "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
        "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight",
        "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
        "time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight",
        "attn_rel_b.weight",
    ]
}
