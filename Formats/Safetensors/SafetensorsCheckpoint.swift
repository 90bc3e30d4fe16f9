import Foundation

/// A safetensors checkpoint: one file, or shards listed by `model.safetensors.index.json`
/// (`{"metadata": {...}, "weight_map": {tensor: shard}}`), seen as one set of tensors.
///
/// Opening validates every shard and cross-checks the index: each listed shard exists inside the
/// checkpoint folder, each tensor is in the shard the index names, and no shard holds a tensor the
/// index does not list or that another shard also holds.
public final class SafetensorsCheckpoint: @unchecked Sendable {
    public static let indexFileName = "model.safetensors.index.json"
    public static let singleFileName = "model.safetensors"

    /// Where one tensor lives.
    public struct Entry: Sendable {
        public let info: SafetensorsTensorInfo
        public let shard: Int
    }

    /// The folder, single file, or index file given.
    public let path: String
    /// The index file, nil for a single-file checkpoint.
    public let indexPath: String?
    public let shards: [SafetensorsFile]
    /// Tensors in shard order, then header order within a shard.
    public let entries: [Entry]
    private let lookup: [String: Int]

    /// Opens a folder (index if present, else `model.safetensors`), a `.safetensors` file, or an
    /// index file.
    public init(path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FormatError(file: path, .cannotOpen(errno: ENOENT))
        }
        if isDirectory.boolValue {
            let index = path + "/" + Self.indexFileName
            let single = path + "/" + Self.singleFileName
            if FileManager.default.fileExists(atPath: index) {
                indexPath = index
            } else if FileManager.default.fileExists(atPath: single) {
                indexPath = nil
                shards = [try SafetensorsFile(path: single)]
                (entries, lookup) = try Self.collect(shards)
                return
            } else {
                throw FormatError(file: path, .noCheckpointFound(looked: [Self.indexFileName, Self.singleFileName]))
            }
        } else if path.hasSuffix(".json") {
            indexPath = path
        } else {
            indexPath = nil
            shards = [try SafetensorsFile(path: path)]
            (entries, lookup) = try Self.collect(shards)
            return
        }
        let (files, weightMap) = try Self.readIndex(indexPath!)
        shards = try files.map { try SafetensorsFile(path: $0) }
        (entries, lookup) = try Self.collect(shards)
        try Self.crossCheck(weightMap: weightMap, files: files, shards: shards, entries: entries, lookup: lookup, indexPath: indexPath!)
    }

    public var tensorCount: Int { entries.count }
    public var totalBytes: UInt64 { shards.reduce(0) { $0 + $1.fileSize } }

    public func entry(named name: String) -> Entry? { lookup[name].map { entries[$0] } }

    public func data(for entry: Entry) -> UnsafeRawBufferPointer { shards[entry.shard].data(for: entry.info) }

    public func prefetch(_ entry: Entry) { shards[entry.shard].prefetch(entry.info) }
    public func release(_ entry: Entry) { shards[entry.shard].release(entry.info) }

    public func data(named name: String) throws -> UnsafeRawBufferPointer {
        guard let entry = entry(named: name) else { throw FormatError(file: path, .tensorNotFound(name)) }
        return data(for: entry)
    }

    /// Parses the index: shard paths (unique, in first-mention order) and the weight map.
    private static func readIndex(_ indexPath: String) throws -> (files: [String], weightMap: [(tensor: String, shard: String)]) {
        let root: JSONValue
        do {
            root = try MappedFile(path: indexPath).withBytes { bytes throws(JSONSyntaxError) in try JSONParser.parse(bytes) }
        } catch let error as JSONSyntaxError {
            throw FormatError(file: indexPath, offset: UInt64(error.offset), .malformedJSON(message: error.message))
        }
        guard let weightMap = root["weight_map"]?.members else {
            throw FormatError(file: indexPath, .malformedJSON(message: "missing object 'weight_map'"))
        }
        let folder = (indexPath as NSString).deletingLastPathComponent
        var files: [String] = []
        var fileIndex: [String: Int] = [:]
        var pairs: [(tensor: String, shard: String)] = []
        for (tensor, value) in weightMap {
            guard let shard = value.string else {
                throw FormatError(file: indexPath, .malformedJSON(message: "weight_map['\(tensor)'] is a \(value.kindName), expected a file name"))
            }
            // Shards must be plain names in the checkpoint folder: an index must not point us at
            // arbitrary files elsewhere on disk.
            guard !shard.isEmpty, !shard.contains("/"), shard != ".", shard != ".." else {
                throw FormatError(file: indexPath, .unsafeShardPath(shard))
            }
            let shardPath = folder.isEmpty ? shard : folder + "/" + shard
            if fileIndex[shardPath] == nil {
                guard FileManager.default.fileExists(atPath: shardPath) else {
                    throw FormatError(file: indexPath, .shardMissing(shard: shard, tensor: tensor))
                }
                fileIndex[shardPath] = files.count
                files.append(shardPath)
            }
            pairs.append((tensor, shardPath))
        }
        return (files, pairs)
    }

    private static func collect(_ shards: [SafetensorsFile]) throws -> ([Entry], [String: Int]) {
        var entries: [Entry] = []
        var lookup: [String: Int] = [:]
        for (s, shard) in shards.enumerated() {
            for info in shard.tensors {
                if let other = lookup[info.name] {
                    throw FormatError(file: shard.path, .tensorInTwoPlaces(tensor: info.name, first: shards[entries[other].shard].path, second: shard.path))
                }
                lookup[info.name] = entries.count
                entries.append(Entry(info: info, shard: s))
            }
        }
        return (entries, lookup)
    }

    private static func crossCheck(weightMap: [(tensor: String, shard: String)], files: [String], shards: [SafetensorsFile],
                                   entries: [Entry], lookup: [String: Int], indexPath: String) throws {
        let shardIndex = Dictionary(uniqueKeysWithValues: files.enumerated().map { ($1, $0) })
        var listed = Set<String>()
        for (tensor, shardPath) in weightMap {
            listed.insert(tensor)
            guard let at = lookup[tensor], entries[at].shard == shardIndex[shardPath] else {
                throw FormatError(file: indexPath, .tensorNotInShard(tensor: tensor, shard: (shardPath as NSString).lastPathComponent))
            }
        }
        for entry in entries where !listed.contains(entry.info.name) {
            throw FormatError(file: indexPath, .tensorNotInIndex(tensor: entry.info.name, shard: shards[entry.shard].path))
        }
    }
}
