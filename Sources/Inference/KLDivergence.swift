import Foundation

/// KL divergence of a model against a base model, computed in one streaming run: both models
/// evaluate the same chunks (llama-perplexity's windows, second half scored) and per-token
/// statistics are accumulated on the fly — no multi-gigabyte logits file. Reports the numbers
/// `llama-perplexity --kl-divergence` prints.
public struct KLDivergenceResult: Codable, Sendable {
    public struct Estimate: Codable, Sendable {
        public let value: Double
        public let uncertainty: Double
        public init(value: Double, uncertainty: Double) {
            self.value = value
            self.uncertainty = uncertainty
        }
    }

    public let tokens: Int
    public let basePerplexity: Estimate
    public let perplexity: Estimate
    public let meanLogPerplexityRatio: Estimate
    public let perplexityRatio: Estimate
    public let perplexityCorrelation: Double
    public let meanKLD: Estimate
    /// KLD percentiles: "max", "99.9", "99", "95", "90", "median", "10", "5", "1", "0.1", "min".
    public let kldPercentiles: [String: Double]
    /// Δp = p_model(target) − p_base(target): mean, RMS and percentiles.
    public let meanDeltaP: Estimate
    public let rmsDeltaP: Estimate
    public let deltaPPercentiles: [String: Double]
    /// Fraction of positions where both models' most likely token agrees.
    public let sameTopToken: Estimate
    public let seconds: Double

    enum CodingKeys: String, CodingKey {
        case tokens, basePerplexity = "ppl_base", perplexity = "ppl", meanLogPerplexityRatio = "mean_ln_ppl_ratio"
        case perplexityRatio = "ppl_ratio", perplexityCorrelation = "ln_ppl_correlation", meanKLD = "mean_kld"
        case kldPercentiles = "kld_percentiles", meanDeltaP = "mean_delta_p", rmsDeltaP = "rms_delta_p"
        case deltaPPercentiles = "delta_p_percentiles", sameTopToken = "same_top_token", seconds
    }
}

public enum KLDivergence {
    /// Streaming: the base model's logits are computed window by window and not kept.
    public static func evaluate(base: LlamaModel, model: LlamaModel, text: String, context: Int = 512, maxChunks: Int? = nil,
                                batch: Int? = nil, progress: (Int, Int, Double) -> Void = { _, _, _ in }) throws -> KLDivergenceResult {
        let reference = try BaseLogits(model: base, text: text, context: context, maxChunks: maxChunks, batch: batch)
        return try evaluate(base: reference, model: model, progress: progress)
    }

    /// `model` against the base side `base` (its windows, its logits).
    public static func evaluate(base: BaseLogits, model: LlamaModel,
                                progress: (Int, Int, Double) -> Void = { _, _, _ in }) throws -> KLDivergenceResult {
        guard base.model.configuration.vocabularySize == model.configuration.vocabularySize else {
            throw InferenceError.invalidMetadata(key: "vocabulary", message: "the models' vocabularies differ in size (\(base.model.configuration.vocabularySize) vs \(model.configuration.vocabularySize))")
        }
        let baseState = try base.model.makeState(contextLength: base.context), state = try model.makeState(contextLength: base.context)
        let vocabulary = base.model.configuration.vocabularySize
        var kld: [Double] = [], deltaP: [Double] = [], baseNLL: [Double] = [], nll: [Double] = []
        var sameTop = 0
        let start = Date()
        for (index, window) in base.windows.enumerated() {
            state.reset()
            let baseLogits = try base.logits(window: index, state: baseState)
            let logits = try model.evaluate(window: window, state: state, outputs: base.scored, batch: base.batch)
            let rows = compare(baseLogits, logits, targets: Array(window[(base.scored.lowerBound + 1)...]), vocabulary: vocabulary,
                               threads: model.threads)
            for row in rows {
                kld.append(row.divergence)
                deltaP.append(row.deltaP)
                baseNLL.append(row.baseNLL)
                nll.append(row.nll)
                if row.sameTop { sameTop += 1 }
            }
            progress(index + 1, base.windows.count, kld.reduce(0, +) / Double(kld.count))
        }
        let n = Double(kld.count)
        func estimate(_ values: [Double]) -> KLDivergenceResult.Estimate {
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
            return .init(value: mean, uncertainty: values.count > 1 ? (variance / Double(values.count - 1)).squareRoot() : 0)
        }
        let baseMean = estimate(baseNLL), modelMean = estimate(nll)
        let logRatio = estimate(zip(nll, baseNLL).map { $0 - $1 })
        let covariance = zip(nll, baseNLL).reduce(0) { $0 + ($1.0 - modelMean.value) * ($1.1 - baseMean.value) } / n
        let sdModel = (nll.reduce(0) { $0 + ($1 - modelMean.value) * ($1 - modelMean.value) } / n).squareRoot()
        let sdBase = (baseNLL.reduce(0) { $0 + ($1 - baseMean.value) * ($1 - baseMean.value) } / n).squareRoot()
        let sameRate = Double(sameTop) / n
        let rms = (deltaP.reduce(0) { $0 + $1 * $1 } / n).squareRoot()
        let rmsUncertainty = rms > 0 ? estimate(deltaP.map { $0 * $0 }).uncertainty / (2 * rms) : 0
        return KLDivergenceResult(
            tokens: kld.count,
            basePerplexity: .init(value: exp(baseMean.value), uncertainty: exp(baseMean.value) * baseMean.uncertainty),
            perplexity: .init(value: exp(modelMean.value), uncertainty: exp(modelMean.value) * modelMean.uncertainty),
            meanLogPerplexityRatio: logRatio,
            perplexityRatio: .init(value: exp(logRatio.value), uncertainty: exp(logRatio.value) * logRatio.uncertainty),
            perplexityCorrelation: sdModel > 0 && sdBase > 0 ? covariance / (sdModel * sdBase) : 1,
            meanKLD: estimate(kld),
            kldPercentiles: percentiles(kld),
            meanDeltaP: estimate(deltaP),
            rmsDeltaP: .init(value: rms, uncertainty: rmsUncertainty),
            deltaPPercentiles: percentiles(deltaP),
            sameTopToken: .init(value: sameRate, uncertainty: (sameRate * (1 - sameRate) / (n - 1)).squareRoot()),
            seconds: Date().timeIntervalSince(start))
    }

