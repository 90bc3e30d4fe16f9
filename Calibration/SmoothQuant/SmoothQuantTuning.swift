import Foundation
import Inference
import QuantConversion
import QuantCore

/// `--smoothquant tuned`: α per layer and site chosen by what the model itself measures — the KL
/// divergence of its next-token distributions from the float model's on calibration text, with
/// the site in W8A8 — instead of by the layer's own output error.
///
/// Why: on SmolLM2-135M the layer-output objective of `auto` picks α = 0.9 for blk.0's ffn_down
/// input (its W8A8 error 0.0012 → 0.00051), yet with only that tensor in W8A8 the model's
/// wikitext KLD rises from 0.0017 to 0.0026 (3 chunks); blk.28 and blk.29 do the same. Summed
/// over ffn_down, `auto` is worse than no smoothing there (0.0113 against 0.0101). A layer-output
/// error weighs every sampled token by its output energy, while the model's loss depends on how
/// the error lands in the residual stream (and in tokens like BOS that every position attends to).
///
/// The search is greedy in execution order: layer by layer, site by site, each candidate α is
/// folded into the float weights, the site's consumers (and those of sites already decided in
/// this layer) are switched to W8A8, and the model runs from this layer's entry — the residual
/// stream of the model with every earlier layer already in its tuned W8A8 form, so errors
/// compound as they will at evaluation. Later layers stay float, so every candidate is judged
/// with the same downstream network.
public enum SmoothQuantTuning {
    /// α candidates tried per site, besides "unsmoothed": a coarse pass, then the grid's two
    /// neighbours (±0.1, then ±0.05) of the best coarse α.
    static let coarse: [Float] = [0.2, 0.4, 0.6, 0.8, 1.0]

    public struct Outcome: Sendable {
        public let plan: SmoothQuantPlan
        /// Model KLD on the calibration text after each site was decided (the last is the whole
        /// model's with every block in W8A8; the output head and embedding stay as stored).
        public let divergences: [Double]
        public let runs: Int
        public let seconds: Double
    }

