import Foundation
import QuantFormats

/// The batch's outputs over its result files: `results.json`, `results.csv`, `report.md` and the
/// plots, written from whatever results exist under one or more output folders — so a resumed
/// batch, a shard or the merge of shards (`quantkit report`) all write the same report.
public enum ResultsFile {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }()

    public static let schema = "quantkit.batch/1"

    /// Every `<model>/<recipe>.result.json` under `folders`, one per (model, recipe) — the first
    /// folder's wins — ordered by model, then size, then recipe name (independent of which shard
    /// or run made them).
    public static func collect(from folders: [String]) throws -> [BatchResult] {
        var found: [String: BatchResult] = [:]
        for folder in folders {
            let models = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            for model in models.sorted() where !model.hasPrefix(".") {
                let modelFolder = (folder as NSString).appendingPathComponent(model)
                for name in ((try? FileManager.default.contentsOfDirectory(atPath: modelFolder)) ?? []).sorted()
                where name.hasSuffix(".result.json") && !name.hasPrefix(".") {
                    let path = (modelFolder as NSString).appendingPathComponent(name)
                    guard let data = FileManager.default.contents(atPath: path) else { continue }
                    do {
                        let result = try JSONDecoder().decode(BatchResult.self, from: data)
                        let key = "\(result.model)/\(result.recipe)"
                        if found[key] == nil { found[key] = result }
                    } catch {
                        throw ReportError.unreadableResult(path: path, reason: "\(error)")
                    }
                }
            }
        }
        return found.values.sorted {
            ($0.model, $0.bytes ?? .max, $0.recipe) < ($1.model, $1.bytes ?? .max, $1.recipe)
        }
    }

    public enum ReportError: Error, CustomStringConvertible {
        case unreadableResult(path: String, reason: String)
        case noResults(folders: [String])
        public var description: String {
            switch self {
            case let .unreadableResult(path, reason): return "\(path): not a batch result (\(reason))"
            case let .noResults(folders): return "no results (*/*.result.json) under \(folders.joined(separator: ", "))"
            }
        }
    }

    /// Writes the report files into `folder`; returns their paths.
    @discardableResult
    public static func writeReport(_ results: [BatchResult], to folder: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var written: [String] = []
        func write(_ name: String, _ text: String) throws {
            let path = (folder as NSString).appendingPathComponent(name)
            let writer = try AtomicFileWriter(destination: path)
            try writer.write(Array(text.utf8))
            try writer.commit()
            written.append(path)
        }
        let document = ResultsDocument(schema: schema, results: results)
        try write("results.json", String(decoding: try encoder.encode(document), as: UTF8.self) + "\n")
        try write("results.csv", ResultsTable.csv(results))
        let plots = ResultsPlots(results: results)
        try write("kld-vs-bpw.svg", plots.kldAgainstBits())
        try write("ppl-vs-size.svg", plots.perplexityAgainstSize())
        try write("tensor-errors.svg", TensorErrorHeatMap(results: results).svg())
        try write("neuron-profile.svg", NeuronProfilePlot(results: results).svg())
        try write("report.md", ResultsTable.markdown(results, plots: ["kld-vs-bpw.svg", "ppl-vs-size.svg", "tensor-errors.svg", "neuron-profile.svg"]))
        return written
    }

    struct ResultsDocument: Codable {
        let schema: String
        let results: [BatchResult]
    }
}
