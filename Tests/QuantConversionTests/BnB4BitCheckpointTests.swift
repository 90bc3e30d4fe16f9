import Foundation
import QuantCore
@testable import QuantConversion
import QuantFormats
import Testing
import TestScratch

/// Reading bitsandbytes-4bit checkpoints: `golden/bnb-linear.safetensors` is one NF4 weight
/// (double-quantized, bf16 source) saved exactly as transformers saves it, with bitsandbytes' own
/// dequantization beside it.
@Suite(TestData.needs(.shared("golden"), .shared("stories260K")), .tags(.golden))
struct BnB4BitCheckpointTests {
    static let goldenPath = TestData.shared("golden/bnb-linear.safetensors")
    static let weightName = "model.layers.0.mlp.up_proj.weight"

    /// The golden weight's bitsandbytes dequantization, as bf16 bit patterns.
    static func referenceBF16(_ golden: SafetensorsFile) throws -> [UInt16] {
        try TestData.floats(golden, "reference.dequant").map { value in
            #expect(value.bitPattern & 0xFFFF == 0, "the reference is bf16 widened to f32")
            return UInt16(value.bitPattern >> 16)
        }
    }

    @Test func goldenWeightDequantizesLikeBitsandbytes() throws {
        let checkpoint = try SafetensorsCheckpoint(path: Self.goldenPath)
        let weight = try #require(try BnB4BitCheckpointWeight(checkpoint: checkpoint, name: Self.weightName))
        #expect(weight.quantType == .nf4 && weight.blocksize == 64 && weight.isNested && weight.dtype == .BF16)
        #expect(weight.shape == [1536, 576])
        let ours = try weight.dequantized().withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
        let expected = try Self.referenceBF16(try SafetensorsFile(path: Self.goldenPath))
        let differing = zip(ours, expected).filter { $0 != $1 }.count
        #expect(ours.count == expected.count && differing == 0, "\(differing) of \(expected.count) bf16 values differ")
        // The restored absmax agrees with our own double quantization of the same statistics.
        let absmax = weight.blockAbsmax()
        #expect(absmax.count == 1536 * 576 / 64 && absmax.allSatisfy { $0.isFinite && $0 > 0 })
        #expect(BnB4BitCheckpointWeight.isCompanion(Self.weightName + ".nested_absmax", in: checkpoint))
        #expect(!BnB4BitCheckpointWeight.isCompanion("reference.dequant", in: checkpoint))
    }

    /// A one-layer llama checkpoint with SmolLM2's widths whose up_proj is the golden bnb weight
    /// (its five companion tensors copied verbatim) and the rest plain BF16.
    static func makeCheckpoint(dropping: String? = nil) throws -> String {
        let golden = try SafetensorsFile(path: goldenPath)
        let folder = try temporaryDirectory() + "/bnb"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let config = """
            {"architectures": ["LlamaForCausalLM"], "hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 1,
             "num_attention_heads": 9, "num_key_value_heads": 3, "max_position_embeddings": 256, "vocab_size": 40,
             "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": true, "bos_token_id": 1, "eos_token_id": 2,
             "quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": true, "bnb_4bit_quant_type": "nf4",
                                     "bnb_4bit_use_double_quant": true, "bnb_4bit_compute_dtype": "bfloat16"}}
            """
        try config.write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        try HuggingFaceSourceTests.tokenizer.write(toFile: folder + "/tokenizer.json", atomically: true, encoding: .utf8)
        let plain: [(String, [UInt64])] = [
            ("model.embed_tokens.weight", [40, 576]), ("model.norm.weight", [576]),
            ("model.layers.0.input_layernorm.weight", [576]), ("model.layers.0.post_attention_layernorm.weight", [576]),
            ("model.layers.0.self_attn.q_proj.weight", [576, 576]), ("model.layers.0.self_attn.k_proj.weight", [192, 576]),
            ("model.layers.0.self_attn.v_proj.weight", [192, 576]), ("model.layers.0.self_attn.o_proj.weight", [576, 576]),
            ("model.layers.0.mlp.gate_proj.weight", [1536, 576]), ("model.layers.0.mlp.down_proj.weight", [576, 1536]),
        ]
        var descriptors = plain.map { SafetensorsTensorDescriptor(name: $0.0, dtype: .BF16, shape: $0.1) }
        var data: [[UInt8]] = plain.map { _, shape in
            // 0.5 in bf16 (0x3F00): any finite value will do.
            Array(repeating: [0x00, 0x3F], count: Int(shape.reduce(1, *))).flatMap { $0 }
        }
        for info in golden.tensors where info.name.hasPrefix(weightName) && info.name != dropping {
            descriptors.append(SafetensorsTensorDescriptor(name: info.name, dtype: info.dtype, shape: info.shape))
            data.append(Array(golden.data(for: info)))
        }
        try SafetensorsWriter(tensors: descriptors).write(to: folder + "/model.safetensors", tensorData: data)
        return folder
    }

    @Test func checkpointSourceYieldsTheGoldenValuesAndConverts() throws {
        let folder = try Self.makeCheckpoint()
        let source = try HuggingFaceSource(folder: folder)
        let index = try #require(source.tensors.firstIndex { $0.name == "blk.0.ffn_up.weight" })
        #expect(source.tensors[index].type == .BF16 && source.tensors[index].shape == [576, 1536])
        #expect(!source.tensors.contains { $0.name.contains("absmax") || $0.name.contains("quant") })
        let ours = try source.withData(index) { Array($0.bindMemory(to: UInt16.self)) }
        let expected = try Self.referenceBF16(try SafetensorsFile(path: Self.goldenPath))
        #expect(ours == expected)

        // To GGUF: F32 keeps the values; NF4_DQ stores them again as NF4 with double quantization.
        for (preset, check) in [("F32", true), ("NF4_DQ", false)] {
            let output = try temporaryDirectory() + "/bnb-\(preset).gguf"
            _ = try ModelConverter(source: source, options: .init(preset: QuantizationPreset.named(preset)!)).write(to: output)
            let file = try GGUFFile(path: output)
            let info = try #require(file.tensor(named: "blk.0.ffn_up.weight"))
            if check {
                let values = Array(file.data(for: info).bindMemory(to: Float.self))
                #expect(values.map { UInt16($0.bitPattern >> 16) } == expected)
            } else {
                #expect(info.type == .NF4_DQ)
                #expect(file.tensor(named: "blk.0.ffn_up.weight.nf4_dq")?.shape == [1 + 54])
            }
        }
    }

    @Test func missingCompanionIsATypedError() throws {
        let folder = try Self.makeCheckpoint(dropping: Self.weightName + ".nested_absmax")
        #expect(throws: HFCheckpointError.self) { try HuggingFaceSource(folder: folder) }
        let noMap = try Self.makeCheckpoint(dropping: Self.weightName + ".quant_map")
        do {
            _ = try HuggingFaceSource(folder: noMap)
            Issue.record("a checkpoint without quant_map must not open")
        } catch let error as HFCheckpointError {
            #expect(error.reason == .missingTensor(Self.weightName + ".quant_map"))
        }
    }
}
