import Foundation
import Testing

/// A batch's `results.json` as the CLI tests compare it.
enum BatchResultsFile {
    /// The rows without timings (what differs between runs), each as sorted-key JSON text.
    static func timelessRows(_ folder: String) throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/results.json"))
        let rows = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["results"] as? [[String: Any]])
        return try rows.map { row in
            var row = row
            row["timings"] = nil
            return String(decoding: try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys]), as: UTF8.self)
        }
    }
}
