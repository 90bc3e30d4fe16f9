/// Every way a model file can be wrong, as one typed error.
///
/// Each error carries the file it came from and, where one applies, the byte offset at which the
/// problem was found; the `reason` names the failure (one case per failure) with the key or tensor
/// concerned and the expected and found values, so a user can act on a single line of output.
public struct FormatError: Error, Equatable, CustomStringConvertible, Sendable {
    /// Path of the file being read or written.
    public var file: String
    /// Byte offset in `file` where the problem was detected, when meaningful.
    public var offset: UInt64?
    /// What went wrong.
    public var reason: Reason

    public init(file: String, offset: UInt64? = nil, _ reason: Reason) {
        self.file = file
        self.offset = offset
        self.reason = reason
    }

    public var description: String {
        var text = file
        if let offset { text += " @\(offset)" }
        return text + ": " + reason.description
    }

    /// One case per failure.
    public enum Reason: Equatable, CustomStringConvertible, Sendable {
        // MARK: files and I/O
        case cannotOpen(errno: Int32)
        case ioFailure(operation: String, errno: Int32)
        case notARegularFile
        case unknownFormat(firstBytes: [UInt8])
        /// `what` needs `needed` bytes, only `remaining` are left.
        case truncated(what: String, needed: UInt64, remaining: UInt64)
        /// A size computation overflowed 64 bits (a lying header).
        case arithmeticOverflow(what: String)

        // MARK: GGUF header and metadata
        case badMagic(found: [UInt8])
        case unsupportedVersion(found: UInt32, supported: [UInt32])
        /// A declared count cannot fit in the bytes that remain (or exceeds a hard cap).
        case countTooLarge(what: String, count: UInt64, limit: UInt64)
        case stringTooLong(what: String, length: UInt64, limit: UInt64)
        case invalidUTF8(what: String)
        case unknownValueType(key: String, type: UInt32)
        case arrayNestingTooDeep(key: String, limit: Int)
        case duplicateKey(String)
        case emptyKey
        case wrongValueType(key: String, expected: String, found: String)
        case badAlignment(UInt64)

        // MARK: GGUF tensor infos
        case tensorNameTooLong(name: String, bytes: Int, limit: Int)
        case tooManyDimensions(tensor: String, dimensions: UInt32, limit: Int)
        case unknownTensorType(tensor: String, type: UInt32)
        case retiredTensorType(tensor: String, type: UInt32, name: String)
        case badDimension(tensor: String, index: Int, value: UInt64)
        case rowNotBlockAligned(tensor: String, rowLength: UInt64, blockSize: Int, type: String)
        case duplicateTensor(String)
        case misalignedTensorOffset(tensor: String, offset: UInt64, alignment: UInt64)
        case unexpectedTensorOffset(tensor: String, expected: UInt64, found: UInt64)
        case tensorOutOfBounds(tensor: String, offset: UInt64, bytes: UInt64, available: UInt64)

        // MARK: safetensors
        case headerTooLarge(size: UInt64, limit: UInt64)
        case malformedJSON(message: String)
        case headerNotAnObject
        case badTensorEntry(tensor: String, message: String)
        case unknownDType(tensor: String, dtype: String)
        case byteCountMismatch(tensor: String, expected: UInt64, found: UInt64)
        case offsetsNotContiguous(tensor: String, expectedStart: UInt64, foundStart: UInt64)
        case dataNotCovered(coveredBytes: UInt64, dataBytes: UInt64)
        case badMetadata(message: String)

        // MARK: sharded checkpoints
        case shardMissing(shard: String, tensor: String)
        case tensorInTwoPlaces(tensor: String, first: String, second: String)
        case tensorNotInShard(tensor: String, shard: String)
        case tensorNotInIndex(tensor: String, shard: String)
        case noCheckpointFound(looked: [String])
        case unsafeShardPath(String)

        // MARK: lookups and writers
        case tensorNotFound(String)
        case tensorDataSizeMismatch(tensor: String, expected: UInt64, found: UInt64)
        case invalidTensorShape(tensor: String, message: String)

        /// The case's name ("truncated", "badMagic"…): stable for scripts and tests.
        public var caseName: String {
            switch self {
            case .notARegularFile: return "notARegularFile"
            case .emptyKey: return "emptyKey"
            case .headerNotAnObject: return "headerNotAnObject"
            default: return Mirror(reflecting: self).children.first?.label ?? "\(self)"
            }
        }

