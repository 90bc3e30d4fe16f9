/// One metadata entry.
public struct GGUFKeyValue: Equatable, Sendable {
    public var key: String
    public var value: GGUFValue
    public init(_ key: String, _ value: GGUFValue) {
        self.key = key
        self.value = value
    }
}

/// GGUF metadata: keys in file order (order is part of the byte layout, so round trips keep it)
/// with O(1) lookup. Keys are unique.
public struct GGUFMetadata: Equatable, Sendable {
    public private(set) var entries: [GGUFKeyValue] = []
    private var index: [String: Int] = [:]

    public init() {}

    /// Builds metadata from entries; throws on a duplicate key.
    public init(_ entries: [GGUFKeyValue], file: String = "<memory>") throws {
        for entry in entries {
            guard index[entry.key] == nil else { throw FormatError(file: file, .duplicateKey(entry.key)) }
            append(entry)
        }
    }

    public var count: Int { entries.count }
    public var keys: [String] { entries.map(\.key) }

    public subscript(key: String) -> GGUFValue? {
        get { index[key].map { entries[$0].value } }
        set {
            if let newValue {
                if let i = index[key] { entries[i].value = newValue } else { append(GGUFKeyValue(key, newValue)) }
            } else if let i = index.removeValue(forKey: key) {
                entries.remove(at: i)
                for j in i..<entries.count { index[entries[j].key] = j }
            }
        }
    }

    public func contains(_ key: String) -> Bool { index[key] != nil }

    /// Appends without checking for duplicates; the reader checks before calling.
    mutating func append(_ entry: GGUFKeyValue) {
        index[entry.key] = entries.count
        entries.append(entry)
    }

    public static func == (lhs: GGUFMetadata, rhs: GGUFMetadata) -> Bool { lhs.entries == rhs.entries }

    // MARK: typed access

    public func integer(_ key: String) -> Int64? { self[key]?.integer }
    public func string(_ key: String) -> String? { self[key]?.string }
    public func float(_ key: String) -> Double? { self[key]?.floatingPoint }
    public func array(_ key: String) -> GGUFArray? { self[key]?.array }

    /// `general.architecture`, the namespace of the model's hyper-parameter keys.
    public var architecture: String? { string(GGUFKey.architecture) }
}
