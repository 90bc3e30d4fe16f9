/// Parses and validates a GGUF header (metadata and tensor infos) from a byte buffer.
///
/// Validation follows llama.cpp's `gguf_init_from_file_impl` and candle's reader, and is stricter
/// where they trust the file: every declared count is checked against the bytes that remain before
/// anything is allocated, strings must be UTF-8, array nesting is capped, duplicate keys and tensor
/// names are rejected, and tensor data must be aligned, contiguous and inside the file.
struct GGUFHeaderParser {
    static let magic: [UInt8] = Array("GGUF".utf8)
    static let supportedVersions: [UInt32] = [2, 3]
    /// Deepest array-of-array nesting accepted (gguf-py writes at most 2 in practice).
    static let maxArrayNesting = 8
    /// Longest string accepted; real files hold chat templates of a few tens of kilobytes.
    static let maxStringBytes: UInt64 = 1 << 28

    struct Result {
        var version: UInt32
        var metadata: GGUFMetadata
        var tensors: [GGUFTensorInfo]
        var alignment: UInt64
        var dataOffset: UInt64
    }

    private var cursor: ByteCursor

    static func parse(_ bytes: UnsafeRawBufferPointer, file: String, metadataOnly: Bool = false) throws -> Result {
        var parser = GGUFHeaderParser(cursor: ByteCursor(bytes, file: file))
        return try parser.parse(metadataOnly: metadataOnly)
    }

    private init(cursor: ByteCursor) { self.cursor = cursor }

    private mutating func parse(metadataOnly: Bool) throws -> Result {
        try cursor.require(4, for: "magic")
        let magicBytes = Array(try cursor.readBytes(4, "magic"))
        guard magicBytes == Self.magic else { throw FormatError(file: cursor.file, offset: 0, .badMagic(found: magicBytes)) }
        let version = try cursor.read(UInt32.self, "version")
        guard Self.supportedVersions.contains(version) else {
            throw FormatError(file: cursor.file, offset: 4, .unsupportedVersion(found: version, supported: Self.supportedVersions))
        }
        let tensorCount = try cursor.read(UInt64.self, "tensor_count")
        let kvCount = try cursor.read(UInt64.self, "kv_count")
        // A KV needs at least a key length, a type and one value byte; a tensor info at least a name
        // length, n_dims, type and offset.
        try checkCount(kvCount, minimumSize: 8 + 4 + 1, what: "kv_count")
        try checkCount(tensorCount, minimumSize: 8 + 4 + 4 + 8, what: "tensor_count")

        var metadata = GGUFMetadata()
        for _ in 0..<kvCount {
            let keyOffset = cursor.fileOffset
            let key = try readString(what: "metadata key")
            guard !key.isEmpty else { throw FormatError(file: cursor.file, offset: keyOffset, .emptyKey) }
            guard !metadata.contains(key) else { throw FormatError(file: cursor.file, offset: keyOffset, .duplicateKey(key)) }
            let rawType = try cursor.read(UInt32.self, "type of '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw cursor.error(.unknownValueType(key: key, type: rawType))
            }
            metadata.append(GGUFKeyValue(key, try readValue(type, key: key, depth: 0)))
        }

        let alignment = try Self.alignment(in: metadata, file: cursor.file)
        if metadataOnly {
            return Result(version: version, metadata: metadata, tensors: [], alignment: alignment, dataOffset: 0)
        }

        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(Int(tensorCount))
        var names = Set<String>()
        var expectedOffset: UInt64 = 0
        for _ in 0..<tensorCount {
            let infoOffset = cursor.fileOffset
            let name = try readString(what: "tensor name")
            try GGUFTensorGeometry.validateName(name, file: cursor.file, offset: infoOffset)
            guard names.insert(name).inserted else {
                throw FormatError(file: cursor.file, offset: infoOffset, .duplicateTensor(name))
            }
            let dimensions = try cursor.read(UInt32.self, "n_dims of '\(name)'")
            guard dimensions <= GGUFTensorGeometry.maxDimensions else {
                throw cursor.error(.tooManyDimensions(tensor: name, dimensions: dimensions, limit: GGUFTensorGeometry.maxDimensions))
            }
            var shape: [UInt64] = []
            for i in 0..<Int(dimensions) { shape.append(try cursor.read(UInt64.self, "ne[\(i)] of '\(name)'")) }
            let type = GGMLType(rawValue: try cursor.read(UInt32.self, "type of '\(name)'"))
            let offset = try cursor.read(UInt64.self, "offset of '\(name)'")
            let byteCount = try GGUFTensorGeometry.byteCount(name: name, shape: shape, type: type, file: cursor.file, offset: infoOffset)
            guard offset % alignment == 0 else {
                throw FormatError(file: cursor.file, offset: infoOffset, .misalignedTensorOffset(tensor: name, offset: offset, alignment: alignment))
            }
            guard offset == expectedOffset else {
                throw FormatError(file: cursor.file, offset: infoOffset, .unexpectedTensorOffset(tensor: name, expected: expectedOffset, found: offset))
            }
            guard let end = GGUFTensorGeometry.align(offset &+ byteCount, alignment), offset &+ byteCount >= offset else {
                throw FormatError(file: cursor.file, offset: infoOffset, .arithmeticOverflow(what: "tensor '\(name)' end offset"))
            }
            expectedOffset = end
            tensors.append(GGUFTensorInfo(name: name, shape: shape, type: type, offset: offset, byteCount: byteCount))
        }

        guard let dataOffset = GGUFTensorGeometry.align(cursor.fileOffset, alignment) else {
            throw cursor.error(.arithmeticOverflow(what: "data section offset"))
        }
        let fileSize = UInt64(cursor.bytes.count)
        if !tensors.isEmpty {
            let available = fileSize >= dataOffset ? fileSize - dataOffset : 0
            for tensor in tensors where tensor.offset > available || tensor.byteCount > available - tensor.offset {
                throw FormatError(file: cursor.file, offset: dataOffset,
                                  .tensorOutOfBounds(tensor: tensor.name, offset: tensor.offset, bytes: tensor.byteCount, available: available))
            }
            // llama.cpp reads the data blob as the sum of padded sizes, so the last tensor's padding
            // must be present too (gguf-py and llama.cpp always write it).
            if expectedOffset > available {
                throw FormatError(file: cursor.file, offset: fileSize,
                                  .truncated(what: "padding after the last tensor", needed: expectedOffset - available, remaining: 0))
            }
        }
        return Result(version: version, metadata: metadata, tensors: tensors, alignment: alignment, dataOffset: dataOffset)
    }

