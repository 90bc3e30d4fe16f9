import Foundation
import QuantCore
import QuantFormats

/// Writes a GGUF model (any type the codecs decode) as a Hugging Face checkpoint folder — the
/// inverse of `HuggingFaceSource`: `config.json`, `generation_config.json`, the tokenizer files,
/// and the weights in one precision (norms in F32) as `model.safetensors`, or as shards with
/// `model.safetensors.index.json` past `maxShardBytes` (transformers' `save_pretrained` layout).
/// q/k rows go back to the rotate-half layout, a tied head stays tied, `rope_freqs` goes back into
/// `rope_scaling`. The folder appears under its final name only when every file is written.
public struct HuggingFaceExporter {
    /// Weight precisions a checkpoint can hold.
    public enum DType: String, CaseIterable, Sendable {
        case bf16, f16, f32
        var ggmlType: GGMLType { switch self { case .bf16: .BF16; case .f16: .F16; case .f32: .F32 } }
        var safetensors: SafetensorsDType { switch self { case .bf16: .BF16; case .f16: .F16; case .f32: .F32 } }
        var torchName: String { switch self { case .bf16: "bfloat16"; case .f16: "float16"; case .f32: "float32" } }
    }

    /// One output tensor: where it comes from and how its rows move.
    public struct PlannedTensor: Sendable {
        public let hfName: String
        /// PyTorch order, outermost first.
        public let shape: [UInt64]
        public let sourceIndex: Int
        public let shard: Int
        /// q/k: heads whose rows go back from llama.cpp's RoPE layout.
        let ropeHeads: Int?
        public let bytes: UInt64
        /// The weights' precision, or F32 for a 1-D tensor (norms: GGUF holds them in F32, and
        /// rounding them to the weights' precision would change the model for nothing).
        public let dtype: DType
    }

    public let source: any ConversionSource
    public let dtype: DType
    public let config: HFLlamaConfig
    public let tensors: [PlannedTensor]
    public let shardCount: Int
    private let sideFiles: [(name: String, contents: [UInt8])]

    /// transformers' default `max_shard_size` ("5GB").
    public static let defaultMaxShardBytes: UInt64 = 5_000_000_000

    /// `dtype` nil: the source's own float type when every weight has the same one, else BF16.
    public init(source: any ConversionSource, dtype: DType? = nil, maxShardBytes: UInt64 = defaultMaxShardBytes) throws {
        self.source = source
        let names = Set(source.tensors.map(\.name))
        let ropeFactors = try source.tensors.firstIndex { $0.name == LlamaTensor.ropeFrequencies.name() }.map { try source.floats($0) }
        config = try HFLlamaConfig(gguf: source.metadata, file: source.path, tied: !names.contains(LlamaTensor.output.name()), ropeFactors: ropeFactors)
        let matrixTypes = Set(source.tensors.filter { $0.shape.count > 1 }.map(\.type))
        self.dtype = dtype ?? DType.allCases.first { matrixTypes == [$0.ggmlType] } ?? .bf16

        let (required, optional) = HFTensorMapping.expected(for: config)
        let byGGUFName = Dictionary(uniqueKeysWithValues: (required + optional).map { ($0.ggufName, $0) })
        for mapping in required where !names.contains(mapping.ggufName) {
            throw HFExportError(file: source.path, .missingTensor(mapping.ggufName))
        }
        var planned: [PlannedTensor] = [], shard = 0, shardBytes: UInt64 = 0
        let indexOf = Dictionary(uniqueKeysWithValues: source.tensors.enumerated().map { ($1.name, $0) })
        for mapping in required + optional {
            guard let index = indexOf[mapping.ggufName] else { continue }
            guard source.tensors[index].shape == Array(mapping.hfShape.reversed()) else {
                throw HFExportError(file: source.path, .unexpectedTensor("\(mapping.ggufName) with shape \(source.tensors[index].shape)"))
            }
            let dtype = mapping.hfShape.count == 1 ? DType.f32 : self.dtype
            let bytes = mapping.hfShape.reduce(1, *) * UInt64(dtype.safetensors.size)
            // A new shard starts when this tensor would overflow the current one, as transformers does.
            if shardBytes > 0 && shardBytes + bytes > maxShardBytes { shard += 1; shardBytes = 0 }
            shardBytes += bytes
            var heads: Int?
            if case let .rope(h)? = mapping.permutation { heads = h }
            planned.append(PlannedTensor(hfName: mapping.hfName, shape: mapping.hfShape, sourceIndex: index, shard: shard, ropeHeads: heads, bytes: bytes, dtype: dtype))
        }
        for tensor in source.tensors where byGGUFName[tensor.name] == nil && tensor.name != LlamaTensor.ropeFrequencies.name() {
            throw HFExportError(file: source.path, .unexpectedTensor(tensor.name))
        }
        tensors = planned
        shardCount = shard + 1
        let tokenizer = try HFTokenizerExport(metadata: source.metadata, config: config, file: source.path)
        sideFiles = [("config.json", Array(config.configJSON(torchDtype: self.dtype.torchName).prettySerialized().utf8)),
                     ("generation_config.json", Array(config.generationConfigJSON.prettySerialized().utf8))] + tokenizer.files
    }

