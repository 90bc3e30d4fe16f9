import Foundation

/// The base model's side of a KL-divergence run: llama-perplexity's windows of a text (second
/// half of each scored) and the base model's logits at the scored positions. Streaming (`kld`)
/// computes each window's logits when asked and forgets them; `keepingLogits` holds them, so a
/// batch judges many variants of one model against a single base run. Both hand out the very same
/// floats, so a variant's KLD does not depend on which one was used.
public final class BaseLogits: @unchecked Sendable {
    public let model: LlamaModel
    public let context: Int
    public let windows: [[Int32]]
    public let batch: Int
    private let keep: Bool
    private var kept: [Int: [Float]] = [:]
    private let lock = NSLock()

    public init(model: LlamaModel, text: String, context: Int = 512, maxChunks: Int? = nil, batch: Int? = nil,
                keepingLogits: Bool = false) throws {
        let tokens = model.tokenizer.encode(text, addSpecial: true)
        windows = try Perplexity.chunks(tokens: tokens, context: context, maxChunks: maxChunks,
                                        bos: model.tokenizer.addsBOS ? model.tokenizer.bosToken : nil)
        self.model = model
        self.context = context
        self.batch = batch ?? context
        keep = keepingLogits
    }

    /// Positions scored in each window: the second half, as llama-perplexity does.
    public var scored: Range<Int> { context / 2 ..< context - 1 }

    /// Bytes the kept logits take (0 when streaming).
    public var keptBytes: Int { lock.withLock { kept.values.reduce(0) { $0 + 4 * $1.count } } }

    /// Holds `logits` as window `index`'s (read back from a cache of an earlier run of the same
    /// model and text); the caller vouches that they are what `logits(window:state:)` computes.
    public func keep(_ logits: [Float], window index: Int) {
        precondition(logits.count == scored.count * model.configuration.vocabularySize, "one row per scored position")
        lock.withLock { kept[index] = logits }
    }

    /// Whether window `index`'s logits are held.
    public func holds(window index: Int) -> Bool { lock.withLock { kept[index] != nil } }

    /// The base model's logits at `scored` positions of window `index`.
    public func logits(window index: Int, state: LlamaState) throws -> [Float] {
        if let cached = lock.withLock({ kept[index] }) { return cached }
        state.reset()
        let logits = try model.evaluate(window: windows[index], state: state, outputs: scored, batch: batch)
        if keep { lock.withLock { kept[index] = logits } }
        return logits
    }
}
