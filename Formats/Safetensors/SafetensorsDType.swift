/// safetensors dtype spellings and element sizes (safetensors `Dtype`), as one table.
public struct SafetensorsDType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    /// Bytes per element.
    public let size: Int

    public init?(rawValue: String) {
        guard let size = Self.sizes[rawValue] else { return nil }
        self.rawValue = rawValue
        self.size = size
    }

    public var description: String { rawValue }

    private static let sizes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
        "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4,
        "I64": 8, "U64": 8, "F64": 8,
    ]

    public static let F64 = SafetensorsDType(rawValue: "F64")!
    public static let F32 = SafetensorsDType(rawValue: "F32")!
    public static let F16 = SafetensorsDType(rawValue: "F16")!
    public static let BF16 = SafetensorsDType(rawValue: "BF16")!
    public static let I64 = SafetensorsDType(rawValue: "I64")!
    public static let I32 = SafetensorsDType(rawValue: "I32")!
    public static let I16 = SafetensorsDType(rawValue: "I16")!
    public static let I8 = SafetensorsDType(rawValue: "I8")!
    public static let U8 = SafetensorsDType(rawValue: "U8")!
    public static let BOOL = SafetensorsDType(rawValue: "BOOL")!

    /// The ggml type with the same element encoding, where one exists.
    public var ggmlType: GGMLType? {
        switch rawValue {
        case "F32": .F32
        case "F16": .F16
        case "BF16": .BF16
        case "F64": .F64
        case "I8": .I8
        case "I16": .I16
        case "I32": .I32
        case "I64": .I64
        default: nil
        }
    }
}

/// One tensor in a safetensors file.
public struct SafetensorsTensorInfo: Equatable, Sendable {
    public let name: String
    public let dtype: SafetensorsDType
    /// PyTorch order: outermost dimension first.
    public let shape: [UInt64]
    /// Offset of the data relative to the start of the data section.
    public let offset: UInt64
    public let byteCount: UInt64

    public var elementCount: UInt64 { shape.reduce(1, *) }
}
