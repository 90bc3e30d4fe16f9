import QuantCore
import QuantFormats

/// A JSON file of a checkpoint folder, parsed strictly, with typed look-ups whose errors name
/// the file and key.
struct HFJSONFile {
    let path: String
    let root: JSONValue

    init(path: String) throws {
        self.path = path
        let mapped: MappedFile
        do { mapped = try MappedFile(path: path) } catch { throw HFCheckpointError(file: path, .missingFile) }
        do {
            root = try mapped.withBytes { bytes throws(JSONSyntaxError) in try JSONParser.parse(bytes) }
        } catch let error as JSONSyntaxError {
            throw HFCheckpointError(file: path, .malformedJSON(error.description))
        }
        guard root.members != nil else { throw HFCheckpointError(file: path, .malformedJSON("top level is not an object")) }
    }

    /// nil when the key is absent or JSON null.
    func value(_ key: String) -> JSONValue? {
        guard let value = root[key], value != .null else { return nil }
        return value
    }

    /// The value at `key` converted by `extract`; nil when absent, an error naming the key and
    /// what was found when present with the wrong kind.
    private func typed<T>(_ key: String, expected: String, _ extract: (JSONValue) -> T?) throws -> T? {
        guard let value = value(key) else { return nil }
        guard let result = extract(value) else {
            throw HFCheckpointError(file: path, .badValue(key: key, message: "expected \(expected), found \(value.kindName)"))
        }
        return result
    }

    func integer(_ key: String) throws -> Int? { try typed(key, expected: "an integer") { $0.int64.flatMap { Int(exactly: $0) } } }
    func double(_ key: String) throws -> Double? { try typed(key, expected: "a number") { $0.double } }
    func bool(_ key: String) throws -> Bool? { try typed(key, expected: "true or false") { $0.bool } }
    func string(_ key: String) throws -> String? { try typed(key, expected: "a string") { $0.string } }

    func requiredInteger(_ key: String) throws -> Int {
        guard let value = try integer(key) else { throw HFCheckpointError(file: path, .missingKey(key)) }
        guard value > 0 else { throw HFCheckpointError(file: path, .badValue(key: key, message: "must be positive, found \(value)")) }
        return value
    }
}
