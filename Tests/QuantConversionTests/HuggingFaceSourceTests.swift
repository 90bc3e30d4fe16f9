import Foundation
import QuantConversion
import QuantCore
import QuantFormats
import Testing
import TestScratch

/// A tiny Hugging Face llama folder generated on the fly: names, shapes, the q/k permutation,
/// precision handling, metadata and the typed errors for bad checkpoints.
@Suite(.tags(.unit))
struct HuggingFaceSourceTests {
    static let layers = 2, hidden = 64, heads = 4, kvHeads = 2, headDim = 16, ff = 128, vocab = 40

    static func config(architecture: String = "LlamaForCausalLM", extra: String = "") -> String {
        """
        {"architectures": ["\(architecture)"], "hidden_size": \(hidden), "intermediate_size": \(ff),
         "num_hidden_layers": \(layers), "num_attention_heads": \(heads), "num_key_value_heads": \(kvHeads),
         "max_position_embeddings": 256, "vocab_size": \(vocab), "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
         "tie_word_embeddings": true, "bos_token_id": 1, "eos_token_id": 2\(extra)}
        """
    }

    static let tokenizer: String = {
        var vocabEntries = ["\"<s>\": 0"]
        for (i, c) in "abcdefghijklmnopqrstuvwxyz".enumerated() { vocabEntries.append("\"\(c)\": \(i + 1)") }
        vocabEntries.append("\"ab\": 27")
        return """
        {"version": "1.0", "added_tokens": [{"id": 0, "content": "<s>", "special": true}, {"id": 30, "content": "<|end|>", "special": false}],
         "normalizer": null, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
         "post_processor": null, "decoder": {"type": "ByteLevel"},
         "model": {"type": "BPE", "vocab": {\(vocabEntries.joined(separator: ", "))}, "merges": ["a b"]}}
        """
    }()

    /// HF shapes and a value pattern that encodes (tensor, row, column).
    static func tensors(skip: String? = nil, extra: (String, [UInt64])? = nil) -> [(String, [UInt64])] {
        var list: [(String, [UInt64])] = [("model.embed_tokens.weight", [UInt64(vocab), UInt64(hidden)]), ("model.norm.weight", [UInt64(hidden)])]
        for layer in 0..<layers {
            let p = "model.layers.\(layer)."
            list += [(p + "input_layernorm.weight", [64]), (p + "self_attn.q_proj.weight", [64, 64]),
                     (p + "self_attn.k_proj.weight", [32, 64]), (p + "self_attn.v_proj.weight", [32, 64]),
                     (p + "self_attn.o_proj.weight", [64, 64]), (p + "post_attention_layernorm.weight", [64]),
                     (p + "mlp.gate_proj.weight", [128, 64]), (p + "mlp.up_proj.weight", [128, 64]), (p + "mlp.down_proj.weight", [64, 128])]
        }
        if let extra { list.append(extra) }
        return list.filter { $0.0 != skip }
    }

    /// Row r, column c of every tensor: r + c/1024 (exact in BF16 for small r, c < 8).
    static func value(row: Int, column: Int) -> Float { Float(row) + Float(column % 4) / 4 }

    static func makeFolder(config: String = config(), tensors: [(String, [UInt64])] = tensors(), dtype: SafetensorsDType = .BF16) throws -> String {
        let folder = try temporaryDirectory() + "/hf"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try config.write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        try tokenizer.write(toFile: folder + "/tokenizer.json", atomically: true, encoding: .utf8)
        try #"{"bos_token": "<s>", "eos_token": "<|end|>", "add_bos_token": true, "chat_template": "{{ x }}"}"#
            .write(toFile: folder + "/tokenizer_config.json", atomically: true, encoding: .utf8)
        let writer = try SafetensorsWriter(tensors: tensors.map { SafetensorsTensorDescriptor(name: $0.0, dtype: dtype, shape: $0.1) })
        let data: [[UInt8]] = tensors.map { _, shape in
            let columns = Int(shape.last!), rows = shape.count == 1 ? 1 : Int(shape[0])
            var bytes: [UInt8] = []
            for r in 0..<rows {
                for c in 0..<columns {
                    let bits = value(row: r, column: c).bitPattern
                    if dtype == .BF16 { bytes += [UInt8((bits >> 16) & 0xFF), UInt8(bits >> 24)] }
                    else { bytes += withUnsafeBytes(of: bits.littleEndian, Array.init) }
                }
            }
            return bytes
        }
        try writer.write(to: folder + "/model.safetensors", tensorData: data)
        return folder
    }

