/// One tensor's entry in a GGUF file: where its bytes are and how to read them.
public struct GGUFTensorInfo: Equatable, Sendable {
    public let name: String
    /// ggml `ne`: innermost dimension first (a PyTorch `[out, in]` weight has shape `[in, out]`).
    public let shape: [UInt64]
    public let type: GGMLType
    /// Offset of the data relative to the start of the data section.
    public let offset: UInt64
    /// Bytes the data occupies (without alignment padding).
    public let byteCount: UInt64

    public init(name: String, shape: [UInt64], type: GGMLType, offset: UInt64, byteCount: UInt64) {
        self.name = name
        self.shape = shape
        self.type = type
        self.offset = offset
        self.byteCount = byteCount
    }

    public var elementCount: UInt64 { shape.reduce(1, *) }
    /// Length of one row (`ne[0]`), 1 for a scalar.
    public var rowLength: UInt64 { shape.first ?? 1 }
    public var rowCount: UInt64 { shape.dropFirst().reduce(1, *) }
}

/// Checked size computations shared by the reader and the writer, so both agree on what a
/// tensor of a given type and shape occupies and reject the same bad shapes.
enum GGUFTensorGeometry {
    /// ggml's `GGML_MAX_DIMS`.
    static let maxDimensions = 4
    /// ggml's `GGML_MAX_NAME` (64) includes the terminating NUL.
    static let maxNameBytes = 63

    /// Bytes a tensor of `type` and `shape` needs, validating the shape as llama.cpp's loader does.
    static func byteCount(name: String, shape: [UInt64], type: GGMLType, file: String, offset: UInt64?) throws -> UInt64 {
        func fail(_ reason: FormatError.Reason) -> FormatError { FormatError(file: file, offset: offset, reason) }
        guard let traits = type.traits else { throw fail(.unknownTensorType(tensor: name, type: type.rawValue)) }
        guard !traits.isRetired else {
            throw fail(.retiredTensorType(tensor: name, type: type.rawValue, name: traits.name))
        }
        guard shape.count <= maxDimensions else {
            throw fail(.tooManyDimensions(tensor: name, dimensions: UInt32(shape.count), limit: maxDimensions))
        }
        // ggml stores ne as int64: each must be non-negative and their product must fit.
        var elements: UInt64 = 1
        for (i, ne) in shape.enumerated() {
            guard ne <= UInt64(Int64.max) else { throw fail(.badDimension(tensor: name, index: i, value: ne)) }
            let (product, overflow) = elements.multipliedReportingOverflow(by: ne)
            guard !overflow, product <= UInt64(Int64.max) else {
                throw fail(.arithmeticOverflow(what: "tensor '\(name)' element count"))
            }
            elements = product
        }
        let rowLength = shape.first ?? 1
        guard let rowBytes = traits.rowBytes(elements: rowLength) else {
            throw fail(.rowNotBlockAligned(tensor: name, rowLength: rowLength, blockSize: traits.blockSize, type: traits.name))
        }
        let rows = rowLength == 0 ? 0 : elements / rowLength
        let (bytes, overflow) = rowBytes.multipliedReportingOverflow(by: rows)
        guard !overflow else { throw fail(.arithmeticOverflow(what: "tensor '\(name)' byte size")) }
        return bytes
    }

    static func validateName(_ name: String, file: String, offset: UInt64?) throws {
        let bytes = name.utf8.count
        guard bytes <= maxNameBytes else {
            throw FormatError(file: file, offset: offset, .tensorNameTooLong(name: name, bytes: bytes, limit: maxNameBytes))
        }
    }

    /// `value` rounded up to a multiple of `alignment` (a power of two), nil on overflow.
    static func align(_ value: UInt64, _ alignment: UInt64) -> UInt64? {
        let (sum, overflow) = value.addingReportingOverflow(alignment - 1)
        return overflow ? nil : sum & ~(alignment - 1)
    }
}
