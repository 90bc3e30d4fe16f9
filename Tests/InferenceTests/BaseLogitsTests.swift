import Foundation
import Inference
import QuantFormats
import Testing
import TestScratch
import TestSupport

/// A batch judges many variants against base logits computed once and kept; the KLD must be the
/// streaming `kld`'s to the last bit.
@Suite(.tags(.unit)) struct BaseLogitsTests {
    @Test func keptBaseLogitsGiveTheStreamingKLD() throws {
        let base = try LlamaModel(path: try TinyModel.write(type: .F32))
        let text = String(repeating: "a small text about nothing much, repeated. ", count: 30)
        let kept = try BaseLogits(model: base, text: text, context: 64, maxChunks: 3, keepingLogits: true)
        for type in [GGMLType.Q8_0, .Q4_0] {
            let variant = try LlamaModel(path: try TinyModel.write(type: type))
            let streaming = try KLDivergence.evaluate(base: base, model: variant, text: text, context: 64, maxChunks: 3)
            let cached = try KLDivergence.evaluate(base: kept, model: variant)
            #expect(cached.meanKLD.value.bitPattern == streaming.meanKLD.value.bitPattern, "\(type)")
            #expect(cached.kldPercentiles == streaming.kldPercentiles && cached.sameTopToken.value == streaming.sameTopToken.value)
            #expect(cached.perplexity.value.bitPattern == streaming.perplexity.value.bitPattern)
        }
        #expect(kept.keptBytes == 3 * kept.scored.count * base.configuration.vocabularySize * 4)
    }
}
