import CBLAS
import Dispatch
import Foundation
import Inference
import QuantConversion
import QuantCore
import QuantFormats

/// SmoothQuant (Xiao et al., 2023): migrate activation outliers into the weights with per-channel
/// scales s_j = max|X_j|^α / max|W_:,j|^(1−α), folded into attn_norm (→ q, k, v) and ffn_norm
/// (→ gate, up), and optionally into ffn_up (→ down) and attn_v (→ output); see `SmoothingSite`.
/// With `.auto`, α is searched per layer and site on the grid 0, 0.05, …, 1 (or the site is left
/// unsmoothed when no α helps), minimizing the W8A8 output error (per-channel int8 weights, per-token int8 activations) on the
/// calibration samples, as Intel Neural Compressor's auto-tuning does.
public enum SmoothQuant {
    public enum Alpha: Sendable, Equatable {
        case fixed(Float)
        case auto
    }

    public enum SmoothQuantError: Error, CustomStringConvertible {
        case missingStatistics(key: String)
        case widthMismatch(key: String, statistics: Int, model: Int)
        case noSamples(key: String)
        case quantizedSource(tensor: String, type: String)
        case missingTensor(String)
        /// A producer with a bias (Qwen2's attn_v): X/s would need the bias divided too, which
        /// the fold does not do, so the site is refused rather than changing the function.
        case producerHasBias(site: String, bias: String)

        public var description: String {
            switch self {
            case let .missingStatistics(key): return "the statistics file has no entry '\(key)' — was it made from this model?"
            case let .widthMismatch(key, statistics, model): return "statistics entry '\(key)' has \(statistics) channels, the model's tensors \(model)"
            case let .noSamples(key): return "--smoothquant auto needs activation samples, and '\(key)' has none (calibrate with --sample-rows > 0)"
            case let .quantizedSource(tensor, type): return "SmoothQuant rescales weights and needs a float source; '\(tensor)' is \(type)"
            case let .missingTensor(name): return "the model has no tensor '\(name)'"
            case let .producerHasBias(site, bias):
                return "site '\(site)' cannot be folded: its producer has a bias ('\(bias)'); use --smoothquant-sites norms"
            }
        }
    }

    public static let grid: [Float] = (0...20).map { Float($0) / 20 }

    /// Computes the smoothing of every layer's `sites` from the source weights and the statistics.
    public static func plan(source: any ConversionSource, statistics: ActivationStatistics, alpha: Alpha,
                            sites kinds: [SmoothingSite] = SmoothingSite.allCases, threads: Int,
                            progress: (Int, Int) -> Void = { _, _ in }) throws -> SmoothQuantPlan {
        let searched: [Float]
        switch alpha {
        case let .fixed(value): searched = [value]
        case .auto: searched = grid
        }
        let analyses = try analyze(source: source, statistics: statistics, searching: searched, requiringSamples: alpha == .auto,
                                   sites: kinds, threads: threads, progress: progress)
        return SmoothQuantPlan(sites: analyses.map { site in
            switch alpha {
            case let .fixed(value):
                return site.site(alpha: value, errors: (site.errorWithout, site.gridErrors.first))
            case .auto:
                let best = site.gridErrors.indices.min { site.gridErrors[$0] < site.gridErrors[$1] }!
                // "Leave it alone" is a candidate too: some sites have no outliers worth moving.
                return site.gridErrors[best] < site.errorWithout!
                    ? site.site(alpha: grid[best], errors: (site.errorWithout, site.gridErrors[best]))
                    : site.site(alpha: nil, errors: (site.errorWithout, site.errorWithout))
            }
        })
    }

    /// What one site's smoothing can be: the channel maxima that give s for any α, and the W8A8
    /// layer-output error on the calibration samples without smoothing and for each α searched.
    struct SiteAnalysis {
        let layer: Int
        let kind: SmoothingSite
        let groups: ChannelGroups
        let activationMax: [Float]
        let weightMax: [Float]
        /// nil when the statistics hold no samples of this site.
        let errorWithout: Double?
        /// The error for each α searched (empty without samples).
        let gridErrors: [Double]

        /// The producer's scales (one per group) for `alpha`.
        func producerScales(alpha: Float) -> [Float] {
            SmoothQuant.scales(activationMax: activationMax, weightMax: weightMax, alpha: alpha)
        }

        /// The consumers' scales (one per input channel) for `alpha`.
        func scales(alpha: Float) -> [Float] { groups.expand(producerScales(alpha: alpha)) }

