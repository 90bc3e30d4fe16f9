import Foundation

/// Perplexity exactly as llama.cpp's `llama-perplexity` measures it: tokenize the whole text
/// once; cut it into non-overlapping chunks of `context` tokens; replace each chunk's first token
/// with BOS when the vocabulary adds BOS; score only the second half (the logits at positions
/// context/2 … context−2 predict the next token); PPL = exp(mean NLL) with uncertainty
/// PPL·√((⟨nll²⟩ − ⟨nll⟩²)/(N − 1)).
public struct PerplexityResult: Codable, Sendable {
    public struct Chunk: Codable, Sendable {
        public let index: Int
        /// Mean NLL of this chunk's scored tokens.
        public let meanNLL: Double
        /// Perplexity over all chunks so far (what llama-perplexity prints as [i]value).
        public let runningPerplexity: Double
        enum CodingKeys: String, CodingKey { case index, meanNLL = "mean_nll", runningPerplexity = "running_ppl" }
    }

    public let perplexity: Double
    public let uncertainty: Double
    public let scoredTokens: Int
    public let contextLength: Int
    public let textTokens: Int
    public let seconds: Double
    public let chunks: [Chunk]

    public var tokensPerSecond: Double { Double(chunks.count * contextLength) / max(seconds, 1e-9) }

    enum CodingKeys: String, CodingKey {
        case perplexity = "ppl", uncertainty = "ppl_uncertainty", scoredTokens = "scored_tokens", contextLength = "ctx"
        case textTokens = "text_tokens", seconds, chunks
    }
}

/// Accumulates −log p of scored tokens as llama.cpp does (double sums).
struct NLLAccumulator {
    var sum: Double = 0
    var sumSquares: Double = 0
    var count = 0

    mutating func add(logProbability: Double) {
        sum -= logProbability
        sumSquares += logProbability * logProbability
        count += 1
    }

    var perplexity: Double { exp(sum / Double(count)) }
    var uncertainty: Double {
        let mean = sum / Double(count)
        let variance = sumSquares / Double(count) - mean * mean
        return variance > 0 && count > 1 ? (variance / Double(count - 1)).squareRoot() * perplexity : 0
    }
}

public enum Perplexity {
    /// log p(token) from one row of logits: llama.cpp's `log_softmax` (f32 max, exp in f32, sum in double).
    static func logProbability(_ logits: UnsafePointer<Float>, vocabulary: Int, token: Int) -> Double {
        var maximum = logits[0]
        for i in 1..<vocabulary { maximum = max(maximum, logits[i]) }
        var sumExp: Double = 0
        for i in 0..<vocabulary { sumExp += Double(expf(logits[i] - maximum)) }
        return Double(logits[token] - maximum) - log(sumExp)
    }

    /// log p(targets[j]) from logits row j, rows spread over the workers (a log-softmax over
    /// SmolLM2's 49 152 entries for 255 rows took 5 % of a chunk on one core while the other
    /// waited); summed afterwards in row order, so the result does not depend on `threads`.
    static func logProbabilities(_ logits: [Float], vocabulary: Int, targets: ArraySlice<Int32>, threads: Int) -> [Double] {
        var result = [Double](repeating: 0, count: targets.count)
        let targets = Array(targets)
        logits.withUnsafeBufferPointer { lp in
            result.withUnsafeMutableBufferPointer { rp in
                let shared = UnsafeSendableBox((lp.baseAddress!, rp.baseAddress!))
                WorkerPool.shared.forEachSlice(targets.count, threads: threads, minimumSlice: 16) { rows in
                    let (logits, out) = shared.value
                    for j in rows { out[j] = logProbability(logits + j * vocabulary, vocabulary: vocabulary, token: Int(targets[j])) }
                }
            }
        }
        return result
    }

    /// The token windows llama-perplexity evaluates.
    public static func chunks(tokens: [Int32], context: Int, maxChunks: Int?, bos: Int32?) throws -> [[Int32]] {
        guard tokens.count >= 2 * context else { throw InferenceError.textTooShort(tokens: tokens.count, needed: 2 * context) }
        let available = tokens.count / context
        let count = maxChunks.map { $0 > 0 ? min($0, available) : available } ?? available
        return (0..<count).map { i in
            var chunk = Array(tokens[i * context ..< (i + 1) * context])
            if let bos { chunk[0] = bos }
            return chunk
        }
    }

    public static func evaluate(model: LlamaModel, text: String, context: Int = 512, maxChunks: Int? = nil, batch: Int? = nil,
                                progress: (PerplexityResult.Chunk, Int) -> Void = { _, _ in }) throws -> PerplexityResult {
        let tokens = model.tokenizer.encode(text, addSpecial: true)
        let windows = try chunks(tokens: tokens, context: context, maxChunks: maxChunks,
                                 bos: model.tokenizer.addsBOS ? model.tokenizer.bosToken : nil)
        let state = try model.makeState(contextLength: context)
        let first = context / 2
        let vocabulary = model.configuration.vocabularySize
        var total = NLLAccumulator()
        var results: [PerplexityResult.Chunk] = []
        let start = Date()
        for (index, window) in windows.enumerated() {
            state.reset()
            let logits = try model.evaluate(window: window, state: state, outputs: first ..< context - 1, batch: batch ?? context)
            var chunkNLL = NLLAccumulator()
            for lp in logProbabilities(logits, vocabulary: vocabulary, targets: window[(first + 1)...], threads: model.threads) {
                total.add(logProbability: lp)
                chunkNLL.add(logProbability: lp)
            }
            let chunk = PerplexityResult.Chunk(index: index + 1, meanNLL: chunkNLL.sum / Double(chunkNLL.count), runningPerplexity: total.perplexity)
            results.append(chunk)
            progress(chunk, windows.count)
        }
        return PerplexityResult(perplexity: total.perplexity, uncertainty: total.uncertainty, scoredTokens: total.count,
                                contextLength: context, textTokens: tokens.count, seconds: Date().timeIntervalSince(start), chunks: results)
    }
}
