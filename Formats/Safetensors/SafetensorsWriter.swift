/// What a tensor will be in the output file; its bytes are supplied while streaming.
public struct SafetensorsTensorDescriptor: Equatable, Sendable {
    public var name: String
    public var dtype: SafetensorsDType
    /// PyTorch order, outermost first.
    public var shape: [UInt64]

    public init(name: String, dtype: SafetensorsDType, shape: [UInt64]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }
}

/// Writes safetensors files: the header is planned first (tensors laid out in the given order,
/// header padded with spaces to a multiple of 8 as the safetensors library does, so data is
/// 8-byte aligned), then data is streamed through an atomic writer.
public struct SafetensorsWriter {
    public let tensors: [SafetensorsTensorDescriptor]
    public let header: [UInt8]
    public let fileSize: UInt64
    private let plan: PlannedTensorFile

    public init(tensors: [SafetensorsTensorDescriptor], metadata: [(key: String, value: String)] = [], file: String = "<output>") throws {
        self.tensors = tensors
        var names = Set<String>()
        var members: [(key: String, value: JSONValue)] = []
        if !metadata.isEmpty {
            members.append((SafetensorsHeader.metadataKey, .object(metadata.map { ($0.key, JSONValue.string($0.value)) })))
        }
        var offsets: [UInt64] = []
        var sizes: [UInt64] = []
        var next: UInt64 = 0
        for tensor in tensors {
            guard tensor.name != SafetensorsHeader.metadataKey, names.insert(tensor.name).inserted else {
                throw FormatError(file: file, .duplicateTensor(tensor.name))
            }
            var bytes = UInt64(tensor.dtype.size)
            for dim in tensor.shape {
                let (product, overflow) = bytes.multipliedReportingOverflow(by: dim)
                guard !overflow else { throw FormatError(file: file, .arithmeticOverflow(what: "tensor '\(tensor.name)' byte size")) }
                bytes = product
            }
            members.append((tensor.name, .object([
                ("dtype", .string(tensor.dtype.rawValue)),
                ("shape", .array(tensor.shape.map { .number(String($0)) })),
                ("data_offsets", .array([.number(String(next)), .number(String(next + bytes))])),
            ])))
            offsets.append(next)
            sizes.append(bytes)
            next += bytes
        }
        var json = Array(JSONValue.object(members).serialized().utf8)
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var out = ByteWriter(capacity: json.count + 8)
        out.write(UInt64(json.count))
        out.write(bytes: json)
        header = out.bytes
        fileSize = UInt64(header.count) + next
        plan = PlannedTensorFile(header: header, names: tensors.map(\.name), byteCounts: sizes,
                                 paddings: sizes.map { _ in 0 }, offsets: offsets)
    }

    /// Writes the file atomically; `produce(i, sink)` must write exactly tensor `i`'s bytes.
    public func write(to path: String, produce: (Int, TensorDataSink) throws -> Void) throws {
        try plan.write(to: path, produce: produce)
    }

    public func write(to path: String, tensorData: [[UInt8]]) throws {
        try write(to: path) { i, sink in try sink.write(tensorData[i]) }
    }
}
