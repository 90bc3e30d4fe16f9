import Inference
import QuantCore
import QuantFormats

/// Outlier channel splitting (Zhao et al., 2019, "Improving Neural Network Quantization without
/// Retraining using Outlier Channel Splitting"), applied to ffn_down's input h = silu(gate)·up:
/// FFN neuron j is duplicated m_j times, each copy's up row scaled by 1/m_j, and ffn_down's column j
/// copied to every duplicate. The float model computes exactly the same (the m copies add up to
/// the original), but the neuron's activation is m_j times smaller.
///
/// Why this and not only SmoothQuant: W8A8 rounds each token's activations with one scale,
/// max |h| / 127, so one massive neuron wipes out the others. SmoothQuant shrinks it by moving the
/// factor into ffn_down's column — which raises that column in every row, and so the per-row int8
/// weight scale of every output. Splitting shrinks it without making any weight larger; it costs
/// `extraChannels` more FFN neurons per layer (+2 % of the FFN weights for 32 on SmolLM2-135M).
public struct OutlierSplitPlan: Sendable, Equatable {
    public enum SplitError: Error, CustomStringConvertible {
        case missingStatistics(key: String)
        case widthMismatch(key: String, statistics: Int, model: Int)
        case noFeedForwardLength
        case invalidCount(Int)

        public var description: String {
            switch self {
            case let .missingStatistics(key): return "--split-outliers needs the statistics entry '\(key)' — was the statistics file made from this model?"
            case let .widthMismatch(key, statistics, model): return "statistics entry '\(key)' has \(statistics) channels, the model's FFN \(model)"
            case .noFeedForwardLength: return "--split-outliers needs the model's <arch>.feed_forward_length"
            case let .invalidCount(count): return "--split-outliers takes a positive number of neurons per layer, not \(count)"
            }
        }
    }

    /// One layer's splitting.
    public struct Layer: Sendable, Equatable {
        /// The original neuron each appended neuron copies (its index in the original FFN).
        public let origins: [Int]
        /// 1/m_j per original neuron: the share of its activation each of its m_j copies carries.
        public let shares: [Float]

        /// The original neuron behind neuron `channel` of the split FFN.
        public func origin(of channel: Int) -> Int { channel < shares.count ? channel : origins[channel - shares.count] }
        public var width: Int { shares.count + origins.count }
    }

    /// The FFN width before splitting.
    public let feedForwardLength: Int
    public let extraChannels: Int
    public let layers: [Int: Layer]

    /// Splits, in every layer, the neurons with the largest max |h| on the calibration corpus:
    /// each of the `extraChannels` copies goes to the neuron whose largest copy is largest, so the
    /// layer's worst activation, max_j max|h_j| / m_j, is as small as that many copies make it.
    public init(statistics: ActivationStatistics, layers: [Int], feedForwardLength: Int, extraChannels: Int) throws {
        guard extraChannels > 0 else { throw SplitError.invalidCount(extraChannels) }
        var result: [Int: Layer] = [:]
        for layer in layers {
            let key = ActivationSite.ffnDownInput.key(layer: layer)
            guard let entry = statistics.entry(.ffnDownInput, layer: layer) else { throw SplitError.missingStatistics(key: key) }
            guard entry.columns == feedForwardLength else {
                throw SplitError.widthMismatch(key: key, statistics: entry.columns, model: feedForwardLength)
            }
            var copies = [Int](repeating: 1, count: feedForwardLength), origins: [Int] = []
            for _ in 0..<extraChannels {
                var best = 0
                for j in 1..<feedForwardLength where entry.maxAbs[j] / Float(copies[j]) > entry.maxAbs[best] / Float(copies[best]) { best = j }
                copies[best] += 1
                origins.append(best)
            }
            result[layer] = Layer(origins: origins.sorted(), shares: copies.map { 1 / Float($0) })
        }
        self.feedForwardLength = feedForwardLength
        self.extraChannels = extraChannels
        self.layers = result
    }

    /// The plan for every layer of `source`, whose FFN width is its `<arch>.feed_forward_length`.
    public init(statistics: ActivationStatistics, source: any ConversionSource, extraChannels: Int) throws {
        let architecture = source.metadata.architecture ?? "llama"
        guard let length = source.metadata.integer("\(architecture).feed_forward_length"), length > 0 else { throw SplitError.noFeedForwardLength }
        let layers = Set(source.tensors.compactMap { TensorCategory.layerIndex(of: $0.name) }).sorted()
        try self.init(statistics: statistics, layers: layers, feedForwardLength: Int(length), extraChannels: extraChannels)
    }

    /// The hyper-parameter that changes and the record of what was done.
    public func metadata(architecture: String) -> [GGUFKeyValue] {
        [.init("\(architecture).feed_forward_length", .uint32(UInt32(feedForwardLength + extraChannels))),
         .init("quantkit.outlier_split.extra_channels", .uint32(UInt32(extraChannels)))]
    }

    /// The statistics the split model would have produced on the same corpus: a copy of neuron j
    /// sees h_j / m_j, so its max scales by 1/m_j, its mean square by 1/m_j², its samples likewise.
    /// Activity fractions are copied (a copy is active when |h_j| / m_j passes the threshold, which
    /// the statistics cannot tell; they only describe the model, no transform reads them).
    /// Hessians are dropped: nothing that combines with splitting uses them.
    public func adjust(_ statistics: ActivationStatistics) -> ActivationStatistics {
        var adjusted = statistics
        for (layer, split) in layers {
            let key = ActivationSite.ffnDownInput.key(layer: layer)
            guard let entry = statistics.entries[key] else { continue }
            let channels = (0..<split.width).map { (origin: split.origin(of: $0), share: split.shares[split.origin(of: $0)]) }
            var samples: [Float] = []
            samples.reserveCapacity(entry.sampleRows * split.width)
            for r in 0..<entry.sampleRows {
                for c in channels { samples.append(entry.samples[r * entry.columns + c.origin] * c.share) }
            }
            var expanded = ActivationStatistics.Entry(columns: split.width,
                                                      meanSquare: channels.map { entry.meanSquare[$0.origin] * $0.share * $0.share },
                                                      maxAbs: channels.map { entry.maxAbs[$0.origin] * $0.share },
                                                      activeFraction: entry.activeFraction.map { fractions in channels.map { fractions[$0.origin] } },
                                                      samples: samples)
            expanded.hessian = nil
            adjusted.entries[key] = expanded
        }
        for key in adjusted.entries.keys { adjusted.entries[key]?.hessian = nil }
        return adjusted
    }
}
