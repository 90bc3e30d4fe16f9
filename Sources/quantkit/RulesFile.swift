import Foundation
import Yams

/// The YAML of a `--rules` file reduced to (pattern, type name, origin) entries, before any
/// pattern is compiled or type resolved. Kept free of the project's modules so the fuzz target
/// (`scripts/fuzz.sh rules`) builds it alone with Yams.
///
/// Accepted shapes, checked in file order:
///
///     - pattern: 'attn_v\.weight'        # a list of {pattern, type}
///       type: Q6_K
///     'blk\.(0|1)\.ffn_down': Q8_0       # or a mapping of pattern to type
enum RulesFile {
    struct Entry: Equatable {
        let pattern: String
        let type: String
        /// "FILE: line N", for error messages.
        let origin: String
    }

    struct SyntaxError: Error, CustomStringConvertible {
        let description: String
    }

    static func entries(yaml text: String, file: String) throws -> [Entry] {
        let node: Node?
        do { node = try compose(yaml: text) } catch { throw SyntaxError(description: "\(file): not valid YAML: \(error)") }
        guard let node else { return [] }
        if let mapping = node.mapping {
            return try mapping.map { key, value in
                let line = key.mark?.line ?? 0
                guard let pattern = key.string, let type = value.string else {
                    throw SyntaxError(description: "\(file): line \(line): expected 'PATTERN: TYPE'")
                }
                return Entry(pattern: pattern, type: type, origin: "\(file): line \(line)")
            }
        }
        guard let list = node.sequence else {
            throw SyntaxError(description: "\(file): expected a list of {pattern, type} or a mapping of pattern to type")
        }
        return try list.map { entry in
            let line = entry.mark?.line ?? 0
            guard let pattern = entry["pattern"]?.string, let type = entry["type"]?.string else {
                throw SyntaxError(description: "\(file): line \(line): each rule needs 'pattern' and 'type'")
            }
            return Entry(pattern: pattern, type: type, origin: "\(file): line \(line)")
        }
    }
}
