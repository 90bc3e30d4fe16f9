/// A validated, memory-mapped safetensors file.
public final class SafetensorsFile: @unchecked Sendable {
    public let path: String
    public let header: SafetensorsHeader
    private let storage: MappedFile
    private let index: [String: Int]

    public init(path: String) throws {
        storage = try MappedFile(path: path)
        self.path = path
        header = try SafetensorsHeader(storage.bytes, file: path)
        index = Dictionary(uniqueKeysWithValues: header.tensors.enumerated().map { ($1.name, $0) })
    }

    public var tensors: [SafetensorsTensorInfo] { header.tensors }
    public var metadata: [(key: String, value: String)] { header.metadata }
    public var fileSize: UInt64 { UInt64(storage.count) }

    public func tensor(named name: String) -> SafetensorsTensorInfo? { index[name].map { header.tensors[$0] } }

    /// The tensor's bytes, a view into the mapping valid while this object lives.
    public func data(for tensor: SafetensorsTensorInfo) -> UnsafeRawBufferPointer {
        let start = Int(header.dataOffset + tensor.offset)
        return UnsafeRawBufferPointer(rebasing: storage.bytes[start ..< start + Int(tensor.byteCount)])
    }

    /// Asks the kernel to read the tensor's pages ahead (conversion visits tensors in turn).
    public func prefetch(_ tensor: SafetensorsTensorInfo) {
        storage.adviseSequential(offset: Int(header.dataOffset + tensor.offset), count: Int(tensor.byteCount))
    }

    /// Drops the tensor's pages from the resident set (see `MappedFile.adviseDone`).
    public func release(_ tensor: SafetensorsTensorInfo) {
        storage.adviseDone(offset: Int(header.dataOffset + tensor.offset), count: Int(tensor.byteCount))
    }

    public func data(named name: String) throws -> UnsafeRawBufferPointer {
        guard let info = tensor(named: name) else { throw FormatError(file: path, .tensorNotFound(name)) }
        return data(for: info)
    }
}
