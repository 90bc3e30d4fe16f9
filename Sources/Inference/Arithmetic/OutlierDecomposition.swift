import CBLAS
import Foundation
import Synchronization

/// LLM.int8()'s mixed-precision decomposition, as bitsandbytes' `Linear8bitLt(threshold: τ)`
/// runs it: every input feature (column) in which any token of the batch reaches |x| ≥ τ is
/// taken out of the int8 product and multiplied in float, with the int8 weights of that column
/// dequantized (bitsandbytes keeps only the int8 weights too). The other columns go through int8
/// as before, now with per-token scales set by the ordinary values instead of the outliers.
///
/// Why column-wise (per batch) and not per element: that is bitsandbytes' definition, so the
/// numbers say what its int8 inference would give; like it, the result depends on which tokens
/// share a batch.
struct OutlierDecomposition {
    /// The outlier columns, ascending.
    let columns: [Int]
    /// Their activations, tokens × columns.count, row-major.
    let values: [Float]

    /// Finds the columns of `x` (tokens × width) with any |x| ≥ `threshold`, moves their values
    /// into the decomposition and zeroes them in `x`.
    init(extractingFrom x: UnsafeMutablePointer<Float>, tokens: Int, width: Int, threshold: Float) {
        var isOutlier = [Bool](repeating: false, count: width)
        for t in 0..<tokens {
            let row = x + t * width
            for j in 0..<width where abs(row[j]) >= threshold { isOutlier[j] = true }
        }
        columns = isOutlier.indices.filter { isOutlier[$0] }
        var values = [Float](repeating: 0, count: tokens * columns.count)
        for t in 0..<tokens {
            let row = x + t * width
            for (i, j) in columns.enumerated() {
                values[t * columns.count + i] = row[j]
                row[j] = 0
            }
        }
        self.values = values
    }

    /// out[t, r] += Σ_i values[t, i] · W[r, columns[i]], W the dequantized int8 weights.
    func addFloatProduct(tokens: Int, weights w: Int8Matrix, into out: UnsafeMutablePointer<Float>) {
        let k = columns.count
        guard k > 0 else { return }
        // The outlier columns of W, dequantized, as a k × rows matrix for one sgemm.
        var gathered = [Float](repeating: 0, count: k * w.rows)
        for r in 0..<w.rows {
            let row = w.values + r * w.columns, scale = w.scales[r]
            for (i, j) in columns.enumerated() { gathered[i * w.rows + r] = scale * Float(row[j]) }
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(tokens), Int32(w.rows), Int32(k), 1,
                    values, Int32(k), gathered, Int32(w.rows), 1, out, Int32(w.rows))
    }
}

/// How much of an int8 layer's input the decomposition moved to float, over all its calls: the
/// cost side of the threshold (the LLM.int8() paper keeps more than 99.9 % of values in 8-bit).
final class OutlierTally: Sendable {
    private let counts = Mutex((outliers: 0, total: 0))

    func add(outlierColumns: Int, columns: Int, tokens: Int) {
        counts.withLock { $0.outliers += outlierColumns * tokens; $0.total += columns * tokens }
    }

    var totals: (outliers: Int, total: Int) { counts.withLock { $0 } }
}
