import Foundation

/// Which reader a path needs: decided by content (magic bytes), not by file name, except for
/// folders and index files.
public enum ModelFileKind: Sendable {
    case gguf, safetensors

    public static func detect(path: String) throws -> ModelFileKind {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FormatError(file: path, .cannotOpen(errno: ENOENT))
        }
        if isDirectory.boolValue || path.hasSuffix(".json") { return .safetensors }
        let head = try MappedFile(path: path).withBytes { Array($0.prefix(9)) }
        if head.starts(with: Array("GGUF".utf8)) { return .gguf }
        // safetensors: u64 header length, then '{'.
        if head.count == 9, head[8] == UInt8(ascii: "{") { return .safetensors }
        if path.hasSuffix(".safetensors") { return .safetensors }
        if path.hasSuffix(".gguf") { return .gguf }
        throw FormatError(file: path, offset: 0, .unknownFormat(firstBytes: Array(head.prefix(8))))
    }
}
