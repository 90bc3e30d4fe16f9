import QuantFormats

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

    /// The weight tensors this activation multiplies.
    public var tensors: [LlamaTensor] {
        switch self {
        case .attentionInput: [.attentionQ, .attentionK, .attentionV]
        case .attentionOutputInput: [.attentionOutput]
        case .ffnInput: [.ffnGate, .ffnUp]
        case .ffnDownInput: [.ffnDown]
        case .outputInput: [.output]
        }
    }

    /// The GGUF weight tensors this activation multiplies, for layer `layer`.
    public func tensorNames(layer: Int) -> [String] { tensors.map { $0.name(layer: layer) } }

    /// A stable name for statistics files: `blk.<layer>.<site>`, or the site alone for the output.
    public func key(layer: Int) -> String { self == .outputInput ? rawValue : "blk.\(layer).\(rawValue)" }
}

/// Sees every linear layer's input during a forward pass (calibration: activation statistics).
/// Called on the forward pass's thread with `tokens` rows of `width` floats, row-major; the
/// buffer is only valid during the call.
public protocol ActivationObserver: AnyObject {
    func observe(_ site: ActivationSite, layer: Int, values: UnsafeBufferPointer<Float>, tokens: Int, width: Int)
}