    @Test func mapsNamesShapesTypesAndPermutesQK() throws {
        let source = try HuggingFaceSource(folder: Self.makeFolder())
        let byName = Dictionary(uniqueKeysWithValues: source.tensors.enumerated().map { ($1.name, $0) })
        #expect(source.tensors.count == 2 + 9 * Self.layers)
        #expect(source.tensors.first?.name == "output_norm.weight")   // llama.cpp's order: globals, then by layer
        let q = try #require(byName["blk.1.attn_q.weight"])
        #expect(source.tensors[q].shape == [64, 64])
        #expect(source.tensors[q].type == .BF16)
        #expect(source.tensors[byName["blk.0.attn_norm.weight"]!].type == .F32)
        #expect(source.tensors[byName["blk.0.attn_k.weight"]!].shape == [64, 32])
        #expect(source.tensors[byName["blk.0.ffn_down.weight"]!].shape == [128, 64])

        // Row r of the GGUF q (k) takes HF row (r within head: pairs interleaved from the halves).
        for (name, rows) in [("blk.1.attn_q.weight", 64), ("blk.0.attn_k.weight", 32)] {
            let values = try source.withData(byName[name]!) { try TensorCodec(type: .BF16).dequantize(Array($0), rowLength: 64) }
            for row in 0..<rows {
                let head = row / Self.headDim, within = row % Self.headDim
                let hfRow = head * Self.headDim + (within % 2) * (Self.headDim / 2) + within / 2
                #expect(values[row * 64] == Self.value(row: hfRow, column: 0), "\(name) row \(row)")
            }
        }
        // Unpermuted tensors keep their rows; norms are widened to F32 exactly.
        let v = try source.withData(byName["blk.0.attn_v.weight"]!) { try TensorCodec(type: .BF16).dequantize(Array($0), rowLength: 64) }
        #expect(v[5 * 64 + 3] == Self.value(row: 5, column: 3))
        let norm = try source.withData(byName["output_norm.weight"]!) { Array($0.bindMemory(to: Float.self)) }
        #expect(norm[3] == Self.value(row: 0, column: 3))
    }

    @Test func metadataFollowsConvertHFToGGUF() throws {
        let metadata = try HuggingFaceSource(folder: Self.makeFolder()).metadata
        #expect(metadata.architecture == "llama")
        #expect(metadata.integer("llama.block_count") == 2)
        #expect(metadata.integer("llama.attention.head_count_kv") == 2)
        #expect(metadata.integer("llama.rope.dimension_count") == 16)
        #expect(metadata.float("llama.attention.layer_norm_rms_epsilon") == Double(Float(1e-5)))
        #expect(metadata.string(GGUFKey.Tokenizer.model) == "gpt2")
        #expect(metadata.string(GGUFKey.Tokenizer.pre) == "gpt-2")
        guard case let .string(tokens)? = metadata.array(GGUFKey.Tokenizer.tokens),
              case let .int32(types)? = metadata.array(GGUFKey.Tokenizer.tokenTypes) else {
            Issue.record("tokens missing")
            return
        }
        #expect(tokens.count == Self.vocab)
        #expect(tokens[28] == "[PAD28]" && types[28] == 5)
        #expect(types[0] == 3 && types[1] == 1)
        #expect(tokens[30] == "<|end|>" && types[30] == 3)    // not flagged special, but looks special
        #expect(metadata.integer(GGUFKey.Tokenizer.bosID) == 0)   // tokenizer_config wins over config.json
        #expect(metadata.integer(GGUFKey.Tokenizer.eosID) == 30)
        #expect(metadata[GGUFKey.Tokenizer.addBOS] == .bool(true))
        #expect(metadata.string(GGUFKey.Tokenizer.chatTemplate) == "{{ x }}")
    }

