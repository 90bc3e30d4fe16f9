import Foundation
import QuantConversion
import QuantCore
import QuantFormats

/// `--tensor-type REGEX=TYPE` and `--rules FILE` (YAML, read by `RulesFile`) turned into the
/// recipe's tensor rules, checked in order (the first pattern found anywhere in a tensor name
/// wins). Each rule is checked here too, so an error names the argument or the file's line.
enum TensorTypeRules {
    struct RuleError: Error, CustomStringConvertible {
        let description: String
    }

    static func rule(argument: String) throws -> ConversionRecipe.TensorRule {
        guard let equals = argument.lastIndex(of: "=") else {
            throw RuleError(description: "--tensor-type '\(argument)': expected REGEX=TYPE")
        }
        return try checked(pattern: String(argument[..<equals]), type: String(argument[argument.index(after: equals)...]),
                           origin: "--tensor-type '\(argument)'")
    }

    static func rules(file: String) throws -> [ConversionRecipe.TensorRule] {
        let entries: [RulesFile.Entry]
        do { entries = try RulesFile.entries(yaml: try MappedFile.readText(path: file), file: file) } catch let error as RulesFile.SyntaxError {
            throw RuleError(description: error.description)
        }
        return try entries.map { try checked(pattern: $0.pattern, type: $0.type, origin: $0.origin) }
    }

    private static func checked(pattern: String, type name: String, origin: String) throws -> ConversionRecipe.TensorRule {
        guard let type = GGMLType(name: name), ModelConverter.encodableTypes.contains(type) else {
            throw RuleError(description: "\(origin): unknown tensor type '\(name)'")
        }
        do { _ = try TensorTypeOverride(pattern: pattern, type: type) } catch {
            throw RuleError(description: "\(origin): invalid regular expression '\(pattern)': \(error)")
        }
        return .init(pattern: pattern, type: name)
    }
}
