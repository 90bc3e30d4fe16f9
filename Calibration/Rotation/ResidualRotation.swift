import CBLAS
import Inference
import QuantConversion
import QuantCore
import QuantFormats

/// QuaRot-style rotation of a llama model (Ashkboos et al., 2024), folded into the weights so
/// the output is a plain llama GGUF that computes the same function in exact arithmetic:
/// - the residual stream x becomes Qᵀx for an orthogonal Q. RMSNorm commutes with Q once its
///   weight is folded into the consumers (‖Qᵀx‖ = ‖x‖), so every norm weight becomes 1 and
///   q/k/v, gate/up and the output head read W·diag(w)·Q; the embedding rows become e·Q and the
///   writers into the stream (attn_output, ffn_down) Qᵀ·W. A tied output head is untied (it
///   needs diag(w_out) that the embedding must not get): the file grows by one vocab × d tensor.
/// - each V head's output becomes Rᵀv for an orthogonal R of the head size (attention is linear
///   in V and heads sharing a KV head see the same R), undone in attn_output's input columns.
/// What changes is only what int8 sees: an outlier channel of x is spread over all channels of
/// Qᵀx, so per-token activation scales stop being set by a few channels.
/// ffn_down's input (silu(gate)·up) cannot be rotated offline — that needs an online Hadamard.
public struct ResidualRotation: Sendable {
    public let width: Int
    public let headDimension: Int
    public let seed: UInt64
    public let residualKind: OrthogonalMatrix.Kind
    public let headKind: OrthogonalMatrix.Kind
    /// Q (width × width) and R (headDimension × headDimension), row-major.
    let residual: [Float]
    let head: [Float]

    public static let defaultSeed: UInt64 = 0x0A7A_7E5

    public init(width: Int, headDimension: Int, seed: UInt64 = defaultSeed) {
        self.width = width
        self.headDimension = headDimension
        self.seed = seed
        let q = OrthogonalMatrix.rotation(order: width, seed: seed)
        let r = OrthogonalMatrix.rotation(order: headDimension, seed: seed &+ 1)
        residual = q.matrix.map { Float($0) }
        head = r.matrix.map { Float($0) }
        residualKind = q.kind
        headKind = r.kind
    }

    /// What the rotation does to one tensor, by its role in the block.
    public enum Role: Sendable, Equatable {
        /// Rows e → e·Q (the token embedding).
        case embedding
        /// W → W·diag(norm)·Q; `headRows` also turns each V head's rows by Rᵀ.
        case reader(norm: String, headRows: Bool)
        /// W → Qᵀ·W; `headColumns` first turns each head's input columns by R (attn_output).
        case writer(headColumns: Bool)
        /// A norm weight, now all ones (folded into its readers).
        case unitNorm
        /// Unaffected (rope_freqs).
        case unchanged
    }

    /// The role of every tensor of a llama model, or nil for a tensor the rotation does not
    /// know (biases, other architectures): rotating around it would change the function.
    public static func role(of name: String) -> Role? {
        guard let (tensor, layer) = LlamaTensor.parse(name) else { return nil }
        let l = layer ?? 0
        switch tensor {
        case .tokenEmbedding: return .embedding
        case .output: return .reader(norm: LlamaTensor.outputNorm.name(), headRows: false)
        case .outputNorm, .attentionNorm, .ffnNorm: return .unitNorm
        case .ropeFrequencies, .attentionQNorm, .attentionKNorm: return .unchanged  // act on q/k, which the rotation keeps
        case .attentionQ, .attentionK: return .reader(norm: LlamaTensor.attentionNorm.name(layer: l), headRows: false)
        case .attentionV: return .reader(norm: LlamaTensor.attentionNorm.name(layer: l), headRows: true)
        case .ffnGate, .ffnUp: return .reader(norm: LlamaTensor.ffnNorm.name(layer: l), headRows: false)
        case .attentionOutput: return .writer(headColumns: true)
        case .ffnDown: return .writer(headColumns: false)
        }
    }

    /// Keys recording the rotation in the output GGUF.
    public var metadata: [GGUFKeyValue] {
        [.init("quantkit.rotation.residual", .string(residualKind.rawValue)),
         .init("quantkit.rotation.head", .string(headKind.rawValue)),
         .init("quantkit.rotation.seed", .uint64(seed))]
    }

    /// e·Q for each row of `values` (rows × width).
    func rotateRows(_ values: [Float]) -> [Float] {
        multiply(values, rows: values.count / width, by: residual, order: width)
    }

    /// W·diag(norm)·Q, then Rᵀ on each head's rows when `headRows`.
    func rotateReader(_ values: [Float], norm: [Float], headRows: Bool) -> [Float] {
        var scaled = values
        let rows = values.count / width
        for r in 0..<rows { for j in 0..<width { scaled[r * width + j] *= norm[j] } }
        let rotated = multiply(scaled, rows: rows, by: residual, order: width)
        return headRows ? turnHeadRows(rotated, rows: rows, columns: width) : rotated
    }

    /// Qᵀ·W for W (width × columns), after W's head column blocks are multiplied by R.
    func rotateWriter(_ values: [Float], headColumns: Bool) -> [Float] {
        let columns = values.count / width
        let input = headColumns ? turnHeadColumns(values, rows: width, columns: columns) : values
        var result = [Float](repeating: 0, count: values.count)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(width), Int32(columns), Int32(width),
                    1, residual, Int32(width), input, Int32(columns), 0, &result, Int32(columns))
        return result
    }

    /// (rows × order) · M for a row-major order × order M.
    private func multiply(_ values: [Float], rows: Int, by matrix: [Float], order: Int) -> [Float] {
        var result = [Float](repeating: 0, count: values.count)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(order), Int32(order),
                    1, values, Int32(order), matrix, Int32(order), 0, &result, Int32(order))
        return result
    }

    /// Each block of `headDimension` rows h → Rᵀ·h (V's output channels of one KV head).
    private func turnHeadRows(_ values: [Float], rows: Int, columns: Int) -> [Float] {
        perHead(values, blocks: stride(from: 0, to: rows, by: headDimension).map { $0 * columns }) { block, out in
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(headDimension), Int32(columns), Int32(headDimension),
                        1, head, Int32(headDimension), block, Int32(columns), 0, out, Int32(columns))
        }
    }

    /// Each block of `headDimension` columns C → C·R (attn_output's input from one head).
    private func turnHeadColumns(_ values: [Float], rows: Int, columns: Int) -> [Float] {
        perHead(values, blocks: Array(stride(from: 0, to: columns, by: headDimension))) { block, out in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(headDimension), Int32(headDimension),
                        1, block, Int32(columns), head, Int32(headDimension), 0, out, Int32(columns))
        }
    }

    /// Runs `product` on each head's block (starting at the given offsets) into a new matrix.
    private func perHead(_ values: [Float], blocks: [Int],
                         _ product: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        var result = [Float](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { v in
            result.withUnsafeMutableBufferPointer { out in
                for offset in blocks { product(v.baseAddress! + offset, out.baseAddress! + offset) }
            }
        }
        return result
    }
}
