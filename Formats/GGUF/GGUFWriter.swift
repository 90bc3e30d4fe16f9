/// What a tensor will be in the output file; its bytes are supplied later, while streaming.
public struct GGUFTensorDescriptor: Equatable, Sendable {
    public var name: String
    /// ggml `ne` order, innermost first.
    public var shape: [UInt64]
    public var type: GGMLType

    public init(name: String, shape: [UInt64], type: GGMLType) {
        self.name = name
        self.shape = shape
        self.type = type
    }
}

/// Writes GGUF files: plans the whole layout first (header bytes, every tensor's aligned offset,
/// the final size), then streams tensor data through an `AtomicFileWriter`.
///
/// Planning first means every size error is found before a byte is written, and a dry run can
/// report the exact output size. Layout rules are llama.cpp's: each tensor's data starts at the
/// running sum of the previous sizes padded to `general.alignment`, and each tensor, the last
/// included, is followed by zero padding to the alignment.
public struct GGUFWriter {
    public let metadata: GGUFMetadata
    public let tensors: [GGUFTensorDescriptor]
    public let version: UInt32
    public let alignment: UInt64
    /// Header bytes: magic … tensor infos, padded to the alignment.
    public let header: [UInt8]
    /// Data-section offset of each tensor, and its byte count.
    public let tensorOffsets: [UInt64]
    public let tensorByteCounts: [UInt64]
    /// Exact size of the file that `write` produces.
    public let fileSize: UInt64
    private let plan: PlannedTensorFile

    public init(metadata: GGUFMetadata, tensors: [GGUFTensorDescriptor], version: UInt32 = 3, file: String = "<output>") throws {
        guard GGUFHeaderParser.supportedVersions.contains(version) else {
            throw FormatError(file: file, .unsupportedVersion(found: version, supported: GGUFHeaderParser.supportedVersions))
        }
        self.metadata = metadata
        self.tensors = tensors
        self.version = version
        alignment = try GGUFHeaderParser.alignment(in: metadata, file: file)

        var offsets: [UInt64] = []
        var sizes: [UInt64] = []
        var names = Set<String>()
        var next: UInt64 = 0
        for tensor in tensors {
            try GGUFTensorGeometry.validateName(tensor.name, file: file, offset: nil)
            guard names.insert(tensor.name).inserted else { throw FormatError(file: file, .duplicateTensor(tensor.name)) }
            let bytes = try GGUFTensorGeometry.byteCount(name: tensor.name, shape: tensor.shape, type: tensor.type, file: file, offset: nil)
            offsets.append(next)
            sizes.append(bytes)
            guard let end = GGUFTensorGeometry.align(next + bytes, alignment) else {
                throw FormatError(file: file, .arithmeticOverflow(what: "data section"))
            }
            next = end
        }
        tensorOffsets = offsets
        tensorByteCounts = sizes

        var out = ByteWriter(capacity: 1 << 16)
        out.write(bytes: GGUFHeaderParser.magic)
        out.write(version)
        out.write(UInt64(tensors.count))
        out.write(UInt64(metadata.count))
        for entry in metadata.entries {
            Self.writeString(entry.key, to: &out)
            out.write(entry.value.type.rawValue)
            Self.writeValue(entry.value, to: &out)
        }
        for (i, tensor) in tensors.enumerated() {
            Self.writeString(tensor.name, to: &out)
            out.write(UInt32(tensor.shape.count))
            for ne in tensor.shape { out.write(ne) }
            out.write(tensor.type.rawValue)
            out.write(offsets[i])
        }
        let padded = GGUFTensorGeometry.align(UInt64(out.count), alignment)!
        out.writeZeros(Int(padded) - out.count)
        header = out.bytes
        fileSize = UInt64(header.count) + (tensors.isEmpty ? 0 : next)
        let alignment = alignment
        plan = PlannedTensorFile(header: header, names: tensors.map(\.name), byteCounts: sizes,
                                 paddings: sizes.map { GGUFTensorGeometry.align($0, alignment)! - $0 }, offsets: offsets)
    }

    /// Writes the file atomically. `produce(i, sink)` must write exactly tensor `i`'s bytes;
    /// tensors are requested in order. On any error the destination is left untouched.
    public func write(to path: String, produce: (Int, TensorDataSink) throws -> Void) throws {
        try plan.write(to: path, produce: produce)
    }

    /// Convenience for tensors already in memory (tests, small files).
    public func write(to path: String, tensorData: [[UInt8]]) throws {
        try write(to: path) { i, sink in try sink.write(tensorData[i]) }
    }

    /// The descriptor list of an existing file, for copying it.
    public static func descriptors(of file: GGUFFile) -> [GGUFTensorDescriptor] {
        file.tensors.map { GGUFTensorDescriptor(name: $0.name, shape: $0.shape, type: $0.type) }
    }

    private static func writeString(_ string: String, to out: inout ByteWriter) {
        out.write(UInt64(string.utf8.count))
        out.write(bytes: string.utf8)
    }

    private static func writeValue(_ value: GGUFValue, to out: inout ByteWriter) {
        switch value {
        case let .uint8(v): out.write(v)
        case let .int8(v): out.write(v)
        case let .uint16(v): out.write(v)
        case let .int16(v): out.write(v)
        case let .uint32(v): out.write(v)
        case let .int32(v): out.write(v)
        case let .float32(v): out.write(v)
        case let .bool(v): out.write(UInt8(v ? 1 : 0))
        case let .string(v): writeString(v, to: &out)
        case let .array(a): writeArray(a, to: &out)
        case let .uint64(v): out.write(v)
        case let .int64(v): out.write(v)
        case let .float64(v): out.write(v)
        }
    }

    private static func writeArray(_ array: GGUFArray, to out: inout ByteWriter) {
        out.write(array.elementType.rawValue)
        out.write(UInt64(array.count))
        switch array {
        case let .uint8(a): out.write(bytes: a)
        case let .int8(a): a.forEach { out.write($0) }
        case let .uint16(a): a.forEach { out.write($0) }
        case let .int16(a): a.forEach { out.write($0) }
        case let .uint32(a): a.forEach { out.write($0) }
        case let .int32(a): a.forEach { out.write($0) }
        case let .float32(a): a.forEach { out.write($0) }
        case let .bool(a): a.forEach { out.write(UInt8($0 ? 1 : 0)) }
        case let .string(a): a.forEach { writeString($0, to: &out) }
        case let .array(a): a.forEach { writeArray($0, to: &out) }
        case let .uint64(a): a.forEach { out.write($0) }
        case let .int64(a): a.forEach { out.write($0) }
        case let .float64(a): a.forEach { out.write($0) }
        }
    }
}
