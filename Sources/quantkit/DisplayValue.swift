import QuantFormats

/// A metadata value as shown by `inspect`: scalars as they are, arrays summarised to their type,
/// length and first elements so a 49 152-entry vocabulary stays one line.
indirect enum DisplayValue: Encodable, CustomStringConvertible {
    case integer(Int64)
    case unsigned(UInt64)
    case number(Double)
    /// Kept as Float so it prints its shortest form (1e-05, not 9.999999747378752e-06).
    case float(Float)
    case bool(Bool)
    case string(String)
    case array(elementType: String, count: Int, head: [DisplayValue])

    init(_ value: GGUFValue, arrayPreview: Int) {
        switch value {
        case let .uint64(v): self = .unsigned(v)
        case let .float32(v): self = .float(v)
        case let .float64(v): self = .number(v)
        case let .bool(v): self = .bool(v)
        case let .string(v): self = .string(v)
        case let .array(a):
            self = .array(elementType: a.elementType.name, count: a.count,
                          head: (0..<min(a.count, arrayPreview)).map { DisplayValue(a.element($0), arrayPreview: arrayPreview) })
        default: self = .integer(value.integer ?? 0)
        }
    }

    init(json: JSONValue) {
        switch json {
        case .null: self = .string("null")
        case let .bool(b): self = .bool(b)
        case let .number(n): self = Int64(n).map(DisplayValue.integer) ?? .number(Double(n) ?? .nan)
        case let .string(s): self = .string(s)
        case let .array(a): self = .array(elementType: "JSON", count: a.count, head: a.prefix(8).map(DisplayValue.init(json:)))
        case let .object(m): self = .string(JSONValue.object(m).serialized())
        }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .integer(v): try container.encode(v)
        case let .unsigned(v): try container.encode(v)
        case let .number(v): try container.encode(v.isFinite ? v : 0)
        case let .float(v): try container.encode(v.isFinite ? v : 0)
        case let .bool(v): try container.encode(v)
        case let .string(v): try container.encode(v)
        case let .array(elementType, count, head):
            try container.encode(ArraySummary(elementType: elementType, count: count, head: head, truncated: head.count < count))
        }
    }

    private struct ArraySummary: Encodable {
        let elementType: String
        let count: Int
        let head: [DisplayValue]
        let truncated: Bool
        enum CodingKeys: String, CodingKey { case elementType = "element_type", count, head, truncated }
    }

    var description: String {
        switch self {
        case let .integer(v): return String(v)
        case let .unsigned(v): return String(v)
        case let .number(v): return String(v)
        case let .float(v): return String(v)
        case let .bool(v): return String(v)
        case let .string(v): return Self.quote(v)
        case let .array(elementType, count, head):
            let shown = head.map(\.description).joined(separator: ", ")
            return "[\(elementType) × \(count)] [\(shown)\(head.count < count ? ", …" : "")]"
        }
    }

    /// Strings shown on one line: escaped newlines, long text cut.
    private static func quote(_ s: String) -> String {
        var text = s.replacingOccurrences(of: "\n", with: "\\n")
        if text.count > 100 { text = String(text.prefix(100)) + "… (\(s.utf8.count) bytes)" }
        return "\"" + text + "\""
    }
}