        public var description: String {
            switch self {
            case let .cannotOpen(errno): return "cannot open (\(errnoText(errno)))"
            case let .ioFailure(operation, errno): return "\(operation) failed (\(errnoText(errno)))"
            case .notARegularFile: return "not a regular file"
            case let .unknownFormat(bytes):
                return "not a GGUF or safetensors file (starts with \(hex(bytes)))"
            case let .truncated(what, needed, remaining):
                return "\(what) needs \(needed) bytes, only \(remaining) remain"
            case let .arithmeticOverflow(what): return "size of \(what) overflows 64 bits"
            case let .badMagic(found): return "bad magic \(hex(found)), expected \"GGUF\""
            case let .unsupportedVersion(found, supported):
                return "GGUF version \(found) is not supported (supported: \(supported.map(String.init).joined(separator: ", ")))"
            case let .countTooLarge(what, count, limit):
                return "\(what) is \(count), more than the \(limit) that can fit"
            case let .stringTooLong(what, length, limit):
                return "\(what) is \(length) bytes long, limit \(limit)"
            case let .invalidUTF8(what): return "\(what) is not valid UTF-8"
            case let .unknownValueType(key, type): return "key '\(key)' has unknown value type \(type)"
            case let .arrayNestingTooDeep(key, limit): return "key '\(key)' nests arrays deeper than \(limit)"
            case let .duplicateKey(key): return "duplicate key '\(key)'"
            case .emptyKey: return "empty metadata key"
            case let .wrongValueType(key, expected, found):
                return "key '\(key)' must be \(expected), found \(found)"
            case let .badAlignment(value): return "alignment \(value) is not a non-zero power of two"
            case let .tensorNameTooLong(name, bytes, limit):
                return "tensor name '\(name.prefix(80))' is \(bytes) bytes, limit \(limit)"
            case let .tooManyDimensions(tensor, dimensions, limit):
                return "tensor '\(tensor)' has \(dimensions) dimensions, limit \(limit)"
            case let .unknownTensorType(tensor, type): return "tensor '\(tensor)' has unknown ggml type \(type)"
            case let .retiredTensorType(tensor, type, name):
                return "tensor '\(tensor)' uses retired ggml type \(type) (\(name)), no longer supported by llama.cpp"
            case let .badDimension(tensor, index, value):
                return "tensor '\(tensor)' dimension \(index) is \(value)"
            case let .rowNotBlockAligned(tensor, rowLength, blockSize, type):
                return "tensor '\(tensor)' row length \(rowLength) is not a multiple of \(type)'s block size \(blockSize)"
            case let .duplicateTensor(name): return "duplicate tensor name '\(name)'"
            case let .misalignedTensorOffset(tensor, offset, alignment):
                return "tensor '\(tensor)' offset \(offset) is not a multiple of the alignment \(alignment)"
            case let .unexpectedTensorOffset(tensor, expected, found):
                return "tensor '\(tensor)' data offset is \(found), expected \(expected) (tensors must be contiguous and aligned)"
            case let .tensorOutOfBounds(tensor, offset, bytes, available):
                return "tensor '\(tensor)' needs \(bytes) bytes at data offset \(offset), only \(available) bytes of data exist"
            case let .headerTooLarge(size, limit): return "header is \(size) bytes, limit \(limit)"
            case let .malformedJSON(message): return "malformed JSON: \(message)"
            case .headerNotAnObject: return "header is not a JSON object"
            case let .badTensorEntry(tensor, message): return "tensor '\(tensor)': \(message)"
            case let .unknownDType(tensor, dtype): return "tensor '\(tensor)' has unknown dtype '\(dtype)'"
            case let .byteCountMismatch(tensor, expected, found):
                return "tensor '\(tensor)' shape and dtype need \(expected) bytes, its offsets span \(found)"
            case let .offsetsNotContiguous(tensor, expectedStart, foundStart):
                return "tensor '\(tensor)' data starts at \(foundStart), expected \(expectedStart) (offsets must be contiguous)"
            case let .dataNotCovered(covered, dataBytes):
                return "tensors cover \(covered) bytes but the data section holds \(dataBytes)"
            case let .badMetadata(message): return "bad __metadata__: \(message)"
            case let .shardMissing(shard, tensor): return "shard '\(shard)' (for tensor '\(tensor)') does not exist"
            case let .tensorInTwoPlaces(tensor, first, second):
                return "tensor '\(tensor)' appears in both '\(first)' and '\(second)'"
            case let .tensorNotInShard(tensor, shard): return "index maps tensor '\(tensor)' to '\(shard)', which does not contain it"
            case let .tensorNotInIndex(tensor, shard): return "shard '\(shard)' holds tensor '\(tensor)' that the index does not list"
            case let .noCheckpointFound(looked):
                return "no model file found (looked for \(looked.joined(separator: ", ")))"
            case let .unsafeShardPath(path): return "index names shard '\(path)' outside the checkpoint folder"
            case let .tensorNotFound(name): return "no tensor named '\(name)'"
            case let .tensorDataSizeMismatch(tensor, expected, found):
                return "tensor '\(tensor)' data is \(found) bytes, its type and shape need \(expected)"
            case let .invalidTensorShape(tensor, message): return "tensor '\(tensor)': \(message)"
            }
        }
    }
}

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { byte in
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }.joined(separator: " ")
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func errnoText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}