    /// One scored position: the two distributions compared.
    struct RowComparison {
        var divergence = 0.0, deltaP = 0.0, baseNLL = 0.0, nll = 0.0
        var sameTop = false
    }

    /// Compares logits row j of both models at target `targets[j]`, rows spread over the workers
    /// (two log-softmaxes over SmolLM2's 49 152 entries per row, single-threaded, took longer than
    /// the model's forward pass). Each row is computed alone, so results do not depend on `threads`.
    static func compare(_ baseLogits: [Float], _ logits: [Float], targets: [Int32], vocabulary: Int, threads: Int) -> [RowComparison] {
        var rows = [RowComparison](repeating: .init(), count: targets.count)
        baseLogits.withUnsafeBufferPointer { bp in
            logits.withUnsafeBufferPointer { lp in
                rows.withUnsafeMutableBufferPointer { rp in
                    let shared = UnsafeSendableBox((bp.baseAddress!, lp.baseAddress!, rp.baseAddress!))
                    WorkerPool.shared.forEachSlice(targets.count, threads: threads, minimumSlice: 8) { slice in
                        let (baseLogits, logits, out) = shared.value
                        let logBase = UnsafeMutablePointer<Double>.allocate(capacity: vocabulary)
                        let logModel = UnsafeMutablePointer<Double>.allocate(capacity: vocabulary)
                        defer { logBase.deallocate(); logModel.deallocate() }
                        for j in slice {
                            let target = Int(targets[j])
                            let baseTop = logSoftmax(baseLogits + j * vocabulary, vocabulary: vocabulary, into: logBase)
                            let top = logSoftmax(logits + j * vocabulary, vocabulary: vocabulary, into: logModel)
                            var divergence = 0.0
                            for v in 0 ..< vocabulary { divergence += exp(logBase[v]) * (logBase[v] - logModel[v]) }
                            out[j] = RowComparison(divergence: divergence, deltaP: exp(logModel[target]) - exp(logBase[target]),
                                                   baseNLL: -logBase[target], nll: -logModel[target], sameTop: top == baseTop)
                        }
                    }
                }
            }
        }
        return rows
    }

    /// Log-probabilities of one logits row (max-subtracted, sum in double); returns the argmax.
    private static func logSoftmax(_ logits: UnsafePointer<Float>, vocabulary: Int, into out: UnsafeMutablePointer<Double>) -> Int {
        var best = 0
        for i in 0 ..< vocabulary where logits[i] > logits[best] { best = i }
        let maximum = Double(logits[best])
        var sum = 0.0
        for i in 0 ..< vocabulary { sum += exp(Double(logits[i]) - maximum) }
        let logSum = log(sum)
        for i in 0 ..< vocabulary { out[i] = Double(logits[i]) - maximum - logSum }
        return best
    }

    /// llama.cpp's reported percentiles (nearest rank on the sorted values).
    static func percentiles(_ values: [Double]) -> [String: Double] {
        let sorted = values.sorted()
        func at(_ p: Double) -> Double { sorted[min(sorted.count - 1, max(0, Int((p / 100 * Double(sorted.count - 1)).rounded())))] }
        return ["max": sorted.last ?? 0, "99.9": at(99.9), "99": at(99), "95": at(95), "90": at(90), "median": at(50),
                "10": at(10), "5": at(5), "1": at(1), "0.1": at(0.1), "min": sorted.first ?? 0]
    }
}