    @Test func ropeScalingKeys() throws {
        let linear = try HuggingFaceSource(folder: Self.makeFolder(config: Self.config(extra: #", "rope_scaling": {"type": "linear", "factor": 2.0}"#)))
        #expect(linear.metadata.string("llama.rope.scaling.type") == "linear")
        #expect(linear.metadata.float("llama.rope.scaling.factor") == 2)
        let llama3 = try HuggingFaceSource(folder: Self.makeFolder(config: Self.config(extra:
            #", "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 64}"#)))
        let index = try #require(llama3.tensors.firstIndex { $0.name == "rope_freqs.weight" })
        let factors = try llama3.withData(index) { Array($0.bindMemory(to: Float.self)) }
        #expect(factors.count == Self.headDim / 2)
        #expect(factors.first == 1 && factors.last == 8)   // high frequencies kept, low ones scaled by the factor
    }

    @Test func badCheckpointsGiveTypedErrors() throws {
        func reason(_ folder: String) -> HFCheckpointError.Reason? {
            do { _ = try HuggingFaceSource(folder: folder); return nil } catch let error as HFCheckpointError { return error.reason } catch { return nil }
        }
        #expect(reason(try Self.makeFolder(config: Self.config(architecture: "GPT2LMHeadModel")))
                == .unsupportedArchitecture(found: "GPT2LMHeadModel", supported: HFLlamaConfig.supportedArchitectures))
        #expect(reason(try Self.makeFolder(tensors: Self.tensors(skip: "model.layers.1.mlp.up_proj.weight")))
                == .missingTensor("model.layers.1.mlp.up_proj.weight"))
        #expect(reason(try Self.makeFolder(tensors: Self.tensors(extra: ("model.layers.0.self_attn.q_proj.bias", [64]))))
                == .unexpectedTensor("model.layers.0.self_attn.q_proj.bias"))
        var wrong = Self.tensors()
        wrong[wrong.firstIndex { $0.0 == "model.layers.0.mlp.down_proj.weight" }!].1 = [128, 64]
        #expect(reason(try Self.makeFolder(tensors: wrong))
                == .wrongShape(tensor: "model.layers.0.mlp.down_proj.weight", expected: [64, 128], found: [128, 64]))
        #expect(reason(try Self.makeFolder(config: "{\"architectures\": [\"LlamaForCausalLM\"]}")) == .missingKey("num_hidden_layers"))
    }

    @Test func convertsToQuantizedGGUF() throws {
        let folder = try Self.makeFolder(dtype: .F32)
        let source = try HuggingFaceSource(folder: folder)
        var options = ModelConverter.Options(preset: QuantizationPreset.named("Q8_0")!)
        // The checkpoint folder is refused unless asked for; its files never are.
        #expect(throws: OutputPathError.outputInInputFolder(output: folder + "/out.gguf", folder: folder)) {
            try ModelConverter(source: source, options: options).write(to: folder + "/out.gguf")
        }
        options.allowOutputInInputFolder = true
        for file in ["model.safetensors", "config.json", "tokenizer.json"] {
            #expect(throws: OutputPathError.outputIsInput(output: folder + "/" + file, input: folder + "/" + file)) {
                try ModelConverter(source: source, options: options).write(to: folder + "/" + file)
            }
        }
        let output = folder + "/out.gguf"
        let summary = try ModelConverter(source: source, options: options).write(to: output)
        let file = try GGUFFile(path: output)
        #expect(file.metadata.integer(GGUFKey.fileType) == 7)
        #expect(file.tensor(named: "blk.0.ffn_up.weight")?.type == .Q8_0)
        #expect(file.tensor(named: "token_embd.weight")?.type == .Q8_0)   // tied: the output rule keeps Q8_0
        #expect(summary.typeCounts["F32"] == 1 + 2 * Self.layers)
    }
}
