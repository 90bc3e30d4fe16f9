/// Why a Hugging Face checkpoint cannot be converted, with the file it concerns.
public struct HFCheckpointError: Error, Equatable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        case missingFile
        case malformedJSON(String)
        case unsupportedArchitecture(found: String, supported: [String])
        case missingKey(String)
        case badValue(key: String, message: String)
        case unexpectedTensor(String)
        case missingTensor(String)
        case unsupportedDType(tensor: String, dtype: String)
        case wrongShape(tensor: String, expected: [UInt64], found: [UInt64])
        case unsupportedTokenizer(String)
    }

    public let file: String
    public let reason: Reason

    public init(file: String, _ reason: Reason) {
        self.file = file
        self.reason = reason
    }

    public var description: String {
        let what: String
        switch reason {
        case .missingFile: what = "file not found"
        case let .malformedJSON(message): what = "malformed JSON: \(message)"
        case let .unsupportedArchitecture(found, supported):
            what = "architecture '\(found)' is not supported (supported: \(supported.joined(separator: ", ")))"
        case let .missingKey(key): what = "missing key '\(key)'"
        case let .badValue(key, message): what = "'\(key)': \(message)"
        case let .unexpectedTensor(name): what = "tensor '\(name)' has no GGUF counterpart for this architecture"
        case let .missingTensor(name): what = "tensor '\(name)' is missing"
        case let .unsupportedDType(tensor, dtype): what = "tensor '\(tensor)' has dtype \(dtype); only F32, F16 and BF16 are converted"
        case let .wrongShape(tensor, expected, found): what = "tensor '\(tensor)' has shape \(found), config.json implies \(expected)"
        case let .unsupportedTokenizer(message): what = "tokenizer: \(message)"
        }
        return "\(file): \(what)"
    }
}
