#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The identity of a file on disk: two paths name the same file exactly when device and inode
/// agree, whatever symlinks, `..`, `./` or hard links lie between them — a textual comparison of
/// paths misses all of those.
public struct FileIdentity: Hashable, Sendable {
    public let device: UInt64
    public let inode: UInt64

    /// The identity of what `path` finally names (symlinks followed); nil when nothing is there.
    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}

/// Why an output path is refused before anything is written.
public enum OutputPathError: Error, Equatable, CustomStringConvertible {
    /// The output names an input file (itself, through a symlink, or a hard link).
    case outputIsInput(output: String, input: String)
    /// The output would land inside the checkpoint folder being read.
    case outputInInputFolder(output: String, folder: String)
    case outputIsDirectory(String)

    public var description: String {
        switch self {
        case let .outputIsInput(output, input):
            return "output '\(output)' is the input file '\(input)'; choose another name"
        case let .outputInInputFolder(output, folder):
            return "output '\(output)' is inside the input checkpoint folder '\(folder)'; write elsewhere or pass --allow-output-in-input-folder"
        case let .outputIsDirectory(path):
            return "output '\(path)' is a directory; give a file name"
        }
    }
}

/// Checks an output path against what a command reads, before a byte is written.
///
/// The output itself is written through `AtomicFileWriter`, whose final `rename` replaces the
/// directory entry: an output path that is a symlink is replaced by the new file, never written
/// through, so a link cannot redirect the write onto a file elsewhere. What remains to refuse is
/// an output that *is* an input (the rename would replace the input under the user's feet) and,
/// for checkpoint folders, writing among the files being read unless the user asks for it.
public enum OutputPathGuard {
    public static func check(output: String, inputs: [String], inputFolder: String? = nil, allowInInputFolder: Bool = false) throws {
        // The path itself (the link, when it is one) and what it resolves to are both compared:
        // replacing either would lose an input.
        var identities: [FileIdentity] = []
        var linkInfo = stat()
        if lstat(output, &linkInfo) == 0 {
            if (linkInfo.st_mode & S_IFMT) == S_IFDIR { throw OutputPathError.outputIsDirectory(output) }
            identities.append(FileIdentity(device: UInt64(linkInfo.st_dev), inode: UInt64(linkInfo.st_ino)))
        }
        if let target = FileIdentity(path: output) { identities.append(target) }
        for input in inputs {
            guard let identity = FileIdentity(path: input) else { continue }
            if identities.contains(identity) {
                throw OutputPathError.outputIsInput(output: output, input: input)
            }
        }
        if let inputFolder, !allowInInputFolder,
           let folder = FileIdentity(path: inputFolder), FileIdentity(path: splitPath(output).folder) == folder {
            throw OutputPathError.outputInInputFolder(output: output, folder: inputFolder)
        }
    }
}

extension FileIdentity {
    init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }
}
