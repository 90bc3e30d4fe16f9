import QuantConversion
import QuantCore
import QuantFormats
import Testing
import TestScratch

/// The llama-quantize type rules as data: categories, presets, mix rules, overrides, fallbacks.
@Suite(.tags(.unit))
struct TensorTypePlannerTests {
    /// A llama-7B-shaped model: 32 layers, 4096 columns (whole K-quant super-blocks).
    static func llama7B(layers: Int = 32, tiedEmbeddings: Bool = false) -> [TensorTypePlanner.Tensor] {
        var tensors: [TensorTypePlanner.Tensor] = [.init(name: "token_embd.weight", shape: [4096, 32000], type: .F16),
                                                   .init(name: "output_norm.weight", shape: [4096], type: .F32)]
        if !tiedEmbeddings { tensors.append(.init(name: "output.weight", shape: [4096, 32000], type: .F16)) }
        for layer in 0..<layers {
            for (name, shape) in [("attn_norm", [4096]), ("attn_q", [4096, 4096]), ("attn_k", [4096, 4096]), ("attn_v", [4096, 4096]),
                                  ("attn_output", [4096, 4096]), ("ffn_norm", [4096]), ("ffn_gate", [4096, 11008]),
                                  ("ffn_up", [4096, 11008]), ("ffn_down", [11008, 4096])] as [(String, [UInt64])] {
                tensors.append(.init(name: "blk.\(layer).\(name).weight", shape: shape, type: name.hasSuffix("norm") ? .F32 : .F16))
            }
        }
        return tensors
    }

    static func plan(_ preset: String, tensors: [TensorTypePlanner.Tensor] = llama7B(), pure: Bool = false,
                     configure: (inout TensorTypePlanner.Options) -> Void = { _ in }) -> [String: TensorTypePlanner.Decision] {
        var options = TensorTypePlanner.Options(preset: QuantizationPreset.named(preset)!)
        options.pure = pure
        configure(&options)
        let decisions = TensorTypePlanner(options: options, model: .init(blockCount: 32, headCount: 32, headCountKV: 32)).plan(tensors)
        return Dictionary(uniqueKeysWithValues: zip(tensors.map(\.name), decisions))
    }

    @Test func categoriesFollowLlamaCpp() {
        #expect(TensorCategory(tensorName: "output.weight") == .output)
        #expect(TensorCategory(tensorName: "token_embd.weight") == .tokenEmbedding)
        #expect(TensorCategory(tensorName: "blk.3.attn_qkv.weight") == .attentionQKV)
        #expect(TensorCategory(tensorName: "blk.3.attn_q.weight") == .attentionQ)
        #expect(TensorCategory(tensorName: "blk.3.ffn_down.weight") == .ffnDown)
        #expect(TensorCategory(tensorName: "blk.3.attn_norm.weight") == .other)
        #expect(!TensorCategory.allowsQuantization(name: "blk.0.attn_norm.weight", dimensions: 2))
        #expect(!TensorCategory.allowsQuantization(name: "blk.0.attn_q.weight", dimensions: 1))
        #expect(!TensorCategory.allowsQuantization(name: "blk.0.ffn_gate_inp.weight", dimensions: 2))
        #expect(TensorCategory.allowsQuantization(name: "blk.0.attn_q.weight", dimensions: 2))
    }

    @Test func presetNamesAndAliases() {
        #expect(QuantizationPreset.named("q4_k_m")?.fileType == 15)
        #expect(QuantizationPreset.named("Q4_K")?.name == "Q4_K_M")
        #expect(QuantizationPreset.named("Q5_K")?.name == "Q5_K_M")
        #expect(QuantizationPreset.named("BF16")?.fileType == 32)
        #expect(QuantizationPreset.named("Q4_K_X") == nil)
    }

    /// Q4_K_M on 32 layers: use_more_bits picks layers 0–3, 28–31 and every third in between
    /// (6, 9, …, 27) for Q6_K in attn_v and ffn_down; output Q6_K; the rest Q4_K.
    @Test func q4KMMatchesUseMoreBits() {
        let decisions = Self.plan("Q4_K_M")
        let expected = Set([0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31])
        for layer in 0..<32 {
            let wanted: GGMLType = expected.contains(layer) ? .Q6_K : .Q4_K
            #expect(decisions["blk.\(layer).attn_v.weight"]?.type == wanted, "attn_v \(layer)")
            #expect(decisions["blk.\(layer).ffn_down.weight"]?.type == wanted, "ffn_down \(layer)")
            #expect(decisions["blk.\(layer).attn_q.weight"]?.type == .Q4_K)
        }
        #expect(decisions["output.weight"]?.type == .Q6_K)
        #expect(decisions["token_embd.weight"]?.type == .Q4_K)
        #expect(decisions["output_norm.weight"] == .init(type: .F32, fellBackFrom: nil, reason: .notQuantized))
    }

