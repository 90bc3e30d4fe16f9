/// A validated, memory-mapped GGUF file (v2 or v3).
///
/// Opening parses and validates only the header; tensor data stays on disk until a view returned
/// by `data(for:)` is touched, so inspecting a multi-gigabyte model costs a few page faults.
/// Construction is validation: a `GGUFFile` that exists is well-formed.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    public let metadata: GGUFMetadata
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    public let alignment: UInt64
    /// Absolute file offset of the data section.
    public let dataOffset: UInt64
    public let fileSize: UInt64
    private let storage: MappedFile
    private let tensorIndex: [String: Int]

    public init(path: String) throws {
        storage = try MappedFile(path: path)
        self.path = path
        let header = try GGUFHeaderParser.parse(storage.bytes, file: path)
        version = header.version
        metadata = header.metadata
        tensors = header.tensors
        alignment = header.alignment
        dataOffset = header.dataOffset
        fileSize = UInt64(storage.count)
        tensorIndex = Dictionary(uniqueKeysWithValues: header.tensors.enumerated().map { ($1.name, $0) })
    }

    /// Validates a GGUF image held in memory (tests, fuzzing) without a file.
    public static func validate(_ bytes: UnsafeRawBufferPointer, file: String = "<memory>") throws {
        _ = try GGUFHeaderParser.parse(bytes, file: file)
    }

    /// The validated metadata of a GGUF image's header, ignoring its tensors (tools that need
    /// only the vocabulary or hyper-parameters; the tokenizer fuzz target).
    public static func metadata(in bytes: UnsafeRawBufferPointer, file: String = "<memory>") throws -> GGUFMetadata {
        try GGUFHeaderParser.parse(bytes, file: file, metadataOnly: true).metadata
    }

    public func tensor(named name: String) -> GGUFTensorInfo? { tensorIndex[name].map { tensors[$0] } }

    /// The tensor's bytes, a view into the mapping valid while this file object lives.
    public func data(for tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        let start = Int(dataOffset + tensor.offset)
        return UnsafeRawBufferPointer(rebasing: storage.bytes[start ..< start + Int(tensor.byteCount)])
    }

    public func data(named name: String) throws -> UnsafeRawBufferPointer {
        guard let info = tensor(named: name) else { throw FormatError(file: path, .tensorNotFound(name)) }
        return data(for: info)
    }

    /// Total bytes of tensor data (without padding).
    public var tensorDataBytes: UInt64 { tensors.reduce(0) { $0 + $1.byteCount } }

    /// Bytes after the last tensor's padded end (0 for files written by llama.cpp and gguf-py;
    /// llama.cpp ignores them, and so do we, but a rewrite drops them).
    public var trailingBytes: UInt64 {
        guard let last = tensors.last,
              let end = GGUFTensorGeometry.align(dataOffset + last.offset + last.byteCount, alignment) else { return 0 }
        return fileSize > end ? fileSize - end : 0
    }

    /// Hints the kernel that `tensor` will be read soon.
    public func prefetch(_ tensor: GGUFTensorInfo) {
        storage.adviseSequential(offset: Int(dataOffset + tensor.offset), count: Int(tensor.byteCount))
    }

    /// Drops the tensor's pages from the resident set (see `MappedFile.adviseDone`).
    public func release(_ tensor: GGUFTensorInfo) {
        storage.adviseDone(offset: Int(dataOffset + tensor.offset), count: Int(tensor.byteCount))
    }
}
