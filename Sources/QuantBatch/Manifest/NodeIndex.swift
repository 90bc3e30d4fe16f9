import Yams

/// A composed YAML tree indexed by key path (`recipes[2].calibration.text`) for line numbers,
/// and checked against the keys each level of a manifest accepts.
struct NodeIndex {
    private(set) var lines: [String: Int] = [:]
    private var mappings: [(path: String, keys: [(String, Int)])] = []

    init(root: Node) { visit(root, path: "") }

    private mutating func visit(_ node: Node, path: String) {
        if let line = node.mark?.line, lines[path] == nil { lines[path] = line }
        if let mapping = node.mapping {
            var keys: [(String, Int)] = []
            for (key, value) in mapping {
                let name = key.string ?? "?"
                let child = path.isEmpty ? name : "\(path).\(name)"
                lines[child] = key.mark?.line ?? lines[path]
                keys.append((name, key.mark?.line ?? 0))
                visit(value, path: child)
            }
            mappings.append((path, keys))
        } else if let sequence = node.sequence {
            for (i, element) in sequence.enumerated() { visit(element, path: "\(path)[\(i)]") }
        }
    }

    /// The line of `path`, or of its nearest ancestor that has one.
    func line(of path: String) -> Int? {
        var path = path
        while true {
            if let line = lines[path] { return line }
            guard let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) else { return nil }
            path = String(path[..<cut])
        }
    }

    /// Keys a level of the manifest does not accept, with their lines.
    func unknownKeys() -> [(path: String, line: Int)] {
        var found: [(path: String, line: Int)] = []
        for (path, keys) in mappings {
            guard let allowed = Self.allowedKeys(at: path) else { continue }
            for (key, line) in keys where !allowed.contains(key) {
                found.append((path.isEmpty ? key : "\(path).\(key)", line))
            }
        }
        return found.sorted { $0.line < $1.line }
    }

    /// The keys of the mapping at `path` (indices stripped), nil where any key is fine.
    static func allowedKeys(at path: String) -> Set<String>? {
        let shape = path.replacing(/\[\d+\]/, with: "[]")
        switch shape {
        case "": return BatchManifest.topKeys
        case "models[]": return BatchManifest.modelKeys
        case "recipes[]": return BatchManifest.recipeKeys
        case "recipes[].calibration": return BatchManifest.calibrationKeys
        case "recipes[].tensor_types[]": return BatchManifest.tensorRuleKeys
        case "evaluation": return BatchManifest.evaluationKeys
        default: return nil
        }
    }
}
