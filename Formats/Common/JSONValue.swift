/// A parsed JSON value that keeps what model-file validation needs and Foundation drops:
/// member order, duplicate detection, and integers exact to 64 bits (safetensors offsets can
/// exceed 2^53, where a `Double` would silently round).
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The number's literal text; convert with `int64`, `uint64` or `double`.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in file order; keys are unique (the parser rejects duplicates).
    case object([(key: String, value: JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    public subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    public var string: String? { if case let .string(s) = self { return s }; return nil }
    public var array: [JSONValue]? { if case let .array(a) = self { return a }; return nil }
    public var members: [(key: String, value: JSONValue)]? { if case let .object(m) = self { return m }; return nil }
    public var bool: Bool? { if case let .bool(b) = self { return b }; return nil }
    /// An integer literal (no fraction or exponent) that fits in UInt64.
    public var uint64: UInt64? { if case let .number(n) = self { return UInt64(n) }; return nil }
    public var int64: Int64? { if case let .number(n) = self { return Int64(n) }; return nil }
    public var double: Double? { if case let .number(n) = self { return Double(n) }; return nil }

    /// A short name of the value's kind, for error messages.
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSONValue {
    /// Serializes compactly (no spaces), escaping as RFC 8259 requires.
    public func serialized() -> String {
        var out = ""
        write(to: &out)
        return out
    }

    /// Serializes with two-space indentation and `key: value` members, as Python's
    /// `json.dumps(indent=2)` writes Hugging Face's `config.json`; empty containers stay `[]`/`{}`.
    public func prettySerialized() -> String {
        var out = ""
        writePretty(to: &out, depth: 0)
        return out + "\n"
    }

    private func writePretty(to out: inout String, depth: Int) {
        let inner = String(repeating: "  ", count: depth + 1), outer = String(repeating: "  ", count: depth)
        switch self {
        case let .array(elements) where !elements.isEmpty:
            out += "[\n"
            for (i, e) in elements.enumerated() {
                out += inner
                e.writePretty(to: &out, depth: depth + 1)
                out += i + 1 < elements.count ? ",\n" : "\n"
            }
            out += outer + "]"
        case let .object(members) where !members.isEmpty:
            out += "{\n"
            for (i, m) in members.enumerated() {
                out += inner
                Self.writeString(m.key, to: &out)
                out += ": "
                m.value.writePretty(to: &out, depth: depth + 1)
                out += i + 1 < members.count ? ",\n" : "\n"
            }
            out += outer + "}"
        default:
            write(to: &out)
        }
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .number(n): out += n
        case let .string(s): Self.writeString(s, to: &out)
        case let .array(elements):
            out += "["
            for (i, e) in elements.enumerated() {
                if i > 0 { out += "," }
                e.write(to: &out)
            }
            out += "]"
        case let .object(members):
            out += "{"
            for (i, m) in members.enumerated() {
                if i > 0 { out += "," }
                Self.writeString(m.key, to: &out)
                out += ":"
                m.value.write(to: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
