/// Why a GGUF file cannot be exported as a Hugging Face checkpoint, with the file it concerns.
public struct HFExportError: Error, Equatable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        case unsupportedArchitecture(found: String, supported: [String])
        case missingKey(String)
        case unexpectedTensor(String)
        case missingTensor(String)
        case unsupportedTokenizer(found: String, supported: [String])
        case ropeFactorsNotRecoverable(String)
        case beyondDTypeRange(tensor: String, dtype: String, count: Int)
        case outputExists(String)
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
        case let .unsupportedArchitecture(found, supported):
            what = "architecture '\(found)' cannot be exported (supported: \(supported.joined(separator: ", ")))"
        case let .missingKey(key): what = "missing metadata key '\(key)'"
        case let .unexpectedTensor(name): what = "tensor '\(name)' has no Hugging Face counterpart for this architecture"
        case let .missingTensor(name): what = "tensor '\(name)' is missing"
        case let .unsupportedTokenizer(found, supported):
            what = "tokenizer '\(found)' cannot be exported (supported: \(supported.joined(separator: ", ")))"
        case let .ropeFactorsNotRecoverable(message): what = "rope_freqs.weight: \(message)"
        case let .beyondDTypeRange(tensor, dtype, count):
            what = "tensor '\(tensor)': \(count) values are beyond \(dtype)'s range (max 65504); export as bf16 or f32"
        case let .outputExists(path): what = "output folder '\(path)' exists and is not empty; remove it or choose another"
        }
        return "\(file): \(what)"
    }
}
