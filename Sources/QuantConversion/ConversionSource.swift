import QuantCore
import QuantFormats

/// One tensor of a model being converted, already named and shaped as GGUF wants it
/// (`shape` is ggml's ne[], fastest dimension first).
public struct SourceTensor: Sendable, Equatable {
    public let name: String
    public let shape: [UInt64]
    /// The ggml layout `ConversionSource.withData` hands out.
    public let type: GGMLType

    public init(name: String, shape: [UInt64], type: GGMLType) {
        self.name = name
        self.shape = shape
        self.type = type
    }

    public var elementCount: UInt64 { shape.reduce(1, *) }
    public var rowLength: UInt64 { shape.first ?? 1 }
    public var rowCount: UInt64 { shape.dropFirst().reduce(1, *) }
}

/// A model the converter reads: a GGUF file, or a Hugging Face checkpoint mapped to GGUF names,
/// layouts and metadata. Tensors are fetched one at a time so a conversion never holds the model.
public protocol ConversionSource: Sendable {
    /// The file or folder, for messages.
    var path: String { get }
    /// Every file the conversion reads: an output must not be one of them.
    var inputFiles: [String] { get }
    /// The checkpoint folder read, where outputs are refused unless asked for (nil for a file).
    var inputFolder: String? { get }
    /// The metadata the output starts from (hyper-parameters, tokenizer, provenance).
    var metadata: GGUFMetadata { get }
    var tensors: [SourceTensor] { get }
    /// Calls `body` with tensor `index`'s bytes in its `type` layout. The buffer is valid only
    /// inside `body` (it may be a memory map or a temporary the source built).
    func withData<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R
    /// Hints that tensor `index` is next, so its pages can be read ahead.
    func prefetch(_ index: Int)
    /// Tensor `index` is converted: its pages may leave the resident set.
    func release(_ index: Int)
}

extension ConversionSource {
    /// Tensor `index` decoded to f32 (whole tensor: for the calibration transforms and searches
    /// that need it at once, not for conversion, which streams).
    public func floats(_ index: Int) throws -> [Float] {
        let tensor = tensors[index]
        let codec = try TensorCodec(type: tensor.type, tensor: tensor.name)
        return try withData(index) { data in
            var values = [Float](repeating: 0, count: Int(tensor.elementCount))
            try values.withUnsafeMutableBufferPointer { try codec.dequantize(data, rowLength: Int(tensor.rowLength), into: $0, tensor: tensor.name) }
            return values
        }
    }
}

/// A GGUF file as a conversion source: tensors and metadata as stored, except QuantKit's NF4_DQ:
/// its companion tensors are not model tensors, and an NF4_DQ tensor is handed out as the NF4 it
/// decodes to (absmax restored exactly), so every codec path can read it.
public struct GGUFSource: ConversionSource {
    public let file: GGUFFile
    public let tensors: [SourceTensor]
    /// The file's tensor behind each source tensor.
    private let stored: [GGUFTensorInfo]

    public init(file: GGUFFile) {
        self.file = file
        let companions = Set(file.tensors.filter { $0.type == .NF4_DQ }.map { GGMLType.doubleQuantCompanionName(of: $0.name) })
        stored = file.tensors.filter { !companions.contains($0.name) }
        tensors = stored.map { SourceTensor(name: $0.name, shape: $0.shape, type: $0.type == .NF4_DQ ? .NF4 : $0.type) }
    }

    public var path: String { file.path }
    public var inputFiles: [String] { [file.path] }
    /// A GGUF file is not a checkpoint folder: writing next to it is what llama-quantize users do.
    public var inputFolder: String? { nil }
    public var metadata: GGUFMetadata { file.metadata }
    public func withData<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let info = stored[index]
        guard info.type == .NF4_DQ else { return try body(file.data(for: info)) }
        let expanded = try NF4DoubleQuant.expand(file.data(for: info), companion: try NF4DoubleQuant.companion(of: info, in: file), tensor: info.name)
        return try expanded.withUnsafeBytes(body)
    }
    public func prefetch(_ index: Int) { file.prefetch(stored[index]) }
    public func release(_ index: Int) { file.release(stored[index]) }
}

/// A source that changes some of another source's tensors (rotation, smoothing, permutation):
/// everything it does not override — files, metadata, paging hints — is the base's.
public protocol ConversionSourceDecorator: ConversionSource {
    var base: any ConversionSource { get }
}

extension ConversionSourceDecorator {
    public var path: String { base.path }
    public var inputFiles: [String] { base.inputFiles }
    public var inputFolder: String? { base.inputFolder }
    public var metadata: GGUFMetadata { base.metadata }
    public func prefetch(_ index: Int) { base.prefetch(index) }
    public func release(_ index: Int) { base.release(index) }
}
