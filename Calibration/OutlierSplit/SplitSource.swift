import QuantCore
import QuantFormats

/// A conversion source with an `OutlierSplitPlan` applied: every layer's ffn_gate and ffn_up get
/// the split neurons' rows appended (up's rows of split neurons scaled by their share) and ffn_down
/// the matching columns, handed out as f32 one tensor at a time; the model's feed_forward_length
/// grows by the plan's `extraChannels`. Everything else passes through untouched.
public struct SplitSource: ConversionSource {
    public enum SplitSourceError: Error, CustomStringConvertible {
        case quantizedSource(tensor: String, type: String)
        case shapeMismatch(tensor: String, shape: [UInt64], expected: String)
        case missingTensor(String)

        public var description: String {
            switch self {
            case let .quantizedSource(tensor, type): return "--split-outliers rebuilds the FFN weights and needs a float source; '\(tensor)' is \(type)"
            case let .shapeMismatch(tensor, shape, expected): return "tensor '\(tensor)' has shape \(shape); --split-outliers expects \(expected)"
            case let .missingTensor(name): return "the model has no tensor '\(name)'"
            }
        }
    }

    /// How a tensor of a split layer changes.
    enum Role {
        case rows(layer: Int, scaledByShare: Bool)  // ffn_gate (copied), ffn_up (scaled)
        case columns(layer: Int)  // ffn_down
    }

    public let base: any ConversionSource
    public let plan: OutlierSplitPlan
    public let tensors: [SourceTensor]
    public let metadata: GGUFMetadata
    private let roles: [Role?]

    public init(base: any ConversionSource, plan: OutlierSplitPlan) throws {
        self.base = base
        self.plan = plan
        var metadata = base.metadata
        for entry in plan.metadata(architecture: base.metadata.architecture ?? "llama") { metadata[entry.key] = entry.value }
        self.metadata = metadata
        let f = UInt64(plan.feedForwardLength), k = UInt64(plan.extraChannels)
        var tensors: [SourceTensor] = [], roles: [Role?] = []
        for tensor in base.tensors {
            guard let layer = TensorCategory.layerIndex(of: tensor.name), plan.layers[layer] != nil,
                  let role = Self.role(of: tensor.name, layer: layer) else {
                tensors.append(tensor)
                roles.append(nil)
                continue
            }
            guard TensorTypeChoice.floatTypes.contains(tensor.type) else {
                throw SplitSourceError.quantizedSource(tensor: tensor.name, type: tensor.type.name)
            }
            switch role {
            case .rows:
                guard tensor.shape.count == 2, tensor.rowCount == f else {
                    throw SplitSourceError.shapeMismatch(tensor: tensor.name, shape: tensor.shape, expected: "\(f) rows")
                }
                tensors.append(SourceTensor(name: tensor.name, shape: [tensor.rowLength, f + k], type: .F32))
            case .columns:
                guard tensor.shape.count == 2, tensor.rowLength == f else {
                    throw SplitSourceError.shapeMismatch(tensor: tensor.name, shape: tensor.shape, expected: "rows of \(f)")
                }
                tensors.append(SourceTensor(name: tensor.name, shape: [f + k, tensor.rowCount], type: .F32))
            }
            roles.append(role)
        }
        for layer in plan.layers.keys {
            for name in ["ffn_gate", "ffn_up", "ffn_down"].map({ "blk.\(layer).\($0).weight" }) where !tensors.contains(where: { $0.name == name }) {
                throw SplitSourceError.missingTensor(name)
            }
        }
        self.tensors = tensors
        self.roles = roles
    }

    static func role(of name: String, layer: Int) -> Role? {
        switch name {
        case "blk.\(layer).ffn_gate.weight": return .rows(layer: layer, scaledByShare: false)
        case "blk.\(layer).ffn_up.weight": return .rows(layer: layer, scaledByShare: true)
        case "blk.\(layer).ffn_down.weight": return .columns(layer: layer)
        default: return nil
        }
    }

    public var path: String { base.path }
    public var inputFiles: [String] { base.inputFiles }
    public var inputFolder: String? { base.inputFolder }
    public func prefetch(_ index: Int) { base.prefetch(index) }
    public func release(_ index: Int) { base.release(index) }

    public func withData<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let role = roles[index] else { return try base.withData(index, body) }
        let original = try base.floats(index), source = base.tensors[index]
        var values: [Float] = []
        values.reserveCapacity(Int(tensors[index].elementCount))
        switch role {
        case let .rows(layer, scaled):
            let split = plan.layers[layer]!, n = Int(source.rowLength)
            for channel in 0..<split.width {
                let origin = split.origin(of: channel), share = scaled ? split.shares[origin] : 1
                values.append(contentsOf: original[origin * n..<(origin + 1) * n].lazy.map { $0 * share })
            }
        case let .columns(layer):
            let split = plan.layers[layer]!, n = Int(source.rowLength)
            for row in 0..<Int(source.rowCount) {
                let start = row * n
                values.append(contentsOf: original[start..<start + n])
                values.append(contentsOf: split.origins.lazy.map { original[start + $0] })
            }
        }
        return try values.withUnsafeBytes(body)
    }
}
