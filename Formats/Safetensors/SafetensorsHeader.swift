/// A parsed and validated safetensors header, following the rules of the safetensors library
/// (`safetensors/src/tensor.rs`, `SafeTensors::read_metadata` and `Metadata::validate`).
public struct SafetensorsHeader: Sendable {
    /// The library's `MAX_HEADER_SIZE`.
    public static let maxHeaderBytes: UInt64 = 100_000_000
    public static let metadataKey = "__metadata__"

    /// Tensors in header order.
    public let tensors: [SafetensorsTensorInfo]
    /// `__metadata__` string pairs, in header order.
    public let metadata: [(key: String, value: String)]
    /// Absolute file offset of the data section (8 + header length).
    public let dataOffset: UInt64

    /// Parses the header of a file image and checks it against the image's length.
    public init(_ bytes: UnsafeRawBufferPointer, file: String) throws {
        var cursor = ByteCursor(bytes, file: file)
        let headerLength = try cursor.read(UInt64.self, "header length")
        guard headerLength <= Self.maxHeaderBytes else {
            throw FormatError(file: file, offset: 0, .headerTooLarge(size: headerLength, limit: Self.maxHeaderBytes))
        }
        let json = try cursor.readBytes(headerLength, "header")
        dataOffset = 8 + headerLength
        guard json.first == UInt8(ascii: "{") else { throw FormatError(file: file, offset: 8, .headerNotAnObject) }
        let root: JSONValue
        do {
            root = try JSONParser.parse(json)
        } catch {
            throw FormatError(file: file, offset: 8 + UInt64(error.offset), .malformedJSON(message: error.message))
        }
        guard let members = root.members else { throw FormatError(file: file, offset: 8, .headerNotAnObject) }

        var tensors: [SafetensorsTensorInfo] = []
        var metadata: [(key: String, value: String)] = []
        for (name, entry) in members {
            if name == Self.metadataKey {
                metadata = try Self.parseMetadata(entry, file: file)
            } else {
                tensors.append(try Self.parseTensor(name: name, entry, file: file))
            }
        }
        try Self.validateLayout(tensors, dataBytes: UInt64(cursor.remaining), file: file, dataOffset: dataOffset)
        self.tensors = tensors
        self.metadata = metadata
    }

    private static func parseMetadata(_ value: JSONValue, file: String) throws -> [(key: String, value: String)] {
        guard let members = value.members else {
            throw FormatError(file: file, .badMetadata(message: "expected an object, found \(value.kindName)"))
        }
        return try members.map { key, value in
            guard let text = value.string else {
                throw FormatError(file: file, .badMetadata(message: "value of '\(key)' is a \(value.kindName), expected a string"))
            }
            return (key, text)
        }
    }

    private static func parseTensor(name: String, _ entry: JSONValue, file: String) throws -> SafetensorsTensorInfo {
        func bad(_ message: String) -> FormatError { FormatError(file: file, .badTensorEntry(tensor: name, message: message)) }
        guard entry.members != nil else { throw bad("expected an object, found \(entry.kindName)") }
        guard let dtypeName = entry["dtype"]?.string else { throw bad("missing string 'dtype'") }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw FormatError(file: file, .unknownDType(tensor: name, dtype: dtypeName))
        }
        guard let shapeValues = entry["shape"]?.array else { throw bad("missing array 'shape'") }
        let shape = try shapeValues.map { value in
            guard let dim = value.uint64 else { throw bad("shape holds \(value.kindName) that is not a non-negative integer") }
            return dim
        }
        guard let offsets = entry["data_offsets"]?.array, offsets.count == 2,
              let begin = offsets[0].uint64, let end = offsets[1].uint64 else {
            throw bad("'data_offsets' must be [begin, end] non-negative integers")
        }
        guard begin <= end else { throw bad("data_offsets begin \(begin) is after end \(end)") }
        var elements: UInt64 = 1
        for dim in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw FormatError(file: file, .arithmeticOverflow(what: "tensor '\(name)' element count")) }
            elements = product
        }
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: UInt64(dtype.size))
        guard !overflow else { throw FormatError(file: file, .arithmeticOverflow(what: "tensor '\(name)' byte size")) }
        guard bytes == end - begin else {
            throw FormatError(file: file, .byteCountMismatch(tensor: name, expected: bytes, found: end - begin))
        }
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, offset: begin, byteCount: bytes)
    }

    /// Offsets, sorted, must tile the data section exactly: no gap, no overlap, no trailing bytes.
    private static func validateLayout(_ tensors: [SafetensorsTensorInfo], dataBytes: UInt64, file: String, dataOffset: UInt64) throws {
        var next: UInt64 = 0
        for tensor in tensors.sorted(by: { ($0.offset, $0.byteCount) < ($1.offset, $1.byteCount) }) {
            guard tensor.offset == next else {
                throw FormatError(file: file, offset: dataOffset + tensor.offset,
                                  .offsetsNotContiguous(tensor: tensor.name, expectedStart: next, foundStart: tensor.offset))
            }
            next = tensor.offset + tensor.byteCount
        }
        guard next == dataBytes else {
            throw FormatError(file: file, offset: dataOffset + min(next, dataBytes), .dataNotCovered(coveredBytes: next, dataBytes: dataBytes))
        }
    }
}
