import Foundation
import Inference
import QuantCore
import QuantFormats

/// QuantKit's activation-statistics file (`.qkstats`): one zstd frame holding
///
///     "QKSTATS\0"  u32 version (1)  u32 json_length  JSON  payload
///
/// JSON = {"provenance": {…}, "entries": [{"key", "columns", "active", "sample_rows", "hessian"?}, …]};
/// the payload holds, per entry in JSON order, little-endian: mean x² f32[columns], max |x|
/// f32[columns], the active fraction f32[columns] if "active", then sample rows as f16
/// [sample_rows × columns] (halves the file; samples only feed SmoothQuant's α search), then if
/// "hessian" the mean xxᵀ as f32, upper triangle row by row [columns·(columns+1)/2] (f32: the
/// Cholesky factorization of GPTQ-style compensation wants the precision).
/// The reader checks every size against the payload, so a damaged file is an error naming it.
public enum ActivationStatisticsFile {
    static let magic = Array("QKSTATS\0".utf8)
    static let version: UInt32 = 1

    public static func write(_ statistics: ActivationStatistics, to path: String) throws {
        let keys = statistics.entries.keys.sorted(by: keyOrder)
        var payload = ByteWriter()
        var described: [[String: Any]] = []
        for key in keys {
            let e = statistics.entries[key]!
            var item: [String: Any] = ["key": key, "columns": e.columns, "active": e.activeFraction != nil, "sample_rows": e.sampleRows]
            if e.hessian != nil { item["hessian"] = true }
            described.append(item)
            e.meanSquare.forEach { payload.write($0) }
            e.maxAbs.forEach { payload.write($0) }
            e.activeFraction?.forEach { payload.write($0) }
            e.samples.forEach { payload.write(Float16(max(-65504, min(65504, $0))).bitPattern) }
            e.hessian?.forEach { payload.write($0) }
        }
        let provenance = try JSONSerialization.jsonObject(with: JSONEncoder().encode(statistics.provenance))
        let json = try JSONSerialization.data(withJSONObject: ["provenance": provenance, "entries": described], options: [.sortedKeys])
        var image = ByteWriter(capacity: 16 + json.count + payload.bytes.count)
        image.write(bytes: magic)
        image.write(version)
        image.write(UInt32(json.count))
        image.write(bytes: json)
        image.write(bytes: payload.bytes)
        let file = try AtomicFileWriter(destination: path)
        do {
            try file.write(Zstd.compress(image.bytes))
            try file.commit()
        } catch {
            file.discard()
            throw error
        }
    }

    public static func read(path: String) throws -> ActivationStatistics {
        let mapped = try MappedFile(path: path)
        let image = try mapped.withBytes { try Zstd.decompress($0, file: path) }
        return try image.withUnsafeBytes { try parse($0, file: path) }
    }

