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

    func integer(_ key: String) throws -> Int? {
        guard let value = value(key) else { return nil }
        guard let number = value.int64, let int = Int(exactly: number) else {
            throw HFCheckpointError(file: path, .badValue(key: key, message: "expected an integer, found \(value.kindName)"))
        }
        return int
    }

    func requiredInteger(_ key: String) throws -> Int {
        guard let value = try integer(key) else { throw HFCheckpointError(file: path, .missingKey(key)) }
        guard value > 0 else { throw HFCheckpointError(file: path, .badValue(key: key, message: "must be positive, found \(value)")) }
        return value
    }

    func double(_ key: String) throws -> Double? {
        guard let value = value(key) else { return nil }
        guard let number = value.double else {
            throw HFCheckpointError(file: path, .badValue(key: key, message: "expected a number, found \(value.kindName)"))
        }
        return number
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = value(key) else { return nil }
        guard let flag = value.bool else {
            throw HFCheckpointError(file: path, .badValue(key: key, message: "expected true or false, found \(value.kindName)"))
        }
        return flag
    }

    func string(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard let text = value.string else {
            throw HFCheckpointError(file: path, .badValue(key: key, message: "expected a string, found \(value.kindName)"))
        }
        return text
    }
}
