import Foundation
import QuantConversion
import Yams

/// One thing wrong with a manifest, located by line and key path (`recipes[2].type`).
public struct ManifestProblem: Error, Equatable, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int?
    public let key: String
    public let message: String

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(key.isEmpty ? "" : "\(key): ")\(message)"
    }
}

/// Every problem found, reported together: the whole manifest is checked before any work starts.
public struct ManifestErrors: Error, CustomStringConvertible, Sendable {
    public let problems: [ManifestProblem]
    public var description: String {
        "the manifest has \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}

/// Reads a manifest: YAML syntax, then unknown keys, then values (types, names, files), all with
/// line numbers. Paths come back absolute (relative ones resolved against the manifest's folder).
public enum ManifestLoader {
    public static func load(path: String) throws -> BatchManifest {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ManifestErrors(problems: [.init(file: path, line: nil, key: "", message: "cannot read: \(error.localizedDescription)")])
        }
        return try load(yaml: text, file: path)
    }

    public static func load(yaml text: String, file: String) throws -> BatchManifest {
        let root: Node
        do {
            guard let node = try compose(yaml: text) else { throw ManifestErrors(problems: [.init(file: file, line: nil, key: "", message: "empty manifest")]) }
            root = node
        } catch let error as ManifestErrors { throw error } catch {
            throw ManifestErrors(problems: [.init(file: file, line: nil, key: "", message: "not valid YAML or JSON: \(error)")])
        }
        let tree = NodeIndex(root: root)
        var problems = tree.unknownKeys().map { ManifestProblem(file: file, line: $0.line, key: $0.path, message: "unknown key") }
        guard problems.isEmpty else { throw ManifestErrors(problems: problems) }
        var manifest: BatchManifest
        do {
            manifest = try YAMLDecoder().decode(BatchManifest.self, from: root)
        } catch let error as DecodingError {
            let (path, message) = describe(error)
            throw ManifestErrors(problems: [.init(file: file, line: tree.line(of: path), key: path, message: message)])
        }
        let folder = (file as NSString).deletingLastPathComponent
        resolvePaths(&manifest, against: folder.isEmpty ? FileManager.default.currentDirectoryPath : folder)
        problems = check(manifest).map { ManifestProblem(file: file, line: tree.line(of: $0.key), key: $0.key, message: $0.message) }
        guard problems.isEmpty else { throw ManifestErrors(problems: problems) }
        return manifest
    }

    /// Values that decode but cannot run: names, files, numbers.
    static func check(_ manifest: BatchManifest) -> [(key: String, message: String)] {
        var problems: [(key: String, message: String)] = []
        func checkName(_ name: String, key: String, seen: inout Set<String>) {
            if name.isEmpty || name.contains(where: { !($0.isLetter || $0.isNumber || "._-".contains($0)) }) || name.hasPrefix(".") {
                problems.append((key, "'\(name)' is not a usable file name (letters, digits, '.', '_', '-'; not starting with '.')"))
            }
            if !seen.insert(name).inserted { problems.append((key, "'\(name)' is used twice")) }
        }
        func checkFile(_ path: String?, key: String) {
            if let path, !FileManager.default.fileExists(atPath: path) { problems.append((key, "no such file: \(path)")) }
        }
        if manifest.models.isEmpty { problems.append(("models", "no models")) }
        if manifest.recipes.isEmpty { problems.append(("recipes", "no recipes")) }
        var names = Set<String>()
        for (i, model) in manifest.models.enumerated() {
            checkName(model.name, key: "models[\(i)].name", seen: &names)
            checkFile(model.path, key: "models[\(i)].path")
        }
        names = []
        for (i, entry) in manifest.recipes.enumerated() {
            checkName(entry.name, key: "recipes[\(i)].name", seen: &names)
            if !entry.calibratesStatistics { checkFile(entry.recipe.stats, key: "recipes[\(i)].stats") }
            checkFile(entry.recipe.imatrix, key: "recipes[\(i)].imatrix")
            checkFile(entry.recipe.calibration?.text, key: "recipes[\(i)].calibration.text")
            if entry.statisticsTokens < 2 { problems.append(("recipes[\(i)].statistics_tokens", "must be at least 2")) }
        }
        if let evaluation = manifest.evaluation {
            checkFile(evaluation.text, key: "evaluation.text")
            if evaluation.chunks < 1 { problems.append(("evaluation.chunks", "must be at least 1")) }
            if evaluation.context < 16 { problems.append(("evaluation.context", "must be at least 16")) }
            if evaluation.generationTokens < 0 { problems.append(("evaluation.generation_tokens", "must not be negative")) }
        }
        return problems
    }

    static func resolvePaths(_ manifest: inout BatchManifest, against folder: String) {
        func absolute(_ path: String) -> String {
            let expanded = (path as NSString).expandingTildeInPath
            return expanded.hasPrefix("/") ? expanded : (folder as NSString).appendingPathComponent(expanded)
        }
        manifest.output = absolute(manifest.output)
        for i in manifest.models.indices { manifest.models[i].path = absolute(manifest.models[i].path) }
        for i in manifest.recipes.indices {
            var recipe = manifest.recipes[i].recipe
            if let stats = recipe.stats, stats != BatchManifest.Recipe.calibrateKeyword { recipe.stats = absolute(stats) }
            recipe.imatrix = recipe.imatrix.map(absolute)
            if let text = recipe.calibration?.text { recipe.calibration?.text = absolute(text) }
            manifest.recipes[i].recipe = recipe
        }
        if let text = manifest.evaluation?.text { manifest.evaluation?.text = absolute(text) }
    }

    static func describe(_ error: DecodingError) -> (path: String, message: String) {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.reduce("") { result, key in
                if let index = key.intValue { return result + "[\(index)]" }
                return result.isEmpty ? key.stringValue : result + "." + key.stringValue
            }
        }
        switch error {
        case let .keyNotFound(key, context): return (path(context.codingPath + [key]), "missing")
        case let .typeMismatch(type, context): return (path(context.codingPath), "expected \(typeName(type))")
        case let .valueNotFound(type, context): return (path(context.codingPath), "expected \(typeName(type)), found nothing")
        case let .dataCorrupted(context): return (path(context.codingPath), context.debugDescription)
        @unknown default: return ("", "\(error)")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is UInt64.Type: "a whole number"
        case is Double.Type: "a number"
        default: "\(type)"
        }
    }
}