    @Test func tiedEmbeddingsAreTreatedAsTheOutput() {
        let decisions = Self.plan("Q4_0", tensors: Self.llama7B(tiedEmbeddings: true))
        #expect(decisions["token_embd.weight"]?.type == .Q6_K)
        #expect(Self.plan("Q4_0")["token_embd.weight"]?.type == .Q4_0)
    }

    @Test func otherPresets() {
        let q3 = Self.plan("Q3_K_M")
        #expect(q3["blk.0.attn_v.weight"]?.type == .Q5_K)
        #expect(q3["blk.2.attn_v.weight"]?.type == .Q4_K)
        #expect(q3["blk.1.ffn_down.weight"]?.type == .Q5_K)   // i < 32/16
        #expect(q3["blk.2.ffn_down.weight"]?.type == .Q4_K)
        #expect(q3["blk.5.attn_output.weight"]?.type == .Q4_K)
        let q2 = Self.plan("Q2_K")
        #expect(q2["blk.5.attn_v.weight"]?.type == .Q3_K)
        #expect(q2["blk.5.ffn_down.weight"]?.type == .Q3_K)
        #expect(q2["blk.5.ffn_gate.weight"]?.type == .Q2_K)
        let q4s = Self.plan("Q4_K_S")
        #expect(q4s["blk.3.attn_v.weight"]?.type == .Q5_K)
        #expect(q4s["blk.4.attn_v.weight"]?.type == .Q4_K)
        #expect(Self.plan("Q8_0")["output.weight"]?.type == .Q8_0)
        #expect(Self.plan("F16")["blk.0.attn_q.weight"]?.type == .F16)
        // Q4_0 sends the first eighth of ffn_down to Q4_1 only with importance data.
        #expect(Self.plan("Q4_0")["blk.0.ffn_down.weight"]?.type == .Q4_0)
        #expect(Self.plan("Q4_0") { $0.hasImportance = true }["blk.0.ffn_down.weight"]?.type == .Q4_1)
    }

    @Test func pureOverridesAndExplicitTypes() throws {
        let pure = Self.plan("Q4_K_M", pure: true)
        #expect(pure["blk.0.attn_v.weight"]?.type == .Q4_K)
        #expect(pure["output.weight"]?.type == .Q4_K)
        let overridden = Self.plan("Q4_K_M") {
            $0.overrides = [try! TensorTypeOverride(pattern: #"blk\.(0|1)\."#, type: .Q8_0),
                            try! TensorTypeOverride(pattern: "attn", type: .Q5_K)]
            $0.outputType = .Q5_K
            $0.tokenEmbeddingType = .Q8_0
        }
        #expect(overridden["blk.0.ffn_up.weight"] == .init(type: .Q8_0, fellBackFrom: nil, reason: .override))
        #expect(overridden["blk.5.attn_q.weight"]?.type == .Q5_K)   // second rule
        #expect(overridden["blk.5.ffn_up.weight"]?.type == .Q4_K)
        #expect(overridden["output.weight"]?.reason == .outputOption)
        #expect(overridden["output.weight"]?.type == .Q5_K)
        #expect(overridden["token_embd.weight"]?.type == .Q8_0)
        #expect(throws: (any Error).self) { try TensorTypeOverride(pattern: "(", type: .Q8_0) }
    }

    /// Rows of 576 (SmolLM2) are not whole 256-blocks: llama.cpp's fallback table, then F16.
    @Test func fallbacks() {
        #expect(TensorTypeChoice.fit(.Q4_K, rowLength: 576) == .Q5_0)
        #expect(TensorTypeChoice.fit(.Q6_K, rowLength: 576) == .Q8_0)
        #expect(TensorTypeChoice.fit(.Q2_K, rowLength: 576) == .Q4_0)
        #expect(TensorTypeChoice.fit(.IQ4_XS, rowLength: 576) == .IQ4_NL)
        #expect(TensorTypeChoice.fit(.Q4_K, rowLength: 172) == .F16)
        #expect(TensorTypeChoice.fit(.Q8_0, rowLength: 172) == .F16)
        let tensors: [TensorTypePlanner.Tensor] = [.init(name: "blk.0.ffn_up.weight", shape: [576, 1536], type: .F16)]
        let decision = Self.plan("Q4_K_M", tensors: tensors)["blk.0.ffn_up.weight"]
        #expect(decision == .init(type: .Q5_0, fellBackFrom: .Q4_K, reason: .defaultType))
    }
}
