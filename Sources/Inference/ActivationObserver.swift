/// Where in the forward pass an activation matrix is observed: the input of one group of linear
/// layers (the tensors that multiply it).
public enum ActivationSite: String, CaseIterable, Sendable, Codable {
    /// attn_norm's output, the input of attn_q, attn_k and attn_v.
    case attentionInput = "attn_in"
    /// The attention heads' output, the input of attn_output.
    case attentionOutputInput = "attn_out_in"
    /// ffn_norm's output, the input of ffn_gate and ffn_up.
    case ffnInput = "ffn_in"
    /// silu(gate)·up, the input of ffn_down; one column per FFN neuron.
    case ffnDownInput = "ffn_down_in"
    /// output_norm's output, the input of the output head (not per layer).
    case outputInput = "output_in"

    /// The GGUF weight tensors this activation multiplies, for layer `layer`.
    public func tensorNames(layer: Int) -> [String] {
        let block = "blk.\(layer)."
        switch self {
        case .attentionInput: return ["attn_q", "attn_k", "attn_v"].map { block + $0 + ".weight" }
        case .attentionOutputInput: return [block + "attn_output.weight"]
        case .ffnInput: return [block + "ffn_gate.weight", block + "ffn_up.weight"]
        case .ffnDownInput: return [block + "ffn_down.weight"]
        case .outputInput: return ["output.weight"]
        }
    }

    /// A stable name for statistics files: `blk.<layer>.<site>`, or the site alone for the output.
    public func key(layer: Int) -> String { self == .outputInput ? rawValue : "blk.\(layer).\(rawValue)" }
}

/// Sees every linear layer's input during a forward pass (calibration: activation statistics).
/// Called on the forward pass's thread with `tokens` rows of `width` floats, row-major; the
/// buffer is only valid during the call.
public protocol ActivationObserver: AnyObject {
    func observe(_ site: ActivationSite, layer: Int, values: UnsafeBufferPointer<Float>, tokens: Int, width: Int)
}
