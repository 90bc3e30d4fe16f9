import Foundation
import QuantFormats

/// Architecture and scalar hyper-parameters from a Hugging Face `config.json` next to a checkpoint.
struct HFConfigSummary {
    let architecture: String?
    let hyperparameters: [String: DisplayValue]

    static func load(nextTo checkpoint: SafetensorsCheckpoint) throws -> HFConfigSummary? {
        var folder = checkpoint.path
        var isDirectory: ObjCBool = false
        if !(FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) && isDirectory.boolValue) {
            folder = (folder as NSString).deletingLastPathComponent
        }
        let configPath = (folder.isEmpty ? "." : folder) + "/config.json"
        guard FileManager.default.fileExists(atPath: configPath) else { return nil }
        let root: JSONValue
        do {
            root = try MappedFile(path: configPath).withBytes { bytes throws(JSONSyntaxError) in try JSONParser.parse(bytes) }
        } catch let error as JSONSyntaxError {
            throw FormatError(file: configPath, offset: UInt64(error.offset), .malformedJSON(message: error.message))
        }
        var hyperparameters: [String: DisplayValue] = [:]
        for (key, value) in root.members ?? [] {
            switch value {
            case .number, .bool, .string: hyperparameters[key] = DisplayValue(json: value)
            default: continue
            }
        }
        let architecture = root["architectures"]?.array?.first?.string ?? root["model_type"]?.string
        return HFConfigSummary(architecture: architecture, hyperparameters: hyperparameters)
    }
}
