import Foundation
import QuantCore
import QuantFormats

/// `--tensor-type REGEX=TYPE` and `--rules FILE` (YAML, read by `RulesFile`) turned into planner
/// overrides, checked in order (the first pattern found anywhere in a tensor name wins).
enum TensorTypeRules {
    struct RuleError: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(argument: String) throws -> TensorTypeOverride {
        guard let equals = argument.lastIndex(of: "=") else {
            throw RuleError(description: "--tensor-type '\(argument)': expected REGEX=TYPE")
        }
        return try override(pattern: String(argument[..<equals]), type: String(argument[argument.index(after: equals)...]),
                            origin: "--tensor-type '\(argument)'")
    }

    static func load(file: String) throws -> [TensorTypeOverride] {
        let entries: [RulesFile.Entry]
        do { entries = try RulesFile.entries(yaml: try MappedFile.readText(path: file), file: file) } catch let error as RulesFile.SyntaxError {
            throw RuleError(description: error.description)
        }
        return try entries.map { try override(pattern: $0.pattern, type: $0.type, origin: $0.origin) }
    }

    private static func override(pattern: String, type name: String, origin: String) throws -> TensorTypeOverride {
        guard let type = GGMLType(name: name), ModelConverter.encodableTypes.contains(type) else {
            throw RuleError(description: "\(origin): unknown tensor type '\(name)'")
        }
        do { return try TensorTypeOverride(pattern: pattern, type: type) } catch {
            throw RuleError(description: "\(origin): invalid regular expression '\(pattern)': \(error)")
        }
    }
}
