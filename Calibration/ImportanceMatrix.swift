import Foundation
import QuantFormats

/// A llama.cpp importance matrix: per weight tensor, the mean of x² of each input column over
/// the calibration tokens (what `quantize_row_*_impl` weighs rounding errors by). Reads both
/// llama.cpp layouts — the legacy `.dat` of `llama-imatrix` and the GGUF imatrix
/// (`<name>.in_sum2` / `<name>.counts` tensors) — and normalizes them as llama-quantize's
/// `load_imatrix` does, so the same file gives the same quantization here and there.
public struct ImportanceMatrix: Sendable {
    /// Per GGUF tensor name: one value per column (times experts for 3-D tensors).
    public var entries: [String: [Float]]
    public var datasets: [String]
    /// Chunks the statistics were collected over (0 when the file does not say).
    public var chunkCount: Int
    public let path: String

    public init(entries: [String: [Float]], datasets: [String], chunkCount: Int, path: String) {
        self.entries = entries
        self.datasets = datasets
        self.chunkCount = chunkCount
        self.path = path
    }

    public init(path: String) throws {
        let file = try MappedFile(path: path)
        let isGGUF = file.withBytes { $0.starts(with: Array("GGUF".utf8)) }
        self = isGGUF ? try Self.readGGUF(path: path) : try file.withBytes { try Self.readLegacy($0, path: path) }
        for (name, values) in entries {
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw FormatError(file: path, .badMetadata(message: "imatrix entry '\(name)' has a non-finite value at \(bad)"))
            }
        }
    }

    /// Provenance keys llama-quantize writes into the output GGUF.
    public var provenance: [GGUFKeyValue] {
        var keys: [GGUFKeyValue] = [.init("quantize.imatrix.file", .string(path))]
        if let dataset = datasets.first { keys.append(.init("quantize.imatrix.dataset", .string(dataset))) }
        keys.append(.init("quantize.imatrix.entries_count", .uint32(UInt32(entries.count))))
        if chunkCount > 0 { keys.append(.init("quantize.imatrix.chunks_count", .uint32(UInt32(chunkCount)))) }
        return keys
    }

    /// int32 count; per entry int32 name length, name, int32 ncall, int32 nval, nval float32
    /// (sums divided by tokens per call, times ncall); optionally int32 chunk count and a dataset
    /// name. Values are divided by ncall, in float, as llama-quantize does.
    static func readLegacy(_ bytes: UnsafeRawBufferPointer, path: String) throws -> ImportanceMatrix {
        var cursor = ByteCursor(bytes, file: path)
        let count = try cursor.read(Int32.self, "entry count")
        guard count > 0 else { throw cursor.error(.badMetadata(message: "no imatrix entries")) }
        var entries: [String: [Float]] = [:]
        for index in 0..<Int(count) {
            let length = try cursor.read(Int32.self, "name length of entry \(index)")
            guard length >= 0 else { throw cursor.error(.badMetadata(message: "negative name length in entry \(index)")) }
            let nameBytes = try cursor.readBytes(UInt64(length), "name of entry \(index)")
            guard let name = String(validating: nameBytes, as: UTF8.self) else { throw cursor.error(.invalidUTF8(what: "name of entry \(index)")) }
            let calls = try cursor.read(Int32.self, "ncall of '\(name)'")
            let valueCount = try cursor.read(Int32.self, "nval of '\(name)'")
            guard valueCount > 0 else { throw cursor.error(.badMetadata(message: "entry '\(name)' has \(valueCount) values")) }
            try cursor.require(UInt64(valueCount) * 4, for: "values of '\(name)'")
            var values = [Float](repeating: 0, count: Int(valueCount))
            for i in values.indices { values[i] = try cursor.readFloat("values of '\(name)'") }
            if calls > 0 { values = values.map { $0 / Float(calls) } }
            entries[name] = values
        }
        var chunks = 0, datasets: [String] = []
        if cursor.remaining >= 4 {
            chunks = Int(try cursor.read(Int32.self, "chunk count"))
            if cursor.remaining >= 4 {
                let length = try cursor.read(Int32.self, "dataset name length")
                if length > 0, let bytes = try? cursor.readBytes(UInt64(length), "dataset name") {
                    datasets.append(String(decoding: bytes, as: UTF8.self))
                }
            }
        }
        return ImportanceMatrix(entries: entries, datasets: datasets, chunkCount: chunks, path: path)
    }

    /// `imatrix.datasets`, `imatrix.chunk_count`; per tensor `<name>.in_sum2` (sums of x²) and
    /// `<name>.counts` (tokens, one per expert): values are sums / count, or 1 where count is 0.
    static func readGGUF(path: String) throws -> ImportanceMatrix {
        let file = try GGUFFile(path: path)
        var datasets: [String] = []
        if case let .string(names)? = file.metadata.array("imatrix.datasets") { datasets = names }
        let chunks = Int(file.metadata.integer("imatrix.chunk_count") ?? 0)
        var entries: [String: [Float]] = [:]
        for tensor in file.tensors where tensor.name.hasSuffix(".in_sum2") {
            let name = String(tensor.name.dropLast(".in_sum2".count))
            guard let counts = file.tensor(named: name + ".counts") else {
                throw FormatError(file: path, .tensorNotFound(name + ".counts"))
            }
            guard tensor.type == .F32, counts.type == .F32 else {
                throw FormatError(file: path, .badMetadata(message: "imatrix tensors of '\(name)' must be F32"))
            }
            let sums = Array(file.data(for: tensor).bindMemory(to: Float.self))
            let tokenCounts = Array(file.data(for: counts).bindMemory(to: Float.self))
            guard !tokenCounts.isEmpty, sums.count % tokenCounts.count == 0 else {
                throw FormatError(file: path, .badMetadata(message: "imatrix '\(name)': \(sums.count) sums for \(tokenCounts.count) counts"))
            }
            let perExpert = sums.count / tokenCounts.count
            var values = sums
            for (expert, rawCount) in tokenCounts.enumerated() {
                let count = Float(rawCount.rounded(.toNearestOrAwayFromZero))
                for i in 0..<perExpert {
                    values[expert * perExpert + i] = count > 0 ? sums[expert * perExpert + i] / count : 1
                }
            }
            entries[name] = values
        }
        return ImportanceMatrix(entries: entries, datasets: datasets, chunkCount: chunks, path: path)
    }
}
