import Inference
import QuantConversion
import QuantCore
import QuantFormats

/// A conversion source with a `ResidualRotation` folded in: rotated weights and unit norms are
/// handed out as f32, built one tensor at a time when the converter asks; a tied output head is
/// added as its own `output.weight`. Float sources only (rotating already-rounded weights would
/// spread their rounding error, and the codecs would round again).
public struct RotatedSource: ConversionSourceDecorator {
    public enum RotationError: Error, CustomStringConvertible {
        case unsupportedArchitecture(String)
        case unknownTensor(String)
        case quantizedSource(tensor: String, type: String)
        case missingTensor(String)
        case shapeMismatch(tensor: String, shape: [UInt64], expected: String)

        public var description: String {
            switch self {
            case let .unsupportedArchitecture(arch): return "--rotate supports llama models; this one is '\(arch)'"
            case let .unknownTensor(name): return "--rotate does not know tensor '\(name)' (a bias or another architecture's tensor), so it cannot keep the model's function"
            case let .quantizedSource(tensor, type): return "--rotate needs a float source; '\(tensor)' is \(type) (rotate the F16/BF16/F32 model)"
            case let .missingTensor(name): return "the model has no tensor '\(name)'"
            case let .shapeMismatch(tensor, shape, expected): return "tensor '\(tensor)' has shape \(shape); --rotate expects \(expected)"
            }
        }
    }

    public let base: any ConversionSource
    public let rotation: ResidualRotation
    public let tensors: [SourceTensor]
    private let roles: [ResidualRotation.Role]
    private let baseIndex: [String: Int]

    public init(base: any ConversionSource, seed: UInt64 = ResidualRotation.defaultSeed) throws {
        // The inference core's reading of the hyper-parameters: the rotation must use the head
        // size the model will run with.
        let configuration: LlamaConfiguration
        do {
            configuration = try LlamaConfiguration(metadata: base.metadata, vocabularySize: 0)
        } catch let InferenceError.unsupportedArchitecture(found, _) {
            throw RotationError.unsupportedArchitecture(found)
        }
        // Qwen2's biases would need rotating too, and Qwen3's rotation is untested: llama only.
        guard configuration.family == .llama else { throw RotationError.unsupportedArchitecture(configuration.architecture) }
        let width = configuration.embeddingLength, headDimension = configuration.headDimension
        self.base = base
        rotation = ResidualRotation(width: width, headDimension: headDimension, seed: seed)
        baseIndex = Dictionary(uniqueKeysWithValues: base.tensors.enumerated().map { ($1.name, $0) })
        var tensors: [SourceTensor] = [], roles: [ResidualRotation.Role] = []
        for tensor in base.tensors {
            guard let role = ResidualRotation.role(of: tensor.name) else { throw RotationError.unknownTensor(tensor.name) }
            if role != .unchanged {
                guard TensorTypeChoice.floatTypes.contains(tensor.type) else {
                    throw RotationError.quantizedSource(tensor: tensor.name, type: tensor.type.name)
                }
            }
            try Self.checkShape(tensor, role: role, width: width, headDimension: headDimension)
            tensors.append(role == .unchanged ? tensor : SourceTensor(name: tensor.name, shape: tensor.shape, type: .F32))
            roles.append(role)
        }
        for name in [LlamaTensor.tokenEmbedding.name(), LlamaTensor.outputNorm.name()] where baseIndex[name] == nil { throw RotationError.missingTensor(name) }
        if baseIndex[LlamaTensor.output.name()] == nil {
            // Tied: the head reads the embedding through output_norm's weight, which the
            // embedding itself must not carry, so the head becomes its own tensor.
            let embedding = base.tensors[baseIndex[LlamaTensor.tokenEmbedding.name()]!]
            tensors.append(SourceTensor(name: LlamaTensor.output.name(), shape: embedding.shape, type: .F32))
            roles.append(ResidualRotation.role(of: LlamaTensor.output.name())!)
        }
        self.tensors = tensors
        self.roles = roles
    }

    /// The rotation multiplies along the residual stream's width (and heads' size): a tensor
    /// whose shape does not have it would be read out of bounds.
    private static func checkShape(_ tensor: SourceTensor, role: ResidualRotation.Role, width: Int, headDimension: Int) throws {
        let w = UInt64(width), h = UInt64(headDimension)
        let fits: Bool, expected: String
        switch role {
        case .embedding, .reader(_, false): (fits, expected) = (tensor.rowLength == w, "rows of \(width)")
        case .reader(_, true): (fits, expected) = (tensor.rowLength == w && tensor.rowCount % h == 0, "rows of \(width), heads of \(headDimension) rows")
        case .writer(false): (fits, expected) = (tensor.rowCount == w, "\(width) rows")
        case .writer(true): (fits, expected) = (tensor.rowCount == w && tensor.rowLength % h == 0, "\(width) rows of whole \(headDimension)-column heads")
        case .unitNorm: (fits, expected) = (tensor.elementCount == w, "\(width) values")
        case .unchanged: (fits, expected) = (true, "")
        }
        guard fits else { throw RotationError.shapeMismatch(tensor: tensor.name, shape: tensor.shape, expected: expected) }
    }

    public func prefetch(_ index: Int) { if index < base.tensors.count { base.prefetch(index) } }
    public func release(_ index: Int) { if index < base.tensors.count { base.release(index) } }

    public func withData<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let values: [Float]
        switch roles[index] {
        case .unchanged:
            return try base.withData(index, body)
        case .unitNorm:
            values = [Float](repeating: 1, count: Int(tensors[index].elementCount))
        case .embedding:
            values = rotation.rotateRows(try base.floats(index))
        case let .reader(norm, headRows):
            // The untied head of a tied model reads the embedding's values.
            let weights = try base.floats(baseIndex[tensors[index].name] ?? baseIndex[LlamaTensor.tokenEmbedding.name()]!)
            values = rotation.rotateReader(weights, norm: try floats(named: norm), headRows: headRows)
        case let .writer(headColumns):
            values = rotation.rotateWriter(try base.floats(index), headColumns: headColumns)
        }
        return try values.withUnsafeBytes(body)
    }

    private func floats(named name: String) throws -> [Float] {
        guard let index = baseIndex[name] else { throw RotationError.missingTensor(name) }
        return try base.floats(index)
    }
}