    public static func tune(source: any ConversionSource, statistics: ActivationStatistics, model: LlamaModel,
                            corpus: CalibrationCorpus, sites kinds: [SmoothingSite] = SmoothingSite.allCases, threads: Int,
                            progress: (_ done: Int, _ total: Int, _ label: String) -> Void = { _, _, _ in }) throws -> Outcome {
        let start = Date()
        let analyses = try SmoothQuant.analyze(source: source, statistics: statistics, searching: [], requiringSamples: false,
                                               sites: kinds, threads: threads)
        progress(0, analyses.count, "float reference")  // starts the clock before the first site
        let reference = try ReferenceRun(model: model, corpus: corpus)
        let distribution = ReferenceDistribution(logits: reference.logits, vocabulary: model.configuration.vocabularySize, threads: threads)
        let index = Dictionary(uniqueKeysWithValues: source.tensors.enumerated().map { ($1.name, $0) })
        let order: [SmoothingSite] = [.attentionInput, .attentionOutputInput, .ffnInput, .ffnDownInput].filter(kinds.contains)
        let layers = Set(analyses.map(\.layer)).sorted()
        var decided: [SmoothQuantPlan.Site] = [], divergences: [Double] = [], runs = 0
        // The residual stream entering the current layer, per sequence (nil: the embeddings).
        var entries: [[Float]]? = nil
        for layer in layers {
            let tensors = LayerTensors(source: source, index: index)
            var layerSites: [SmoothQuantPlan.Site] = []
            for kind in order {
                guard let analysis = analyses.first(where: { $0.layer == layer && $0.kind == kind }) else { continue }
                var tried: [Float?: Double] = [:]
                func measure(_ alpha: Float?) throws -> Double {
                    if let known = tried[alpha] { return known }
                    let sites = layerSites + [analysis.site(alpha: alpha)]
                    let variant = try variantModel(model, sites: sites, tensors: tensors,
                                                   w8a8: Set(sites.flatMap { $0.site.activationSite.tensorNames(layer: layer) }))
                    let divergence = distribution.meanDivergence(of: try logits(of: variant, corpus: corpus, layer: layer, entries: entries),
                                                                 threads: threads)
                    runs += 1
                    tried[alpha] = divergence
                    return divergence
                }
                for alpha in [nil] + coarse { _ = try measure(alpha) }
                if var best = coarse.min(by: { tried[$0]! < tried[$1]! }) {
                    for step: Float in [0.1, 0.05] {
                        for alpha in [best - step, best + step] where (0...1).contains(alpha) { _ = try measure(alpha) }
                        best = tried.keys.compactMap { $0 }.min { tried[$0]! < tried[$1]! }!
                    }
                }
                let chosen = tried.min { $0.value < $1.value }!
                layerSites.append(analysis.site(alpha: chosen.key, errors: (tried[nil], chosen.value)))
                divergences.append(chosen.value)
                progress(decided.count + layerSites.count, analyses.count, "layer \(layer) \(kind.rawValue)")
            }
            decided += layerSites
            // The next layer enters with this one in its tuned W8A8 form (all its linear layers,
            // smoothed or not, as the evaluation runs them).
            let linear = ActivationSite.allCases.filter { $0 != .outputInput }.flatMap { $0.tensorNames(layer: layer) }
            let tuned = try variantModel(model, sites: layerSites, tensors: tensors, w8a8: Set(linear))
            var next: [[Float]] = []
            for (i, sequence) in corpus.sequences.enumerated() {
                var captured: [Float] = []
                _ = try tuned.forwardAll(sequence, state: try tuned.makeState(contextLength: sequence.count),
                                         entry: entries.map { (layer, $0[i]) }) { if $0 == layer + 1 { captured = $1 } }
                next.append(captured)
            }
            entries = next
        }
        return Outcome(plan: SmoothQuantPlan(sites: decided, criterion: .modelDivergence), divergences: divergences, runs: runs,
                       seconds: Date().timeIntervalSince(start))
    }

    /// `model` with `sites` (all in one layer) folded into its float weights and the tensors
    /// `w8a8` in W8A8.
    static func variantModel(_ model: LlamaModel, sites: [SmoothQuantPlan.Site], tensors: LayerTensors,
                             w8a8: Set<String>) throws -> LlamaModel {
        var replaced: [String: [Float]] = [:]
        for (name, list) in SmoothQuantPlan(sites: sites).transforms {
            var (values, rowLength) = try tensors.floats(name)
            for transform in list { transform.apply(to: &values, columns: rowLength) }
            replaced[name] = values
        }
        let variant = try model.replacingTensors(replaced)
        variant.enableW8A8(only: w8a8)
        return variant
    }

    /// One layer's source tensors as floats, decoded once however many candidates fold them.
    final class LayerTensors {
        let source: any ConversionSource
        let index: [String: Int]
        private var cache: [String: [Float]] = [:]

        init(source: any ConversionSource, index: [String: Int]) {
            self.source = source
            self.index = index
        }

        func floats(_ name: String) throws -> (values: [Float], rowLength: Int) {
            guard let i = index[name] else { throw SmoothQuant.SmoothQuantError.missingTensor(name) }
            if cache[name] == nil { cache[name] = try source.floats(i) }
            return (cache[name]!, Int(source.tensors[i].rowLength))
        }
    }

    /// Logits over the corpus of a model that differs from the float model from block `layer` on,
    /// entering there with `entries` (nil: from the embeddings).
    static func logits(of variant: LlamaModel, corpus: CalibrationCorpus, layer: Int, entries: [[Float]]?) throws -> [Float] {
        var all: [Float] = []
        for (i, sequence) in corpus.sequences.enumerated() {
            all += try variant.forwardAll(sequence, state: try variant.makeState(contextLength: sequence.count),
                                          entry: entries.map { (layer, $0[i]) })
        }
        return all
    }
}