    /// Parses a decompressed image (also the fuzzing entry point).
    public static func parse(_ bytes: UnsafeRawBufferPointer, file: String) throws -> ActivationStatistics {
        var cursor = ByteCursor(bytes, file: file)
        let found = Array(try cursor.readBytes(8, "magic"))
        guard found == magic else { throw FormatError(file: file, offset: 0, .badMagic(found: found)) }
        let version = try cursor.read(UInt32.self, "version")
        guard version == Self.version else { throw cursor.error(.unsupportedVersion(found: version, supported: [Self.version])) }
        let jsonLength = try cursor.read(UInt32.self, "JSON length")
        let jsonBytes = try cursor.readBytes(UInt64(jsonLength), "JSON header")
        let json: JSONValue
        do { json = try JSONParser.parse(jsonBytes) } catch { throw FormatError(file: file, offset: 16, .malformedJSON(message: error.description)) }
        func bad(_ message: String) -> FormatError { FormatError(file: file, offset: 16, .badMetadata(message: message)) }
        guard let p = json["provenance"] else { throw bad("no provenance") }
        func text(_ key: String) throws -> String { guard let v = p[key]?.string else { throw bad("provenance.\(key) missing") }; return v }
        func count(_ key: String) throws -> Int {
            guard let v = p[key]?.int64, v >= 0, v < Int64(Int32.max) else { throw bad("provenance.\(key) is not a count") }
            return Int(v)
        }
        guard let threshold = p["active_threshold"]?.double else { throw bad("provenance.active_threshold missing") }
        let provenance = ActivationStatistics.Provenance(
            model: try text("model"), modelSHA256: try text("model_sha256"), corpus: try text("corpus"),
            corpusSHA256: try text("corpus_sha256"), tokens: try count("tokens"), sequences: try count("sequences"),
            contextLength: try count("ctx"), activeThreshold: Float(threshold), tool: try text("tool"))
        guard let list = json["entries"]?.array else { throw bad("no entries") }
        var entries: [String: ActivationStatistics.Entry] = [:]
        for item in list {
            guard let key = item["key"]?.string, ActivationStatistics.parse(key: key) != nil else { throw bad("an entry has no valid key") }
            guard let columns = item["columns"]?.int64, columns > 0, columns <= 1 << 24,
                  let rows = item["sample_rows"]?.int64, rows >= 0, rows <= 1 << 20, let active = item["active"]?.bool else {
                throw bad("entry '\(key)' has bad columns/sample_rows/active")
            }
            guard entries[key] == nil else { throw FormatError(file: file, offset: 16, .duplicateKey(key)) }
            let hasHessian: Bool
            switch item["hessian"] {
            case nil: hasHessian = false
            case let value?: guard let flag = value.bool else { throw bad("entry '\(key)' has a non-boolean hessian flag") }; hasHessian = flag
            }
            let n = Int(columns)
            func floats(_ what: String, count n: Int = n) throws -> [Float] {
                let raw = try cursor.readBytes(UInt64(4 * n), "\(what) of '\(key)'")
                return (0..<n).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
            let meanSquare = try floats("mean x²"), maxAbs = try floats("max |x|")
            let activeFraction = active ? try floats("active fraction") : nil
            let sampleCount = Int(rows) * n
            let raw = try cursor.readBytes(UInt64(2 * sampleCount), "samples of '\(key)'")
            let samples = (0..<sampleCount).map { floatFromHalf(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
            guard (meanSquare + maxAbs).allSatisfy({ $0.isFinite && $0 >= 0 }) else { throw bad("entry '\(key)' has negative or non-finite statistics") }
            var entry = ActivationStatistics.Entry(columns: n, meanSquare: meanSquare, maxAbs: maxAbs, activeFraction: activeFraction, samples: samples)
            if hasHessian {
                let hessian = try floats("hessian", count: n * (n + 1) / 2)
                guard hessian.allSatisfy(\.isFinite) else { throw bad("entry '\(key)' has a non-finite hessian") }
                entry.hessian = hessian
            }
            entries[key] = entry
        }
        guard cursor.remaining == 0 else {
            throw cursor.error(.badMetadata(message: "\(cursor.remaining) bytes after the last entry"))
        }
        return ActivationStatistics(provenance: provenance, entries: entries)
    }

    /// Layer order, then site order: blk.2 before blk.10.
    static func keyOrder(_ a: String, _ b: String) -> Bool {
        let pa = ActivationStatistics.parse(key: a), pb = ActivationStatistics.parse(key: b)
        let ia = pa.map { ($0.0 == .outputInput ? Int.max : $0.1, ActivationSite.allCases.firstIndex(of: $0.0)!) } ?? (Int.max, Int.max)
        let ib = pb.map { ($0.0 == .outputInput ? Int.max : $0.1, ActivationSite.allCases.firstIndex(of: $0.0)!) } ?? (Int.max, Int.max)
        return ia != ib ? ia < ib : a < b
    }
}
