import Foundation

/// Human-readable rendering of an `InspectionReport`.
enum InspectionText {
    static func render(_ report: InspectionReport) -> String {
        var out = ""
        let version = report.ggufVersion.map { " v\($0)" } ?? ""
        out += "\(report.path)\n"
        out += "  format        \(report.format)\(version), \(formatBytes(report.fileSize)) in \(report.files.count) file(s)\n"
        out += "  architecture  \(report.architecture ?? "(unknown)")\n"
        for key in report.hyperparameters.keys.sorted() {
            out += "    \(pad(key, 34)) \(report.hyperparameters[key]!)\n"
        }
        out += "\nmetadata (\(report.metadata.count) keys)\n"
        let keyWidth = min(44, report.metadata.map(\.key.count).max() ?? 0)
        for entry in report.metadata {
            out += "  \(pad(entry.key, keyWidth)) \(pad(entry.type, 7)) \(entry.value)\n"
        }
        out += "\ntensors       \(report.tensorCount)\n"
        out += "  parameters  \(formatCount(report.parameterCount))\n"
        out += "  data        \(formatBytes(report.tensorBytes)), \(String(format: "%.2f", report.bitsPerWeight)) bits/weight\n"
        let types = report.typeCounts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        out += "  types       " + types.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ") + "\n"
        if let tensors = report.tensors {
            let nameWidth = min(48, tensors.map(\.name.count).max() ?? 4)
            out += "\n  \(pad("name", nameWidth)) \(pad("type", 8)) \(pad("shape", 22)) bytes\n"
            for t in tensors {
                let shape = "[" + t.shape.map(String.init).joined(separator: ", ") + "]"
                out += "  \(pad(t.name, nameWidth)) \(pad(t.type, 8)) \(pad(shape, 22)) \(t.bytes)\(t.file.map { "  \($0)" } ?? "")\n"
            }
        }
        return out
    }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    static func formatBytes(_ bytes: UInt64) -> String {
        let value = Double(bytes)
        if value >= 1e9 { return String(format: "%.2f GB", value / 1e9) }
        if value >= 1e6 { return String(format: "%.1f MB", value / 1e6) }
        if value >= 1e3 { return String(format: "%.1f kB", value / 1e3) }
        return "\(bytes) B"
    }

    static func formatCount(_ count: UInt64) -> String {
        let value = Double(count)
        if value >= 1e9 { return String(format: "%.2f B (%llu)", value / 1e9, count) }
        if value >= 1e6 { return String(format: "%.1f M (%llu)", value / 1e6, count) }
        return "\(count)"
    }
}
