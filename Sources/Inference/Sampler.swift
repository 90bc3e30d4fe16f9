import Foundation

/// Picks the next token from logits: greedy at temperature 0, otherwise top-k, then top-p
/// (nucleus), then temperature-scaled sampling with a seeded generator, so runs reproduce.
public struct Sampler: Sendable {
    public var temperature: Float
    public var topK: Int
    public var topP: Float
    private var random: SplitMix64

    public init(temperature: Float = 0, topK: Int = 40, topP: Float = 0.95, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        random = SplitMix64(seed: seed)
    }

    public mutating func next(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        if temperature <= 0 {
            var best = 0
            for i in 1..<logits.count where logits[i] > logits[best] { best = i }
            return Int32(best)
        }
        var candidates = Array(logits.indices)
        if topK > 0 && topK < candidates.count {
            candidates.sort { logits[$0] > logits[$1] }
            candidates.removeLast(candidates.count - topK)
        } else {
            candidates.sort { logits[$0] > logits[$1] }
        }
        let maximum = logits[candidates[0]]
        var weights = candidates.map { Double(expf((logits[$0] - maximum) / temperature)) }
        let total = weights.reduce(0, +)
        if topP < 1 {
            var cumulative = 0.0, keep = 0
            for w in weights {
                cumulative += w / total
                keep += 1
                if cumulative >= Double(topP) { break }
            }
            candidates.removeLast(candidates.count - keep)
            weights.removeLast(weights.count - keep)
        }
        let draw = random.nextUnit() * weights.reduce(0, +)
        var cumulative = 0.0
        for (i, w) in weights.enumerated() {
            cumulative += w
            if draw < cumulative { return Int32(candidates[i]) }
        }
        return Int32(candidates[candidates.count - 1])
    }
}

/// A small, fast, seedable generator (SplitMix64).
public struct SplitMix64: Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    public mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

extension LlamaModel {
    /// Generates up to `count` tokens after `prompt`, calling `onToken` as each is chosen
    /// (return false to stop). Stops at EOS.
    public func generate(prompt: [Int32], count: Int, sampler: inout Sampler, onToken: (Int32) -> Bool = { _ in true }) throws -> [Int32] {
        let state = try makeState(contextLength: min(configuration.contextLength, prompt.count + count))
        var logits = try forward(prompt, state: state)
        var generated: [Int32] = []
        while generated.count < count {
            let token = logits.withUnsafeBufferPointer { sampler.next($0) }
            generated.append(token)
            if token == tokenizer.eosToken || !onToken(token) || generated.count == count { break }
            logits = try forward([token], state: state)
        }
        return generated
    }
}
