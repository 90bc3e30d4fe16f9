import QuantCore
import QuantFormats

/// Hugging Face llama tensor names → GGUF names (gguf-py `tensor_mapping.py` for LLAMA), with
/// the shape config.json implies and whether the rows need llama.cpp's RoPE permutation.
struct HFTensorMapping: Equatable {
    enum RowPermutation: Equatable {
        /// q/k rows: from rotate-half to llama.cpp's interleaved pairs, per head.
        case rope(heads: Int)
    }

    let hfName: String
    let ggufName: String
    /// numpy/safetensors shape (slowest dimension first).
    let hfShape: [UInt64]
    let permutation: RowPermutation?

    /// Per-layer suffixes: HF suffix, GGUF suffix, shape from the config, permutation.
    private static func layerTable(_ c: HFLlamaConfig) -> [(String, LlamaTensor, [Int], RowPermutation?)] {
        let e = c.embeddingLength, f = c.feedForwardLength
        let q = c.headCount * c.headDimension, kv = c.headCountKV * c.headDimension
        let permutes = c.architecture.permutesQueryKeyRows
        return [
            ("input_layernorm.weight", .attentionNorm, [e], nil),
            ("self_attn.q_proj.weight", .attentionQ, [q, e], permutes ? .rope(heads: c.headCount) : nil),
            ("self_attn.k_proj.weight", .attentionK, [kv, e], permutes ? .rope(heads: c.headCountKV) : nil),
            ("self_attn.v_proj.weight", .attentionV, [kv, e], nil),
            ("self_attn.o_proj.weight", .attentionOutput, [e, q], nil),
            ("post_attention_layernorm.weight", .ffnNorm, [e], nil),
            ("mlp.gate_proj.weight", .ffnGate, [f, e], nil),
            ("mlp.up_proj.weight", .ffnUp, [f, e], nil),
            ("mlp.down_proj.weight", .ffnDown, [e, f], nil),
        ]
    }

    /// Every tensor a checkpoint of this config must (or, for `lm_head`, may) hold.
    static func expected(for config: HFLlamaConfig) -> (required: [HFTensorMapping], optional: [HFTensorMapping]) {
        func shape(_ dims: [Int]) -> [UInt64] { dims.map(UInt64.init) }
        let v = config.vocabularySize, e = config.embeddingLength
        var required = [
            HFTensorMapping(hfName: "model.embed_tokens.weight", ggufName: LlamaTensor.tokenEmbedding.name(), hfShape: shape([v, e]), permutation: nil),
            HFTensorMapping(hfName: "model.norm.weight", ggufName: LlamaTensor.outputNorm.name(), hfShape: shape([e]), permutation: nil),
        ]
        let q = config.headCount * config.headDimension, kv = config.headCountKV * config.headDimension
        for layer in 0..<config.layerCount {
            for (hf, gguf, dims, permutation) in layerTable(config) {
                required.append(HFTensorMapping(hfName: "model.layers.\(layer).\(hf)", ggufName: gguf.name(layer: layer),
                                                hfShape: shape(dims), permutation: permutation))
            }
            func extra(_ hf: String, _ gguf: String, _ length: Int) {
                required.append(HFTensorMapping(hfName: "model.layers.\(layer).\(hf)", ggufName: gguf, hfShape: shape([length]), permutation: nil))
            }
            if config.attentionBiases {
                extra("self_attn.q_proj.bias", LlamaTensor.attentionQ.biasName(layer: layer), q)
                extra("self_attn.k_proj.bias", LlamaTensor.attentionK.biasName(layer: layer), kv)
                extra("self_attn.v_proj.bias", LlamaTensor.attentionV.biasName(layer: layer), kv)
            }
            if config.architecture.queryKeyNorms {
                extra("self_attn.q_norm.weight", LlamaTensor.attentionQNorm.name(layer: layer), config.headDimension)
                extra("self_attn.k_norm.weight", LlamaTensor.attentionKNorm.name(layer: layer), config.headDimension)
            }
        }
        let output = HFTensorMapping(hfName: "lm_head.weight", ggufName: LlamaTensor.output.name(), hfShape: shape([v, e]), permutation: nil)
        return (required, [output])
    }

    /// Checkpoint tensors that carry no weights (buffers some exporters save).
    static func isIgnored(_ hfName: String) -> Bool { hfName.hasSuffix("rotary_emb.inv_freq") }
}

/// Row `r` of the output takes row `ropeSourceRow(r)` of the input: per head of `headDimension`
/// rows, convert_hf_to_gguf.py's `reshape(heads, 2, hd/2, …).swapaxes(1, 2)`.
func ropeSourceRow(_ row: Int, headDimension: Int) -> Int {
    let head = row / headDimension, within = row % headDimension, half = headDimension / 2
    return head * headDimension + (within % 2) * half + within / 2
}