    /// `general.alignment` if present (must be a UINT32 power of two), else the default.
    static func alignment(in metadata: GGUFMetadata, file: String) throws -> UInt64 {
        guard let value = metadata[GGUFKey.alignment] else { return GGUFKey.defaultAlignment }
        guard case let .uint32(alignment) = value else {
            throw FormatError(file: file, .wrongValueType(key: GGUFKey.alignment, expected: "UINT32", found: value.type.name))
        }
        guard alignment != 0, alignment & (alignment - 1) == 0 else { throw FormatError(file: file, .badAlignment(UInt64(alignment))) }
        return UInt64(alignment)
    }

    private func checkCount(_ count: UInt64, minimumSize: UInt64, what: String) throws {
        let limit = UInt64(cursor.remaining) / minimumSize
        guard count <= limit else { throw cursor.error(.countTooLarge(what: what, count: count, limit: limit)) }
    }

    private mutating func readString(what: @autoclosure () -> String) throws -> String {
        let length = try cursor.read(UInt64.self, "length of \(what())")
        guard length <= Self.maxStringBytes else {
            throw cursor.error(.stringTooLong(what: what(), length: length, limit: Self.maxStringBytes))
        }
        let start = cursor.fileOffset
        let bytes = try cursor.readBytes(length, what())
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw FormatError(file: cursor.file, offset: start, .invalidUTF8(what: what()))
        }
        return text
    }

    private mutating func readValue(_ type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try cursor.read(UInt8.self, key))
        case .int8: return .int8(try cursor.read(Int8.self, key))
        case .uint16: return .uint16(try cursor.read(UInt16.self, key))
        case .int16: return .int16(try cursor.read(Int16.self, key))
        case .uint32: return .uint32(try cursor.read(UInt32.self, key))
        case .int32: return .int32(try cursor.read(Int32.self, key))
        case .float32: return .float32(try cursor.readFloat(key))
        case .uint64: return .uint64(try cursor.read(UInt64.self, key))
        case .int64: return .int64(try cursor.read(Int64.self, key))
        case .float64: return .float64(try cursor.readDouble(key))
        case .bool: return .bool(try readBool(key))
        case .string: return .string(try readString(what: "value of '\(key)'"))
        case .array: return .array(try readArray(key: key, depth: depth + 1))
        }
    }

    private mutating func readBool(_ key: String) throws -> Bool {
        let byte = try cursor.read(UInt8.self, key)
        guard byte <= 1 else {
            throw cursor.error(.wrongValueType(key: key, expected: "BOOL 0 or 1", found: "byte \(byte)"))
        }
        return byte == 1
    }

    private mutating func readArray(key: String, depth: Int) throws -> GGUFArray {
        guard depth <= Self.maxArrayNesting else { throw cursor.error(.arrayNestingTooDeep(key: key, limit: Self.maxArrayNesting)) }
        let rawType = try cursor.read(UInt32.self, "array type of '\(key)'")
        guard let elementType = GGUFValueType(rawValue: rawType) else {
            throw cursor.error(.unknownValueType(key: key, type: rawType))
        }
        let count = try cursor.read(UInt64.self, "array length of '\(key)'")
        try checkCount(count, minimumSize: UInt64(elementType.minimumEncodedSize), what: "array length of '\(key)'")
        let n = Int(count)
        switch elementType {
        case .uint8: return .uint8(try readScalars(n, key))
        case .int8: return .int8(try readScalars(n, key))
        case .uint16: return .uint16(try readScalars(n, key))
        case .int16: return .int16(try readScalars(n, key))
        case .uint32: return .uint32(try readScalars(n, key))
        case .int32: return .int32(try readScalars(n, key))
        case .uint64: return .uint64(try readScalars(n, key))
        case .int64: return .int64(try readScalars(n, key))
        case .float32: return .float32(try readScalars(n, key, as: UInt32.self).map(Float.init(bitPattern:)))
        case .float64: return .float64(try readScalars(n, key, as: UInt64.self).map(Double.init(bitPattern:)))
        case .bool: return .bool(try (0..<n).map { _ in try readBool(key) })
        case .string: return .string(try (0..<n).map { i in try readString(what: "element \(i) of '\(key)'") })
        case .array: return .array(try (0..<n).map { _ in try readArray(key: key, depth: depth + 1) })
        }
    }

    private mutating func readScalars<T: FixedWidthInteger>(_ n: Int, _ key: String, as: T.Type = T.self) throws -> [T] {
        let raw = try cursor.readBytes(UInt64(n) * UInt64(MemoryLayout<T>.size), "elements of '\(key)'")
        return (0..<n).map { T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
    }
}
