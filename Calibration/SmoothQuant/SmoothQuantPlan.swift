import Inference
import QuantFormats

/// The smoothing SmoothQuant applies to a model: for each folded site (the input of q/k/v, the
/// input of gate/up) of each layer, per-channel scales s with X' = X / s and W' = W · diag(s).
/// The division is folded into the RMSNorm weight that produces X, so the model stays a plain
/// llama model and its float outputs are unchanged; only what int8 does to X' and W' changes.
public struct SmoothQuantPlan: Sendable {
    public struct Site: Sendable, Codable {
        public let layer: Int
        public let site: ActivationSite
        public let alpha: Float
        public let scales: [Float]
        /// Relative W8A8 output error ‖Y_w8a8 − Y‖² / ‖Y‖² on the calibration samples, without
        /// smoothing and with the chosen α (nil when there were no samples to measure on).
        public let errorWithout: Double?
        public let errorWith: Double?

        /// The norm whose weight is divided by the scales.
        public var normName: String { "blk.\(layer)." + (site == .attentionInput ? "attn_norm.weight" : "ffn_norm.weight") }

        enum CodingKeys: String, CodingKey { case layer, site, alpha, errorWithout = "w8a8_error_without", errorWith = "w8a8_error_with", scales }
    }

    public let sites: [Site]
    public init(sites: [Site]) { self.sites = sites }

    /// Per tensor name, how it changes: `.divideElements` for norms, `.scaleColumns` for weights.
    public enum Transform: Sendable {
        case divideElements([Float])
        case scaleColumns([Float])
    }

    public var transforms: [String: Transform] {
        var result: [String: Transform] = [:]
        for site in sites {
            result[site.normName] = .divideElements(site.scales)
            for name in site.site.tensorNames(layer: site.layer) { result[name] = .scaleColumns(site.scales) }
        }
        return result
    }

    /// Keys recording the smoothing in the output GGUF (α per layer, attention and FFN).
    public var metadata: [GGUFKeyValue] {
        func alphas(_ kind: ActivationSite) -> [Float] { sites.filter { $0.site == kind }.sorted { $0.layer < $1.layer }.map(\.alpha) }
        return [
            .init("quantkit.smoothquant.alpha_attn", .array(.float32(alphas(.attentionInput)))),
            .init("quantkit.smoothquant.alpha_ffn", .array(.float32(alphas(.ffnInput)))),
        ]
    }

    /// Importance (mean x²) as seen after smoothing: x' = x / s, so mean x'² = mean x² / s².
    public func adjust(importance: [String: [Float]]) -> [String: [Float]] {
        var adjusted = importance
        for case let (name, .scaleColumns(scales)) in transforms {
            guard let values = importance[name], values.count == scales.count else { continue }
            adjusted[name] = zip(values, scales).map { $0 / ($1 * $1) }
        }
        return adjusted
    }
}