        /// The plan entry for `alpha` (nil: unsmoothed, all scales 1), with the criterion's values
        /// without smoothing and with it.
        func site(alpha: Float?, errors: (without: Double?, with: Double?) = (nil, nil)) -> SmoothQuantPlan.Site {
            let producer = alpha.map { producerScales(alpha: $0) } ?? [Float](repeating: 1, count: groups.count)
            return SmoothQuantPlan.Site(layer: layer, site: kind, alpha: alpha, scales: groups.expand(producer), producerScales: producer,
                                        errorWithout: errors.without, errorWith: errors.with)
        }
    }

    /// Every layer's `sites` analysed, with the W8A8 error measured for each α of `searching`
    /// where the statistics hold activation samples (an error without them if `requiringSamples`;
    /// no layer errors at all when `alphas` is empty, as for `tuned`, which measures the model).
    static func analyze(source: any ConversionSource, statistics: ActivationStatistics, searching alphas: [Float], requiringSamples: Bool,
                        sites kinds: [SmoothingSite], threads: Int, progress: (Int, Int) -> Void = { _, _ in }) throws -> [SiteAnalysis] {
        openblas_set_num_threads(1)  // the α grid is spread over the cores instead
        let index = Dictionary(uniqueKeysWithValues: source.tensors.enumerated().map { ($1.name, $0) })
        let layers = Set(source.tensors.compactMap { TensorCategory.layerIndex(of: $0.name) }).sorted()
        let arch = source.metadata.architecture ?? "llama"
        let heads = Int(source.metadata.integer(GGUFKey.LLM.headCount.key(arch)) ?? 1)
        let kvHeads = Int(source.metadata.integer(GGUFKey.LLM.headCountKV.key(arch)) ?? Int64(heads))
        var analyses: [SiteAnalysis] = []
        let work = layers.flatMap { l in kinds.map { (l, $0) } }
        for (done, (layer, kind)) in work.enumerated() {
            let site = kind.activationSite
            let key = site.key(layer: layer)
            let producer = kind.producer(layer: layer).name
            let bias = producer.replacingOccurrences(of: ".weight", with: ".bias")
            if producer.hasSuffix(".weight"), index[bias] != nil { throw SmoothQuantError.producerHasBias(site: key, bias: bias) }
            guard let entry = statistics.entry(site, layer: layer) else { throw SmoothQuantError.missingStatistics(key: key) }
            let weights = try site.tensorNames(layer: layer).map { try floats(of: $0, in: source, index: index) }
            let columns = weights[0].columns
            guard entry.columns == columns else { throw SmoothQuantError.widthMismatch(key: key, statistics: entry.columns, model: columns) }
            let stacked = SiteWeights(values: weights.flatMap(\.values), rows: weights.reduce(0) { $0 + $1.rows }, columns: columns)
            // attn_output's input channels of q heads that share a KV head must share a scale.
            let groups = kind == .attentionOutputInput
                ? ChannelGroups(channels: columns, heads: heads, kvHeads: kvHeads) : ChannelGroups(identity: columns)
            if requiringSamples && entry.sampleRows == 0 { throw SmoothQuantError.noSamples(key: key) }
            let maxima = SiteAnalysis(layer: layer, kind: kind, groups: groups, activationMax: groups.reduce(entry.maxAbs),
                                      weightMax: groups.reduce(stacked.columnMaxAbs()), errorWithout: nil, gridErrors: [])
            guard entry.sampleRows > 0, !alphas.isEmpty else {
                analyses.append(maxima)
                progress(done + 1, work.count)
                continue
            }
            // The samples and weights are held for this site only: all sites' would be ~1.4 GB.
            let problem = SearchProblem(samples: entry.samples, sampleRows: entry.sampleRows, weights: stacked)
            analyses.append(SiteAnalysis(layer: layer, kind: kind, groups: groups, activationMax: maxima.activationMax,
                                         weightMax: maxima.weightMax, errorWithout: problem.error(scales: nil),
                                         gridErrors: problem.errors(for: alphas.map { maxima.scales(alpha: $0) }, threads: threads)))
            progress(done + 1, work.count)
        }
        return analyses
    }

    /// Channels that must share one scale: for attn_output's input, channel i of every q head
    /// reading KV head g maps to V channel g·d_head + i; elsewhere each channel is its own group.
    struct ChannelGroups {
        /// Group of each channel.
        let group: [Int]
        let count: Int

        init(identity channels: Int) {
            group = Array(0..<channels)
            count = channels
        }

        init(channels: Int, heads: Int, kvHeads: Int) {
            let headDimension = channels / max(heads, 1), perGroup = max(heads / max(kvHeads, 1), 1)
            group = (0..<channels).map { c in (c / headDimension) / perGroup * headDimension + c % headDimension }
            count = kvHeads * headDimension
        }

