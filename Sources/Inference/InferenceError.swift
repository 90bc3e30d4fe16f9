import QuantFormats

/// Why a model or tokenizer could not be loaded or run.
public enum InferenceError: Error, Equatable, CustomStringConvertible {
    case unsupportedArchitecture(found: String, supported: [String])
    case missingMetadata(key: String)
    case invalidMetadata(key: String, message: String)
    case missingTensor(String)
    case shapeMismatch(tensor: String, expected: [UInt64], found: [UInt64])
    case unsupportedTensorType(tensor: String, type: String)
    case unsupportedTokenizer(model: String, supported: [String])
    case unsupportedPreTokenizer(name: String, supported: [String])
    case tokenOutOfRange(Int32, vocabulary: Int)
    case textTooShort(tokens: Int, needed: Int)
    case contextTooLarge(requested: Int, trained: Int)
    /// A tensor the architecture does not have (a bias in a llama file): running without it
    /// would compute a different function.
    case unexpectedTensor(String, architecture: String)

    public var description: String {
        switch self {
        case let .unsupportedArchitecture(found, supported):
            return "unsupported architecture '\(found)' (supported: \(supported.joined(separator: ", ")))"
        case let .missingMetadata(key): return "missing metadata key '\(key)'"
        case let .invalidMetadata(key, message): return "metadata '\(key)': \(message)"
        case let .missingTensor(name): return "missing tensor '\(name)'"
        case let .shapeMismatch(tensor, expected, found):
            return "tensor '\(tensor)' has shape \(found), expected \(expected)"
        case let .unsupportedTensorType(tensor, type): return "tensor '\(tensor)' has type \(type), which the inference core cannot run"
        case let .unsupportedTokenizer(model, supported):
            return "unsupported tokenizer '\(model)' (supported: \(supported.joined(separator: ", ")))"
        case let .unsupportedPreTokenizer(name, supported):
            return "unsupported pre-tokenizer '\(name)' (supported: \(supported.joined(separator: ", ")))"
        case let .tokenOutOfRange(token, vocabulary): return "token id \(token) is outside the vocabulary of \(vocabulary)"
        case let .textTooShort(tokens, needed): return "text has \(tokens) tokens, at least \(needed) are needed (2 × context)"
        case let .contextTooLarge(requested, trained): return "context \(requested) is larger than the model's \(trained)"
        case let .unexpectedTensor(name, architecture): return "tensor '\(name)' is not part of a '\(architecture)' model; the inference core would ignore it"
        }
    }
}
