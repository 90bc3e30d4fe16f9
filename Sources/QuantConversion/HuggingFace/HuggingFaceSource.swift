import Foundation
import QuantCore
import QuantFormats

/// A Hugging Face llama-family checkpoint folder as a conversion source: tensors renamed to
/// GGUF, q/k rows permuted to llama.cpp's RoPE layout, norms widened to F32, 2-D weights kept in
/// their stored precision (BF16 stays BF16), and metadata built from config.json and the
/// tokenizer files as llama.cpp's convert_hf_to_gguf.py writes it. Weights of a bitsandbytes-4bit
/// checkpoint (NF4/FP4, plain or double-quantized) are dequantized as bitsandbytes does, to the
/// dtype they were quantized from — a conversion llama.cpp's converter cannot do.
public final class HuggingFaceSource: ConversionSource, @unchecked Sendable {
    public let path: String
    public let config: HFLlamaConfig
    public let checkpoint: SafetensorsCheckpoint
    public let tensors: [SourceTensor]
    /// GGUF metadata without `general.file_type`, which the converter sets.
    public let metadata: GGUFMetadata

    private enum Origin {
        case checkpoint(SafetensorsCheckpoint.Entry, HFTensorMapping)
        case bitsandbytes(BnB4BitCheckpointWeight, HFTensorMapping)
        case generated([Float])
    }
    private let origins: [Origin]

    /// The checkpoint's files the conversion reads (configuration, index, shards, tokenizer).
    public var inputFiles: [String] {
        let side = ["config.json", "tokenizer.json", "tokenizer_config.json", "tokenizer.model", "generation_config.json", "special_tokens_map.json"]
        return side.map { path + "/" + $0 } + [checkpoint.indexPath].compactMap { $0 } + checkpoint.shards.map(\.path)
    }
    public var inputFolder: String? { path }

    public init(folder: String) throws {
        path = folder
        config = try HFLlamaConfig(path: folder + "/config.json")
        checkpoint = try SafetensorsCheckpoint(path: folder)
        let (required, optional) = HFTensorMapping.expected(for: config)
        let known = Dictionary(uniqueKeysWithValues: (required + optional).map { ($0.hfName, $0) })
        for entry in checkpoint.entries where known[entry.info.name] == nil && !HFTensorMapping.isIgnored(entry.info.name)
            && !BnB4BitCheckpointWeight.isCompanion(entry.info.name, in: checkpoint) {
            throw HFCheckpointError(file: folder, .unexpectedTensor(entry.info.name))
        }
        var found: [(SourceTensor, Origin)] = []
        for mapping in required + optional {
            guard let entry = checkpoint.entry(named: mapping.hfName) else {
                if required.contains(mapping) { throw HFCheckpointError(file: folder, .missingTensor(mapping.hfName)) }
                continue
            }
            if let weight = try BnB4BitCheckpointWeight(checkpoint: checkpoint, name: mapping.hfName) {
                guard weight.shape == mapping.hfShape else {
                    throw HFCheckpointError(file: folder, .wrongShape(tensor: mapping.hfName, expected: mapping.hfShape, found: weight.shape))
                }
                found.append((SourceTensor(name: mapping.ggufName, shape: mapping.hfShape.reversed(), type: weight.dtype), .bitsandbytes(weight, mapping)))
                continue
            }
            guard entry.info.shape == mapping.hfShape else {
                throw HFCheckpointError(file: folder, .wrongShape(tensor: mapping.hfName, expected: mapping.hfShape, found: entry.info.shape))
            }
            guard let stored = entry.info.dtype.ggmlType, TensorTypeChoice.floatTypes.contains(stored) else {
                throw HFCheckpointError(file: folder, .unsupportedDType(tensor: mapping.hfName, dtype: entry.info.dtype.rawValue))
            }
            // convert_hf_to_gguf.py stores 1-D tensors (norms) as F32 whatever the checkpoint holds.
            let type = mapping.hfShape.count == 1 ? GGMLType.F32 : stored
            found.append((SourceTensor(name: mapping.ggufName, shape: mapping.hfShape.reversed(), type: type), .checkpoint(entry, mapping)))
        }
        if let factors = config.llama3RopeFactors {
            found.append((SourceTensor(name: LlamaTensor.ropeFrequencies.name(), shape: [UInt64(factors.count)], type: .F32), .generated(factors)))
        }
        let order = TensorTypePlanner.llamaOrder(found.map(\.0.name))
        tensors = order.map { found[$0].0 }
        origins = order.map { found[$0].1 }
        let tokenizer = try HFTokenizerMetadata(folder: folder, config: config)
        metadata = try Self.metadata(folder: folder, config: config, tokenizer: tokenizer)
    }

    private static func metadata(folder: String, config: HFLlamaConfig, tokenizer: HFTokenizerMetadata) throws -> GGUFMetadata {
        let name = (folder as NSString).standardizingPath.split(separator: "/").last.map(String.init) ?? "model"
        var entries: [GGUFKeyValue] = [
            .init(GGUFKey.architecture, .string(config.ggufArchitecture)),
            .init("general.type", .string("model")),
            .init(GGUFKey.name, .string(name)),
        ]
        entries += config.hyperparameterEntries(fileType: 0)
        entries += tokenizer.entries
        entries.append(.init(GGUFKey.quantizationVersion, .uint32(2)))
        return try GGUFMetadata(entries, file: folder)
    }

    public func withData<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let tensor = tensors[index]
        switch origins[index] {
        case let .generated(values):
            return try values.withUnsafeBytes(body)
        case let .bitsandbytes(weight, mapping):
            let values = try weight.dequantized()
            guard case .rope? = mapping.permutation else { return try values.withUnsafeBytes(body) }
            return try values.withUnsafeBytes { permuted($0, tensor: tensor, mapping: mapping) }.withUnsafeBytes(body)
        case let .checkpoint(entry, mapping):
            let stored = checkpoint.data(for: entry)
            let storedType = entry.info.dtype.ggmlType!
            if storedType != tensor.type {
                var values = [Float](repeating: 0, count: Int(tensor.elementCount))
                try values.withUnsafeMutableBufferPointer {
                    try TensorCodec(type: storedType, tensor: tensor.name).dequantize(stored, rowLength: Int(tensor.rowLength), into: $0, tensor: tensor.name)
                }
                return try values.withUnsafeBytes(body)
            }
            guard case .rope? = mapping.permutation else { return try body(stored) }
            return try permuted(stored, tensor: tensor, mapping: mapping).withUnsafeBytes(body)
        }
    }

    /// q/k rows reordered to llama.cpp's RoPE layout.
    private func permuted(_ stored: UnsafeRawBufferPointer, tensor: SourceTensor, mapping: HFTensorMapping) -> [UInt8] {
        guard case let .rope(heads)? = mapping.permutation else { return Array(stored) }
        let rows = Int(tensor.rowCount), rowBytes = stored.count / rows
        let headDimension = rows / heads
        var permuted = [UInt8](repeating: 0, count: stored.count)
        permuted.withUnsafeMutableBytes { out in
            for row in 0..<rows {
                let from = ropeSourceRow(row, headDimension: headDimension)
                out.baseAddress!.advanced(by: row * rowBytes)
                    .copyMemory(from: stored.baseAddress!.advanced(by: from * rowBytes), byteCount: rowBytes)
            }
        }
        return permuted
    }

    public func prefetch(_ index: Int) {
        if case let .checkpoint(entry, _) = origins[index] { checkpoint.prefetch(entry) }
    }

    public func release(_ index: Int) {
        if case let .checkpoint(entry, _) = origins[index] { checkpoint.release(entry) }
    }
}
