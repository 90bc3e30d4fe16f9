/// GGUF metadata value type ids (ggml `docs/gguf.md`, `gguf_type`).
public enum GGUFValueType: UInt32, Sendable, CaseIterable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// Encoded size of one value, nil for variable-size types (string, array).
    public var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string, .array: nil
        }
    }

    /// The smallest encoding of one value: used to reject array counts that cannot fit in the
    /// remaining bytes before allocating anything.
    public var minimumEncodedSize: Int { fixedSize ?? (self == .string ? 8 : 4 + 8) }

    public var name: String { String(describing: self).uppercased() }
}

/// One metadata value.
public indirect enum GGUFValue: Equatable, Sendable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(String), array(GGUFArray)
    case uint64(UInt64), int64(Int64), float64(Double)

    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .array: .array
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        }
    }

    /// Any integer type as Int64 when it fits (hyper-parameters are stored as u32 by some
    /// writers and i32 or u64 by others).
    public var integer: Int64? {
        switch self {
        case let .uint8(v): Int64(v)
        case let .int8(v): Int64(v)
        case let .uint16(v): Int64(v)
        case let .int16(v): Int64(v)
        case let .uint32(v): Int64(v)
        case let .int32(v): Int64(v)
        case let .uint64(v): Int64(exactly: v)
        case let .int64(v): v
        default: nil
        }
    }

    /// Any numeric type as Double.
    public var floatingPoint: Double? {
        switch self {
        case let .float32(v): Double(v)
        case let .float64(v): v
        default: integer.map(Double.init)
        }
    }

    public var string: String? { if case let .string(s) = self { return s }; return nil }
    public var bool: Bool? { if case let .bool(b) = self { return b }; return nil }
    public var array: GGUFArray? { if case let .array(a) = self { return a }; return nil }
}

/// A typed GGUF array. Elements are stored unboxed by type, which keeps a 49 152-token vocabulary
/// compact and preserves the element type of empty arrays for byte-exact round trips.
public indirect enum GGUFArray: Equatable, Sendable {
    case uint8([UInt8]), int8([Int8]), uint16([UInt16]), int16([Int16]), uint32([UInt32]), int32([Int32])
    case float32([Float]), bool([Bool]), string([String]), array([GGUFArray])
    case uint64([UInt64]), int64([Int64]), float64([Double])

    public var elementType: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .array: .array
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        }
    }

    public var count: Int {
        switch self {
        case let .uint8(a): a.count
        case let .int8(a): a.count
        case let .uint16(a): a.count
        case let .int16(a): a.count
        case let .uint32(a): a.count
        case let .int32(a): a.count
        case let .float32(a): a.count
        case let .bool(a): a.count
        case let .string(a): a.count
        case let .array(a): a.count
        case let .uint64(a): a.count
        case let .int64(a): a.count
        case let .float64(a): a.count
        }
    }

    /// Element `i` boxed as a value (for display and generic access).
    public func element(_ i: Int) -> GGUFValue {
        switch self {
        case let .uint8(a): .uint8(a[i])
        case let .int8(a): .int8(a[i])
        case let .uint16(a): .uint16(a[i])
        case let .int16(a): .int16(a[i])
        case let .uint32(a): .uint32(a[i])
        case let .int32(a): .int32(a[i])
        case let .float32(a): .float32(a[i])
        case let .bool(a): .bool(a[i])
        case let .string(a): .string(a[i])
        case let .array(a): .array(a[i])
        case let .uint64(a): .uint64(a[i])
        case let .int64(a): .int64(a[i])
        case let .float64(a): .float64(a[i])
        }
    }

    public var strings: [String]? { if case let .string(a) = self { return a }; return nil }

    /// Integer elements as Int64 (any integer element type).
    public var integers: [Int64]? {
        switch self {
        case let .uint8(a): a.map(Int64.init)
        case let .int8(a): a.map(Int64.init)
        case let .uint16(a): a.map(Int64.init)
        case let .int16(a): a.map(Int64.init)
        case let .uint32(a): a.map(Int64.init)
        case let .int32(a): a.map(Int64.init)
        case let .int64(a): a
        case let .uint64(a): a.allSatisfy { $0 <= UInt64(Int64.max) } ? a.map { Int64($0) } : nil
        default: nil
        }
    }

    public var floats: [Float]? {
        switch self {
        case let .float32(a): a
        case let .float64(a): a.map(Float.init)
        default: nil
        }
    }
}