    /// The weight files' names, in shard order.
    public var shardNames: [String] {
        guard shardCount > 1 else { return ["model.safetensors"] }
        func pad(_ n: Int) -> String { let s = String(n); return String(repeating: "0", count: max(0, 5 - s.count)) + s }
        return (1...shardCount).map { "model-\(pad($0))-of-\(pad(shardCount)).safetensors" }
    }

    /// Every file the folder will hold.
    public var fileNames: [String] {
        sideFiles.map(\.name) + shardNames + (shardCount > 1 ? ["model.safetensors.index.json"] : [])
    }

    public var weightBytes: UInt64 { tensors.reduce(0) { $0 + $1.bytes } }

    /// Writes the folder. `progress(tensorsDone, tensor)` after each tensor.
    public func write(to folder: String, progress: (Int, PlannedTensor) -> Void = { _, _ in }) throws {
        let final = (folder as NSString).standardizingPath
        let manager = FileManager.default
        if manager.fileExists(atPath: final) {
            guard (try? manager.contentsOfDirectory(atPath: final))?.isEmpty == true else { throw HFExportError(file: source.path, .outputExists(final)) }
        }
        let parent = (final as NSString).deletingLastPathComponent
        let staging = (parent.isEmpty ? "." : parent) + "/." + (final as NSString).lastPathComponent + AtomicFileWriter.temporaryMarker + String(getpid())
        try? manager.removeItem(atPath: staging)
        try manager.createDirectory(atPath: staging, withIntermediateDirectories: true)
        do {
            for (name, contents) in sideFiles { try writeFile(staging + "/" + name, contents) }
            var done = 0
            for (shard, name) in shardNames.enumerated() {
                let members = tensors.filter { $0.shard == shard }
                let writer = try SafetensorsWriter(tensors: members.map { .init(name: $0.hfName, dtype: $0.dtype.safetensors, shape: $0.shape) },
                                                   metadata: [("format", "pt")], file: name)
                try writer.write(to: staging + "/" + name) { i, sink in
                    try sink.write(try data(members[i]))
                    source.release(members[i].sourceIndex)
                    done += 1
                    progress(done, members[i])
                }
            }
            if shardCount > 1 { try writeFile(staging + "/model.safetensors.index.json", Array(index.prettySerialized().utf8)) }
            if manager.fileExists(atPath: final) { try manager.removeItem(atPath: final) }
            try manager.moveItem(atPath: staging, toPath: final)
        } catch {
            try? manager.removeItem(atPath: staging)
            throw error
        }
    }

    private var index: JSONValue {
        let names = shardNames
        return .object([("metadata", .object([("total_size", .number(String(weightBytes)))])),
                        ("weight_map", .object(tensors.sorted { $0.hfName < $1.hfName }.map { ($0.hfName, .string(names[$0.shard])) }))])
    }

    private func writeFile(_ path: String, _ contents: [UInt8]) throws {
        let file = try AtomicFileWriter(destination: path)
        do { try file.write(contents); try file.commit() } catch { file.discard(); throw error }
    }

    /// Tensor `planned`'s bytes in the checkpoint's precision and row order.
    func data(_ planned: PlannedTensor) throws -> [UInt8] {
        let tensor = source.tensors[planned.sourceIndex]
        let rowLength = Int(tensor.rowLength)
        var values = try source.floats(planned.sourceIndex)
        if let heads = planned.ropeHeads {
            // GGUF row r holds HF row ropeSourceRow(r): put each back.
            let rows = Int(tensor.rowCount), headDimension = rows / heads
            var restored = [Float](repeating: 0, count: values.count)
            for row in 0..<rows {
                let to = ropeSourceRow(row, headDimension: headDimension) * rowLength
                restored[to..<(to + rowLength)] = values[(row * rowLength)..<((row + 1) * rowLength)]
            }
            values = restored
        }
        let dtype = planned.dtype
        if dtype == .f16 {
            let beyond = values.reduce(0) { $0 + ($1.isFinite && abs($1) > 65504 ? 1 : 0) }
            guard beyond == 0 else { throw HFExportError(file: source.path, .beyondDTypeRange(tensor: planned.hfName, dtype: "f16", count: beyond)) }
        }
        return try TensorCodec(type: dtype.ggmlType, tensor: tensor.name).quantize(values, rowLength: rowLength, tensor: tensor.name)
    }
}