        /// The maximum over each group's channels.
        func reduce(_ values: [Float]) -> [Float] {
            var result = [Float](repeating: 0, count: count)
            for (c, g) in group.enumerated() { result[g] = max(result[g], values[c]) }
            return result
        }

        func expand(_ values: [Float]) -> [Float] { group.map { values[$0] } }
    }

    /// s_j = max|X_j|^α / max|W_:,j|^(1−α), with both maxima floored at 1e-5 (a dead channel gets
    /// a finite scale) and s clamped to [1e-5, 1e5] so a fold never overflows.
    public static func scales(activationMax: [Float], weightMax: [Float], alpha: Float) -> [Float] {
        zip(activationMax, weightMax).map { x, w in
            let s = powf(max(x, 1e-5), alpha) / powf(max(w, 1e-5), 1 - alpha)
            return min(max(s, 1e-5), 1e5)
        }
    }

    struct SiteWeights {
        var values: [Float]
        var rows: Int
        var columns: Int
        func columnMaxAbs() -> [Float] {
            var result = [Float](repeating: 0, count: columns)
            for r in 0..<rows { for j in 0..<columns { result[j] = max(result[j], abs(values[r * columns + j])) } }
            return result
        }
    }

    static func floats(of name: String, in source: any ConversionSource, index: [String: Int]) throws -> SiteWeights {
        guard let i = index[name] else { throw SmoothQuantError.missingTensor(name) }
        let tensor = source.tensors[i]
        guard !tensor.type.traits!.isQuantized else { throw SmoothQuantError.quantizedSource(tensor: name, type: tensor.type.name) }
        return SiteWeights(values: try source.floats(i), rows: Int(tensor.rowCount), columns: Int(tensor.rowLength))
    }

    /// W8A8 error of one site on its calibration samples: Y = X·Wᵀ against
    /// Q(X / s) · Q(W · diag(s))ᵀ with per-token and per-channel symmetric int8.
    struct SearchProblem {
        let samples: [Float]
        let sampleRows: Int
        let weights: SiteWeights
        let reference: [Float]
        let referenceEnergy: Double

        init(samples: [Float], sampleRows: Int, weights: SiteWeights) {
            self.samples = samples
            self.sampleRows = sampleRows
            self.weights = weights
            reference = Self.product(samples, rows: sampleRows, weights.values, outputs: weights.rows, columns: weights.columns)
            referenceEnergy = reference.reduce(0) { $0 + Double($1) * Double($1) }
        }

        func error(scales: [Float]?) -> Double {
            let n = weights.columns
            var x = samples, w = weights.values
            if let scales {
                for r in 0..<sampleRows { for j in 0..<n { x[r * n + j] /= scales[j] } }
                for r in 0..<weights.rows { for j in 0..<n { w[r * n + j] *= scales[j] } }
            }
            Self.fakeQuantize(&x, rows: sampleRows, columns: n)
            Self.fakeQuantize(&w, rows: weights.rows, columns: n)
            let y = Self.product(x, rows: sampleRows, w, outputs: weights.rows, columns: n)
            var energy = 0.0
            for i in y.indices { let e = Double(y[i] - reference[i]); energy += e * e }
            return energy / max(referenceEnergy, .leastNormalMagnitude)
        }

        func errors(for candidates: [[Float]], threads: Int) -> [Double] {
            var results = [Double](repeating: 0, count: candidates.count)
            results.withUnsafeMutableBufferPointer { out in
                let box = UnsafeSendable(out.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: candidates.count) { box.value[$0] = error(scales: candidates[$0]) }
            }
            return results
        }

        /// Rows replaced by their symmetric-int8 reconstruction (the values int8 arithmetic sees).
        static func fakeQuantize(_ values: inout [Float], rows: Int, columns: Int) {
            var q = [Int16](repeating: 0, count: columns)
            values.withUnsafeMutableBufferPointer { v in
                for r in 0..<rows {
                    let row = v.baseAddress! + r * columns
                    let scale = SymmetricInt8.quantizeRow(row, count: columns, into: &q)
                    for j in 0..<columns { row[j] = Float(q[j]) * scale }
                }
            }
        }

        static func product(_ x: [Float], rows: Int, _ w: [Float], outputs: Int, columns: Int) -> [Float] {
            var y = [Float](repeating: 0, count: rows * outputs)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(columns), 1,
                        x, Int32(columns), w, Int32(columns), 0, &y, Int32(outputs))
            return y
        }
    }
}

/// A pointer shared with `concurrentPerform` workers that write disjoint elements.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
