import Foundation
import Inference
import QuantCore
import QuantFormats
import TestScratch

/// Writes a tiny random llama GGUF (dim 64, 2 blocks, 4 heads, 2 KV heads, FFN 128) with a
/// byte-level BPE vocabulary of the 256 byte tokens plus a few merges, for fast unit tests.
/// (A support target, so every test target can build one.)
public enum TinyModel {
    public static let dim = 64, blocks = 2, heads = 4, kvHeads = 2, ffn = 128

    public static func vocabulary() -> (tokens: [String], merges: [String]) {
        var tokens = (0..<256).map { String(ByteUnicode.byteToScalar[$0]) }
        let merges = ["t h", "th e", "Ġ t", "Ġt he"]
        for merge in merges { tokens.append(merge.replacingOccurrences(of: " ", with: "")) }
        return (tokens, merges)
    }

    /// Writes the model; `mutate` may edit metadata and tensors to build broken variants.
    public static func write(type: GGMLType = .F32, mutate: (inout GGUFMetadata, inout [GGUFTensorDescriptor]) -> Void = { _, _ in }) throws -> String {
        let (tokens, merges) = vocabulary()
        var metadata = GGUFMetadata()
        metadata["general.architecture"] = .string("llama")
        metadata["llama.context_length"] = .uint32(128)
        metadata["llama.embedding_length"] = .uint32(UInt32(dim))
        metadata["llama.block_count"] = .uint32(UInt32(blocks))
        metadata["llama.feed_forward_length"] = .uint32(UInt32(ffn))
        metadata["llama.attention.head_count"] = .uint32(UInt32(heads))
        metadata["llama.attention.head_count_kv"] = .uint32(UInt32(kvHeads))
        metadata["llama.attention.layer_norm_rms_epsilon"] = .float32(1e-5)
        metadata["llama.rope.freq_base"] = .float32(10000)
        metadata[GGUFKey.Tokenizer.model] = .string("gpt2")
        metadata[GGUFKey.Tokenizer.pre] = .string("smollm")
        metadata[GGUFKey.Tokenizer.tokens] = .array(.string(tokens))
        metadata[GGUFKey.Tokenizer.merges] = .array(.string(merges))
        metadata[GGUFKey.Tokenizer.bosID] = .uint32(1)
        metadata[GGUFKey.Tokenizer.eosID] = .uint32(2)
        let vocab = UInt64(tokens.count), d = UInt64(dim), kv = UInt64(dim / heads * kvHeads), f = UInt64(ffn)
        var descriptors = [GGUFTensorDescriptor(name: "token_embd.weight", shape: [d, vocab], type: type),
                           GGUFTensorDescriptor(name: "output_norm.weight", shape: [d], type: .F32)]
        for i in 0..<blocks {
            let p = "blk.\(i)."
            descriptors += [
                GGUFTensorDescriptor(name: p + "attn_norm.weight", shape: [d], type: .F32),
                GGUFTensorDescriptor(name: p + "attn_q.weight", shape: [d, d], type: type),
                GGUFTensorDescriptor(name: p + "attn_k.weight", shape: [d, kv], type: type),
                GGUFTensorDescriptor(name: p + "attn_v.weight", shape: [d, kv], type: type),
                GGUFTensorDescriptor(name: p + "attn_output.weight", shape: [d, d], type: type),
                GGUFTensorDescriptor(name: p + "ffn_norm.weight", shape: [d], type: .F32),
                GGUFTensorDescriptor(name: p + "ffn_gate.weight", shape: [d, f], type: type),
                GGUFTensorDescriptor(name: p + "ffn_up.weight", shape: [d, f], type: type),
                GGUFTensorDescriptor(name: p + "ffn_down.weight", shape: [f, d], type: type),
            ]
        }
        mutate(&metadata, &descriptors)
        let writer = try GGUFWriter(metadata: metadata, tensors: descriptors)
        let path = try temporaryDirectory() + "/quantkit-tiny.gguf"
        var seed: UInt64 = 99
        try writer.write(to: path) { i, sink in
            let descriptor = descriptors[i]
            let count = Int(descriptor.shape.reduce(1, *))
            let isNorm = descriptor.shape.count == 1
            let values: [Float] = (0..<count).map { _ in
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                let u = Float(seed >> 40) / Float(1 << 24) - 0.5
                return isNorm ? 1 + 0.1 * u : 0.2 * u
            }
            try sink.write(try TensorCodec(type: descriptor.type).quantize(values, rowLength: Int(descriptor.shape[0])))
        }
        return path
    }
}
