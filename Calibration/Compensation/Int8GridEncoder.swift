import CBLAS
import Dispatch
import QuantConversion
import QuantCore
import QuantFormats

/// Prepares the blocks' linear weights for W8A8 with GPTQ (Frantar et al., 2022): every weight
/// is rounded onto the per-output-channel symmetric int8 grid that `perplexity --w8a8` uses
/// (scale = max|row| / 127), one column at a time, and each column's rounding error is moved onto
/// the columns not yet rounded, optimally for the layer-output error tr(ΔW·H·ΔWᵀ).
///
/// Why: measured on the test bed after SmoothQuant, int8 weights carry about 40 % of the W8A8 KL
/// divergence (0.0144 with int8 weights, 0.0091 with 12-bit ones), and unlike the activations
/// they can be fixed offline. The grid values are stored in the float target type (F16/F32): a
/// float model whose rows W8A8 re-quantizes to exactly these integers. That holds because each
/// row keeps one value at ±127 × scale (the column that set the scale is pinned there), so the
/// loader finds the same scale, and F16's relative rounding (≤ 2⁻¹¹) moves q·(1 ± 2⁻¹⁰) by far
/// less than half a step for |q| ≤ 127.
///
/// Columns go in batches of 128 (GPTQ's lazy batch update): inside a batch the error moves
/// column by column, onto the rest of the row with one `sgemm` per batch.
public struct Int8GridEncoder: WholeTensorEncoder {
    /// Per GGUF tensor name, the mean xxᵀ of its input, packed upper triangle.
    public let hessians: [String: [Float]]
    public var damping: Double
    static let batchColumns = 128

    public init(hessians: [String: [Float]], damping: Double = 0.01) {
        self.hessians = hessians
        self.damping = damping
    }

    /// Only the blocks' linear layers: W8A8 keeps the embedding and the output head as stored.
    public func handles(tensor name: String, type: GGMLType) -> Bool {
        name.hasPrefix("blk.") && hessians[name] != nil && TensorTypeChoice.floatTypes.contains(type)
    }

    public func encode(tensor name: String, values: UnsafeMutableBufferPointer<Float>, rowLength n: Int, type: GGMLType,
                       importance: [Float]?, threads: Int) throws -> [UInt8] {
        guard let packed = hessians[name], packed.count == n * (n + 1) / 2 else {
            throw CodecError.hessianSizeMismatch(tensor: name, rowLength: n, found: hessians[name]?.count ?? 0)
        }
        let u = try ErrorCompensatingEncoder.inverseCholeskyFactor(packed: packed, n: n, damping: damping, tensor: name)
        let rows = values.count / n
        let w = SendablePointer(value: values.baseAddress!)
        u.withUnsafeBufferPointer { u in
            let factor = SendablePointer(value: u.baseAddress!)
            // Rows are independent until the batch update: split them over the threads.
            let workers = max(1, min(threads, rows))
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let first = rows * worker / workers, last = rows * (worker + 1) / workers
                Self.round(rows: first ..< last, of: w.value, columns: n, factor: factor.value)
            }
        }
        let codec = try TensorCodec(type: type, tensor: name, threads: threads)
        return try codec.quantize(Array(values), rowLength: n, importance: nil, tensor: name)
    }

    /// GPTQ over `rows` (row-major, `columns` wide), in place: afterwards each row holds scale·q.
    static func round(rows: Range<Int>, of w: UnsafeMutablePointer<Float>, columns n: Int, factor u: UnsafePointer<Float>) {
        guard !rows.isEmpty else { return }
        let count = rows.count
        var scales = [Float](repeating: 0, count: count), pinned = [Int](repeating: -1, count: count)
        for (i, r) in rows.enumerated() {
            var peak: Float = 0
            for j in 0..<n where abs(w[r * n + j]) > peak { peak = abs(w[r * n + j]); pinned[i] = j }
            scales[i] = peak / 127
        }
        let base = w + rows.lowerBound * n
        var errors = [Float](repeating: 0, count: count * batchColumns)
        for start in stride(from: 0, to: n, by: batchColumns) {
            let end = min(n, start + batchColumns), width = end - start
            for i in 0..<count {
                let row = base + i * n, scale = scales[i]
                guard scale > 0 else {  // an all-zero row: nothing to round, no error to move
                    for k in 0..<width { errors[i * batchColumns + k] = 0 }
                    continue
                }
                for j in start ..< end {
                    let value = row[j]
                    let q: Float = j == pinned[i] ? (value < 0 ? -127 : 127) : max(-127, min(127, (value / scale).rounded()))
                    let rounded = q * scale
                    let e = (value - rounded) / u[j * n + j]
                    row[j] = rounded
                    errors[i * batchColumns + j - start] = e
                    let uRow = u + j * n
                    for k in (j + 1) ..< end { row[k] -= e * uRow[k] }
                }
            }
            let rest = n - end
            guard rest > 0 else { continue }
            errors.withUnsafeBufferPointer { e in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(count), Int32(rest), Int32(width),
                            -1, e.baseAddress, Int32(batchColumns), u + start * n + end, Int32(n), 1, base + end, Int32(n))
            }
        }
    }
}

/// A pointer handed to `concurrentPerform`'s workers, which touch disjoint rows.
private struct SendablePointer<T>: @unchecked Sendable {
    let value: T
}
