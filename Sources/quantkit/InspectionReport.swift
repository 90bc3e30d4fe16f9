import Foundation
import QuantFormats

/// The `inspect` report, one shape for every input format. Its JSON encoding (sorted keys,
/// snake_case names below) is the stable `quantkit.inspect/1` schema documented in docs/CLI.md.
struct InspectionReport: Encodable {
    struct MetadataEntry: Encodable {
        let key: String
        /// GGUF value type name (`UINT32`, `STRING`, `ARRAY`…); `STRING` for safetensors metadata.
        let type: String
        let value: DisplayValue
    }

    struct Tensor: Encodable {
        let name: String
        let type: String
        /// As stored: ggml `ne` order (innermost first) for GGUF, PyTorch order for safetensors.
        let shape: [UInt64]
        let bytes: UInt64
        let offset: UInt64
        /// The shard file holding the tensor (sharded safetensors only).
        let file: String?
    }

    let schema = "quantkit.inspect/1"
    let path: String
    /// "gguf" or "safetensors".
    let format: String
    let ggufVersion: UInt32?
    /// Sum of the sizes of every file read.
    let fileSize: UInt64
    let files: [String]
    let architecture: String?
    let hyperparameters: [String: DisplayValue]
    let metadata: [MetadataEntry]
    let tensorCount: Int
    let parameterCount: UInt64
    let tensorBytes: UInt64
    let bitsPerWeight: Double
    /// Tensor counts per type name.
    let typeCounts: [String: Int]
    let tensors: [Tensor]?

    enum CodingKeys: String, CodingKey {
        case schema, path, format, ggufVersion = "gguf_version", fileSize = "file_size", files, architecture
        case hyperparameters, metadata, tensorCount = "tensor_count", parameterCount = "parameter_count"
        case tensorBytes = "tensor_bytes", bitsPerWeight = "bits_per_weight", typeCounts = "type_counts", tensors
    }

    static func make(path: String, includeTensors: Bool, arrayPreview: Int) throws -> InspectionReport {
        switch try ModelFileKind.detect(path: path) {
        case .gguf: return try gguf(GGUFFile(path: path), includeTensors: includeTensors, arrayPreview: arrayPreview)
        case .safetensors: return try safetensors(SafetensorsCheckpoint(path: path), includeTensors: includeTensors)
        }
    }

    private static func gguf(_ file: GGUFFile, includeTensors: Bool, arrayPreview: Int) -> InspectionReport {
        let architecture = file.metadata.architecture
        var hyperparameters: [String: DisplayValue] = [:]
        if let architecture {
            for entry in file.metadata.entries where entry.key.hasPrefix(architecture + ".") && entry.value.array == nil {
                hyperparameters[String(entry.key.dropFirst(architecture.count + 1))] = DisplayValue(entry.value, arrayPreview: arrayPreview)
            }
        }
        let metadata = file.metadata.entries.map {
            MetadataEntry(key: $0.key, type: $0.value.type.name, value: DisplayValue($0.value, arrayPreview: arrayPreview))
        }
        let tensors = file.tensors.map {
            Tensor(name: $0.name, type: $0.type.name, shape: $0.shape, bytes: $0.byteCount, offset: $0.offset, file: nil)
        }
        return InspectionReport(
            path: file.path, format: "gguf", ggufVersion: file.version, fileSize: file.fileSize, files: [file.path],
            architecture: architecture, hyperparameters: hyperparameters, metadata: metadata,
            parameterCount: file.tensors.reduce(0) { $0 + $1.elementCount }, tensors: tensors, includeTensors: includeTensors)
    }

    private static func safetensors(_ checkpoint: SafetensorsCheckpoint, includeTensors: Bool) throws -> InspectionReport {
        let config = try HFConfigSummary.load(nextTo: checkpoint)
        let metadata = (checkpoint.shards.first?.metadata ?? []).map {
            MetadataEntry(key: $0.key, type: "STRING", value: .string($0.value))
        }
        let sharded = checkpoint.indexPath != nil
        let tensors = checkpoint.entries.map { entry in
            Tensor(name: entry.info.name, type: entry.info.dtype.rawValue, shape: entry.info.shape, bytes: entry.info.byteCount,
                   offset: entry.info.offset, file: sharded ? (checkpoint.shards[entry.shard].path as NSString).lastPathComponent : nil)
        }
        var files = checkpoint.shards.map(\.path)
        if let index = checkpoint.indexPath { files.insert(index, at: 0) }
        return InspectionReport(
            path: checkpoint.path, format: "safetensors", ggufVersion: nil, fileSize: checkpoint.totalBytes, files: files,
            architecture: config?.architecture, hyperparameters: config?.hyperparameters ?? [:], metadata: metadata,
            parameterCount: checkpoint.entries.reduce(0) { $0 + $1.info.elementCount }, tensors: tensors, includeTensors: includeTensors)
    }

    private init(path: String, format: String, ggufVersion: UInt32?, fileSize: UInt64, files: [String], architecture: String?,
                 hyperparameters: [String: DisplayValue], metadata: [MetadataEntry], parameterCount: UInt64,
                 tensors: [Tensor], includeTensors: Bool) {
        self.path = path
        self.format = format
        self.ggufVersion = ggufVersion
        self.fileSize = fileSize
        self.files = files
        self.architecture = architecture
        self.hyperparameters = hyperparameters
        self.metadata = metadata
        self.tensorCount = tensors.count
        self.parameterCount = parameterCount
        self.tensorBytes = tensors.reduce(0) { $0 + $1.bytes }
        self.bitsPerWeight = parameterCount == 0 ? 0 : Double(tensorBytes) * 8 / Double(parameterCount)
        self.typeCounts = Dictionary(tensors.map { ($0.type, 1) }, uniquingKeysWith: +)
        self.tensors = includeTensors ? tensors : nil
    }
}
