import Foundation
import QuantCore
import QuantFormats
import Yams

/// `--tensor-type REGEX=TYPE` and `--rules FILE` turned into planner overrides.
///
/// A rules file is YAML: a list of `{pattern, type}` entries, or a mapping of pattern to type,
/// checked in file order (the first pattern found anywhere in a tensor name wins):
///
///     - pattern: 'attn_v\.weight'
///       type: Q6_K
///     - pattern: 'blk\.(0|1)\.ffn_down'
///       type: Q8_0
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
        let text = try MappedFile.readText(path: file)
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { throw RuleError(description: "\(file): not valid YAML: \(error)") }
        guard let node else { return [] }
        if let mapping = node.mapping {
            return try mapping.map { key, value in
                guard let pattern = key.string, let type = value.string else {
                    throw RuleError(description: "\(file): line \(key.mark?.line ?? 0): expected 'PATTERN: TYPE'")
                }
                return try override(pattern: pattern, type: type, origin: "\(file): line \(key.mark?.line ?? 0)")
            }
        }
        guard let list = node.sequence else {
            throw RuleError(description: "\(file): expected a list of {pattern, type} or a mapping of pattern to type")
        }
        return try list.map { entry in
            let line = entry.mark?.line ?? 0
            guard let pattern = entry["pattern"]?.string, let type = entry["type"]?.string else {
                throw RuleError(description: "\(file): line \(line): each rule needs 'pattern' and 'type'")
            }
            return try override(pattern: pattern, type: type, origin: "\(file): line \(line)")
        }
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
