import QuantFormats
import Testing
import TestScratch

/// The tensor-name table: names as gguf-py spells them, and `parse` as their exact inverse.
@Suite(.tags(.unit))
struct LlamaTensorTests {
    @Test func namesAndParseAreInverse() {
        #expect(LlamaTensor.tokenEmbedding.name() == "token_embd.weight")
        #expect(LlamaTensor.attentionOutput.name(layer: 12) == "blk.12.attn_output.weight")
        for tensor in LlamaTensor.allCases {
            let layer = tensor.isPerLayer ? 7 : nil
            let parsed = LlamaTensor.parse(tensor.name(layer: layer ?? 0))
            #expect(parsed?.tensor == tensor && parsed?.layer == layer, "\(tensor)")
        }
        for name in ["blk.1.attn_q.bias", "blk.x.attn_q.weight", "blk.1.token_embd.weight", "attn_q.weight", "blk.-1.ffn_up.weight", "blk.1.ffn_up.weight.x"] {
            #expect(LlamaTensor.parse(name) == nil, "\(name)")
        }
    }
}
