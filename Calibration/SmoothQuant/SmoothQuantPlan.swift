import Inference
import QuantFormats

/// Where SmoothQuant can fold a site's scales so that the float model is unchanged: the tensor
/// that produces the activation absorbs 1/s, the tensors that consume it absorb s.
///
/// The paper (and the issue) fold into the RMSNorms in front of q/k/v and gate/up. The same
/// algebra holds exactly for two more sites of a llama block, which is where W8A8 hurts most
/// on SmolLM2: ffn_down's input silu(gate)·up is linear in up's rows, and attn_output's input
/// is a convex mix of v's rows (per KV head, so heads sharing a KV head share scales).
public enum SmoothingSite: String, CaseIterable, Sendable, Codable {
    case attentionInput = "attn_in", ffnInput = "ffn_in", ffnDownInput = "ffn_down_in", attentionOutputInput = "attn_out_in"

    public var activationSite: ActivationSite {
        switch self {
        case .attentionInput: return .attentionInput
        case .ffnInput: return .ffnInput
        case .ffnDownInput: return .ffnDownInput
        case .attentionOutputInput: return .attentionOutputInput
        }
    }

    /// The tensor that produces the activation and how it absorbs 1/s.
    public func producer(layer: Int) -> (name: String, fold: SmoothQuantPlan.Transform.Kind) {
        switch self {
        case .attentionInput: return (LlamaTensor.attentionNorm.name(layer: layer), .divideElements)
        case .ffnInput: return (LlamaTensor.ffnNorm.name(layer: layer), .divideElements)
        case .ffnDownInput: return (LlamaTensor.ffnUp.name(layer: layer), .divideRows)
        case .attentionOutputInput: return (LlamaTensor.attentionV.name(layer: layer), .divideRows)
        }
    }

    /// The sites folded into the norms, as in the SmoothQuant paper.
    public static let norms: [SmoothingSite] = [.attentionInput, .ffnInput]
}

/// The smoothing SmoothQuant applies to a model: for each folded site of each layer, per-channel
/// scales s with X' = X / s and W' = W · diag(s) for the weights that consume X. The division is
/// folded into the tensor that produces X, so the model stays a plain llama model and its float
/// outputs are unchanged; only what int8 does to X' and W' changes.
public struct SmoothQuantPlan: Sendable {
    public struct Site: Sendable, Codable {
        public let layer: Int
        public let site: SmoothingSite
        /// nil: the search found no α better than leaving the site alone (all scales 1).
        public let alpha: Float?
        /// One scale per input channel of the consuming weights.
        public let scales: [Float]
        /// The producer's scales (one per KV channel for attn_v; otherwise `scales`).
        public let producerScales: [Float]
        /// The plan's `criterion` without smoothing and with the chosen α (nil when there were no
        /// samples to measure on).
        public let errorWithout: Double?
        public let errorWith: Double?

        enum CodingKeys: String, CodingKey {
            case layer, site, alpha, errorWithout = "w8a8_error_without", errorWith = "w8a8_error_with", scales, producerScales = "producer_scales"
        }
    }

    /// What a site's `errorWithout`/`errorWith` measure.
    public enum Criterion: String, Sendable, Codable {
        /// Relative W8A8 output error ‖Y_w8a8 − Y‖² / ‖Y‖² of the site's consumers on the
        /// calibration samples (`auto`, fixed α).
        case layerOutputError = "layer_output_error"
        /// The model's mean KLD from the float model on the calibration text with this site (and
        /// those decided before it) in W8A8 (`tuned`).
        case modelDivergence = "model_kld"
    }

    public let sites: [Site]
    public let criterion: Criterion
    public init(sites: [Site], criterion: Criterion = .layerOutputError) {
        self.sites = sites
        self.criterion = criterion
    }

    /// One change to a tensor; a tensor may get several (ffn_up consumes ffn_in and produces
    /// ffn_down_in), and they commute: W'[r, j] = W[r, j] · s_in[j] / s_out[r].
    public struct Transform: Sendable {
        public enum Kind: Sendable { case divideElements, divideRows, scaleColumns }
        public let kind: Kind
        public let scales: [Float]
    }

    public var transforms: [String: [Transform]] {
        var result: [String: [Transform]] = [:]
        for site in sites {
            let producer = site.site.producer(layer: site.layer)
            result[producer.name, default: []].append(Transform(kind: producer.fold, scales: site.producerScales))
            for name in site.site.activationSite.tensorNames(layer: site.layer) {
                result[name, default: []].append(Transform(kind: .scaleColumns, scales: site.scales))
            }
        }
        return result
    }

    /// Keys recording the smoothing in the output GGUF: α per layer for each folded site
    /// (−1 where the site was left unsmoothed).
    public var metadata: [GGUFKeyValue] {
        SmoothingSite.allCases.compactMap { kind in
            let alphas = sites.filter { $0.site == kind }.sorted { $0.layer < $1.layer }.map { $0.alpha ?? -1 }
            return alphas.isEmpty ? nil : GGUFKeyValue("quantkit.smoothquant.alpha_\(kind.rawValue)", .array(.float32(alphas)))
        }
    }

    /// Importance (mean x²) as seen after smoothing: x' = x / s, so mean x'² = mean x² / s².
    public func adjust(importance: [String: [Float]]) -> [String: [Float]] {
        var adjusted = importance
        for (name, list) in transforms {
            for transform in list where transform.kind == .scaleColumns {
                guard let values = adjusted[name], values.count == transform.scales.count else { continue }
                adjusted[name] = zip(values, transform.scales).map { $0 / ($1 * $1) }
            }
        }
        return adjusted
    }

    /// Second moments as seen after smoothing: x' = x / s, so E[x'ᵢx'ⱼ] = E[xᵢxⱼ] / (sᵢsⱼ)
    /// (packed upper triangles, as `ActivationStatistics.hessians`).
    public func adjust(hessians: [String: [Float]]) -> [String: [Float]] {
        var adjusted = hessians
        for (name, list) in transforms {
            for transform in list where transform.kind == .scaleColumns {
                let s = transform.scales, n = s.count
                guard var packed = adjusted[name], packed.count == n * (n + 1) / 2 else { continue }
                var k = 0
                for i in 0..<n { for j in i..<n { packed[k] /= s[i] * s[j]; k += 1 } }
                adjusted[name] = packed
            }
        }
        return adjusted
    }
}

extension SmoothQuantPlan.Transform {
    /// Applies the change to a row-major tensor of `columns` per row (a norm is one row).
    func apply(to values: inout [Float], columns: Int) {
        switch kind {
        case .divideElements:
            for j in values.indices { values[j] /= scales[j % columns] }
        case .scaleColumns:
            for j in values.indices { values[j] *= scales[j % columns] }
        case .divideRows:
            for j in values.indices { values[j] /= scales[j / columns] }
        }
    }
}
