import Foundation
import Inference
import QuantFormats

/// The token sequences a calibration runs over, and a description of where they came from.
public struct CalibrationCorpus: Sendable {
    public let sequences: [[Int32]]
    /// The text file, or "data-free: …".
    public let description: String
    /// SHA-256 of the text file, or of the sampled token ids.
    public let sha256: String
    public var tokenCount: Int { sequences.reduce(0) { $0 + $1.count } }

    /// Windows of `context` tokens cut from the whole text, each starting with BOS when the
    /// vocabulary adds it (as llama-imatrix does), up to `maxTokens`.
    /// The corpus a calibration run reads: `tokens` tokens of `text` in windows of `context`, or,
    /// without a text, data-free sequences of up to 128 tokens sampled from `model` (as many as
    /// make `tokens`). The mix search, tuned SmoothQuant and the batch's statistics all use it.
    public static func forRun(model: LlamaModel, text: String?, tokens: Int, context: Int, seed: UInt64) throws -> CalibrationCorpus {
        if let text { return try Self.text(path: text, tokenizer: model.tokenizer, context: context, maxTokens: tokens) }
        let length = min(128, context)
        return try sampled(from: model, sequences: max(1, tokens / length), length: length, seed: seed)
    }

    public static func text(path: String, tokenizer: Tokenizer, context: Int, maxTokens: Int) throws -> CalibrationCorpus {
        let content = try MappedFile.readText(path: path)
        let tokens = tokenizer.encode(content, addSpecial: true)
        guard tokens.count >= context else { throw InferenceError.textTooShort(tokens: tokens.count, needed: context) }
        var sequences: [[Int32]] = []
        var start = 0
        while start + context <= tokens.count && sequences.count * context < maxTokens {
            var window = Array(tokens[start ..< start + context])
            if tokenizer.addsBOS, let bos = tokenizer.bosToken { window[0] = bos }
            sequences.append(window)
            start += context
        }
        let hash = try MappedFile(path: path).withBytes { SHA256.hex($0) }
        return CalibrationCorpus(sequences: sequences, description: path, sha256: hash)
    }

    /// Data-free calibration: sequences the model writes itself (as LLM-QAT does), so calibration
    /// needs no download and never touches evaluation text. Each sequence starts with BOS and a
    /// uniformly random ordinary token, then samples at temperature 1 with top-p 0.95.
    public static func sampled(from model: LlamaModel, sequences count: Int, length: Int, seed: UInt64,
                               progress: (Int, Int) -> Void = { _, _ in }) throws -> CalibrationCorpus {
        let tokenizer = model.tokenizer
        let ordinary = ordinaryTokens(model)
        guard !ordinary.isEmpty, length >= 2 else { throw InferenceError.invalidMetadata(key: "tokenizer.ggml.tokens", message: "no ordinary tokens to start a sequence from") }
        var random = SplitMix64(seed: seed)
        // All sequences advance in lockstep through one batched forward pass per step, so the
        // weights are decoded once per step instead of once per sequence and token.
        let states = try (0..<count).map { _ in try model.makeState(contextLength: length) }
        var samplers = (0..<count).map { Sampler(temperature: 1, topK: 0, topP: 0.95, seed: seed &+ UInt64($0) &* 0x9e37) }
        var sequences: [[Int32]] = []
        var logits: [Float] = []
        let vocabulary = model.configuration.vocabularySize
        for state in states {
            var prefix: [Int32] = tokenizer.addsBOS ? tokenizer.bosToken.map { [$0] } ?? [] : []
            prefix.append(ordinary[Int(random.next() % UInt64(ordinary.count))])
            logits += try model.forward(prefix, state: state)
            sequences.append(prefix)
        }
        var produced = 0
        let total = count * (length - sequences[0].count)
        while sequences[0].count < length {
            let next = (0..<count).map { i in
                logits.withUnsafeBufferPointer { samplers[i].next(UnsafeBufferPointer(rebasing: $0[i * vocabulary ..< (i + 1) * vocabulary])) }
            }
            for i in 0..<count { sequences[i].append(next[i]) }
            produced += count
            progress(produced, total)
            if sequences[0].count < length { logits = try model.forward(parallel: next, states: states) }
        }
        var hasher = SHA256()
        for s in sequences { s.withUnsafeBytes { hasher.update($0) } }
        let digest = hasher.finalizeHex()
        return CalibrationCorpus(sequences: sequences,
                                 description: "data-free: \(count) sequences of \(length) tokens sampled from the model (seed \(seed))",
                                 sha256: digest)
    }

    /// Token ids of type NORMAL (1) when the vocabulary lists types, otherwise all but BOS/EOS.
    static func ordinaryTokens(_ model: LlamaModel) -> [Int32] {
        let n = model.configuration.vocabularySize
        if let types = model.file.metadata.array("tokenizer.ggml.token_type")?.integers, types.count == n {
            return (0..<n).filter { types[$0] == 1 }.map(Int32.init)
        }
        let special = Set([model.tokenizer.bosToken, model.tokenizer.eosToken].compactMap { $0 })
        return (0..<Int32(n)).filter { !special.contains($0) }
    }
}
