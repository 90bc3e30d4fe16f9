import Inference
import QuantConversion
import QuantCore
import QuantFormats

/// A llama model with its channels shuffled by exact, function-preserving permutations: the
/// residual stream (embedding columns, norms, every reader's columns and writer's rows), each
/// layer's FFN neurons (gate/up rows, down columns) and each KV head's value dimensions (v rows,
/// attn_output columns of the query heads that read it). The model computes the same function;
/// weights that sat on a block format's grid (a model dequantized from Q4_1) no longer do, so
/// re-quantizing it measures a real error. Permuted tensors are handed out as f32.
/// For making test and demo inputs from a quantized sample; a permuted model has no other use.
public struct ChannelPermutedSource: ConversionSourceDecorator {
    public enum PermutationError: Error, CustomStringConvertible {
        case unknownTensor(String)
        case shapeMismatch(tensor: String, shape: [UInt64])

        public var description: String {
            switch self {
            case let .unknownTensor(name): return "channel permutation does not know tensor '\(name)', so it cannot keep the model's function"
            case let .shapeMismatch(tensor, shape): return "tensor '\(tensor)' has shape \(shape), which the model's hyper-parameters do not imply"
            }
        }
    }

    /// What the permutations do to a tensor: its columns and rows each take one permutation
    /// (nil: unchanged); `new[j] = old[permutation[j]]` along each.
    private struct Move {
        var columns: [Int]?
        var rows: [Int]?
    }

    public let base: any ConversionSource
    public let tensors: [SourceTensor]
    private let moves: [Move?]

    public init(base: any ConversionSource, seed: UInt64) throws {
        let c = try LlamaConfiguration(metadata: base.metadata, vocabularySize: 0)
        var random = SplitMix64(seed: seed)
        let residual = random.permutation(c.embeddingLength)
        let headDimension = c.headDimension, groupSize = c.headCount / c.headCountKV
        var layers: [(ffn: [Int], valueRows: [Int], outputColumns: [Int])] = []
        for _ in 0..<c.blockCount {
            let ffn = random.permutation(c.feedForwardLength)
            let perHead = (0..<c.headCountKV).map { _ in random.permutation(headDimension) }
            let valueRows = perHead.enumerated().flatMap { head, p in p.map { head * headDimension + $0 } }
            let outputColumns = (0..<c.headCount).flatMap { q in perHead[q / groupSize].map { q * headDimension + $0 } }
            layers.append((ffn, valueRows, outputColumns))
        }
        var tensors: [SourceTensor] = [], moves: [Move?] = []
        for tensor in base.tensors {
            guard let (role, index) = LlamaTensor.parse(tensor.name), index.map({ $0 < layers.count }) ?? true else {
                throw PermutationError.unknownTensor(tensor.name)
            }
            let layer = index.map { layers[$0] }
            let move: Move?
            switch (role, layer) {
            case (.ropeFrequencies, _), (.attentionQNorm, _), (.attentionKNorm, _): move = nil  // act on q/k, which stay
            case (.tokenEmbedding, _), (.output, _), (.outputNorm, _), (.attentionNorm, _), (.ffnNorm, _),
                 (.attentionQ, _), (.attentionK, _): move = Move(columns: residual)
            case let (.attentionV, l?): move = Move(columns: residual, rows: l.valueRows)
            case let (.attentionOutput, l?): move = Move(columns: l.outputColumns, rows: residual)
            case let (.ffnGate, l?), let (.ffnUp, l?): move = Move(columns: residual, rows: l.ffn)
            case let (.ffnDown, l?): move = Move(columns: l.ffn, rows: residual)
            default: throw PermutationError.unknownTensor(tensor.name)
            }
            if let move {
                guard move.columns.map({ $0.count == Int(tensor.rowLength) }) ?? true,
                      move.rows.map({ $0.count == Int(tensor.rowCount) }) ?? true else {
                    throw PermutationError.shapeMismatch(tensor: tensor.name, shape: tensor.shape)
                }
            }
            tensors.append(move == nil ? tensor : SourceTensor(name: tensor.name, shape: tensor.shape, type: .F32))
            moves.append(move)
        }
        self.base = base
        self.tensors = tensors
        self.moves = moves
    }


    public func withData<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let move = moves[index] else { return try base.withData(index, body) }
        let values = try base.floats(index)
        let rowLength = Int(tensors[index].rowLength), rowCount = Int(tensors[index].rowCount)
        var out = [Float](repeating: 0, count: values.count)
        for row in 0..<rowCount {
            let from = (move.rows?[row] ?? row) * rowLength, to = row * rowLength
            if let columns = move.columns {
                for j in 0..<rowLength { out[to + j] = values[from + columns[j]] }
            } else {
                out[to..<(to + rowLength)] = values[from..<(from + rowLength)]
            }
        }
        return try out.withUnsafeBytes(body)
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): a small seeded generator whose stream is fixed by
/// this code, so a seed names the same permutations on every platform and release.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform permutation of 0..<count (Fisher–Yates, Knuth vol. 2 §3.4.2).
    mutating func permutation(_ count: Int) -> [Int] {
        var p = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) {
            p.swapAt(i, Int(next() % UInt64(i + 1)))
        }
        return p
    }
}
