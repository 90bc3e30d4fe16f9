import Foundation
import QuantCalibration
import QuantFormats

/// SHA-256 of what a job reads, so a finished job is recognised by content, not by name or date.
enum Fingerprint {
    /// A file's SHA-256; a folder's is the SHA-256 of its regular files' names and SHA-256s, in
    /// name order (a Hugging Face checkpoint).
    static func of(_ path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FormatError(file: path, .cannotOpen(errno: ENOENT))
        }
        guard isDirectory.boolValue else { return try MappedFile(path: path).withBytes { SHA256.hex($0) } }
        var hasher = SHA256()
        for name in try FileManager.default.contentsOfDirectory(atPath: path).sorted() where !name.hasPrefix(".") {
            let child = (path as NSString).appendingPathComponent(name)
            var childIsDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: child, isDirectory: &childIsDirectory), !childIsDirectory.boolValue else { continue }
            hasher.update(Array("\(name)\0\(try of(child))\n".utf8))
        }
        return hasher.finalizeHex()
    }

    /// SHA-256 of a string (canonical JSON of a recipe, say).
    static func of(text: String) -> String {
        var hasher = SHA256()
        hasher.update(Array(text.utf8))
        return hasher.finalizeHex()
    }
}

/// Everything a job's outputs depend on. A job whose result records the same provenance is done;
/// if only the evaluation part differs, its file is kept and only re-evaluated.
public struct JobProvenance: Codable, Equatable, Sendable {
    public struct Conversion: Codable, Equatable, Sendable {
        public var inputSHA256: String
        /// The recipe as canonical JSON (sorted keys; paths as given).
        public var recipe: String
        /// SHA-256 of each file the recipe reads (statistics, importance matrix, calibration text).
        public var files: [String: String]
        public var toolVersion: String

        enum CodingKeys: String, CodingKey {
            case inputSHA256 = "input_sha256", recipe, files, toolVersion = "tool_version"
        }
    }

    public struct Evaluation: Codable, Equatable, Sendable {
        public var textSHA256: String
        public var chunks: Int
        public var context: Int
        public var kld: Bool
        public var generationTokens: Int
        /// What an evaluation measures; a result made by an older set is evaluated again.
        public var measures: Int? = Self.currentMeasures
        public static let currentMeasures = 4  // 2: + per-tensor relative errors; 4: + neuron activity

        enum CodingKeys: String, CodingKey {
            case textSHA256 = "text_sha256", chunks, context, kld, generationTokens = "generation_tokens", measures
        }
    }

    public var conversion: Conversion
    public var evaluation: Evaluation?
}
