import Dispatch
import Foundation
import QuantCore

/// A weight matrix in W8A8 form: int8 values (in 16-bit lanes, see `SymmetricInt8`) with one
/// scale per output row (per-channel symmetric quantization), built once from any stored type.
public struct Int8Matrix: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    let values: UnsafeMutablePointer<Int16>
    let scales: [Float]
    /// An orthogonal columns × columns matrix Q applied online: the int8 values hold
    /// W·Q and each token's activations become x·Q before they are quantized, so the product is
    /// still x·Wᵀ (Q·Qᵀ = I) but int8 sees Hadamard-flattened activations (QuaRot's online
    /// rotation, for inputs no offline fold can reach — ffn_down's silu(gate)·up).
    let inputRotation: FactoredRotation?
    /// LLM.int8()'s threshold τ: input columns with any |x| ≥ τ in a batch are multiplied in
    /// float (`OutlierDecomposition`); nil is plain W8A8.
    let outlierThreshold: Float?
    /// What the decomposition moved to float so far (with `outlierThreshold`).
    let outlierTally: OutlierTally?
    private let storage: Storage

    /// Keeps the int8 buffer alive as long as any copy of the matrix.
    private final class Storage: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Int16>
        init(count: Int) { pointer = .allocate(capacity: max(1, count)) }
        deinit { pointer.deallocate() }
    }

    init(_ w: WeightMatrix, inputRotation: FactoredRotation? = nil, outlierThreshold: Float? = nil) {
        precondition(inputRotation.map { $0.order == w.columns } ?? true, "rotation order must equal the column count")
        rows = w.rows
        columns = w.columns
        let storage = Storage(count: w.rows * w.columns), values = storage.pointer
        self.storage = storage
        self.values = values
        self.inputRotation = inputRotation
        self.outlierThreshold = outlierThreshold
        outlierTally = outlierThreshold.map { _ in OutlierTally() }
        var rowScales = [Float](repeating: 0, count: w.rows)
        // A few rows at a time: an 8B model's ffn matrices would need 235 MB as whole floats.
        let chunk = 64
        var floats = [Float](repeating: 0, count: chunk * w.columns)
        floats.withUnsafeMutableBufferPointer { buffer in
            let f = buffer.baseAddress!
            for first in stride(from: 0, to: w.rows, by: chunk) {
                let count = min(chunk, w.rows - first)
                w.dequantizeRows(first ..< first + count, into: f)
                inputRotation?.apply(f, rows: count)
                for r in 0..<count {
                    rowScales[first + r] = SymmetricInt8.quantizeRow(f + r * w.columns, count: w.columns, into: values + (first + r) * w.columns)
                }
            }
        }
        scales = rowScales
    }
}

/// W8A8 products: each token's activations are quantized to int8 with their own scale (dynamic,
/// per token), multiplied with the int8 weights in exact integer arithmetic, and rescaled by the
/// token's and the row's scales: out[t, r] = s_x[t] · s_w[r] · Σ_k x_q[t, k] · w_q[r, k].
enum Int8MatMul {
    static func multiply(_ x: UnsafePointer<Float>, tokens: Int, by w: Int8Matrix, into out: UnsafeMutablePointer<Float>, threads: Int) {
        let columns = w.columns, rows = w.rows
        let quantized = UnsafeMutablePointer<Int16>.allocate(capacity: tokens * columns)
        defer { quantized.deallocate() }
        let tokenScales: [Float]
        var outliers: OutlierDecomposition?
        if w.inputRotation != nil || w.outlierThreshold != nil {
            var input = Array(UnsafeBufferPointer(start: x, count: tokens * columns))
            input.withUnsafeMutableBufferPointer { buffer in
                w.inputRotation?.apply(buffer.baseAddress!, rows: tokens)
                if let threshold = w.outlierThreshold {
                    let decomposition = OutlierDecomposition(extractingFrom: buffer.baseAddress!, tokens: tokens, width: columns, threshold: threshold)
                    w.outlierTally?.add(outlierColumns: decomposition.columns.count, columns: columns, tokens: tokens)
                    outliers = decomposition
                }
            }
            tokenScales = SymmetricInt8.quantizeRows(input, rows: tokens, columns: columns, into: quantized)
        } else {
            tokenScales = SymmetricInt8.quantizeRows(x, rows: tokens, columns: columns, into: quantized)
        }
        // Tiles of rows small enough that a tile stays in L1 while every token passes over it.
        let tileRows = max(1, min(32, (rows + 2 * threads - 1) / (2 * threads)))
        let tiles = (rows + tileRows - 1) / tileRows
        let workers = max(1, min(threads, tiles))
        let task = UnsafeSendableBox((UnsafePointer(quantized), out))
        tokenScales.withUnsafeBufferPointer { xs in
            w.scales.withUnsafeBufferPointer { ws in
                let scales = UnsafeSendableBox((xs.baseAddress!, ws.baseAddress!))
                WorkerPool.shared.run(iterations: workers) { worker in
                    let (xq, out) = task.value
                    let (xs, ws) = scales.value
                    var tile = worker
                    while tile < tiles {
                        let first = tile * tileRows, last = min(rows, first + tileRows)
                        var t = 0
                        while t + 4 <= tokens {
                            let xRows = xq + t * columns
                            for r in first ..< last {
                                let sums = SymmetricInt8.dot4(xRows, stride: columns, w.values + r * columns, count: columns)
                                for i in 0..<4 { out[(t + i) * rows + r] = xs[t + i] * ws[r] * Float(sums[i]) }
                            }
                            t += 4
                        }
                        while t < tokens {
                            let xRow = xq + t * columns
                            for r in first ..< last {
                                out[t * rows + r] = xs[t] * ws[r] * Float(SymmetricInt8.dot(xRow, w.values + r * columns, count: columns))
                            }
                            t += 1
                        }
                        tile += workers
                    }
                }
            }
        }
        // The outlier columns' float part, added onto the int8 products just written.
        outliers?.addFloatProduct(tokens: tokens, weights: w, into: out)
    }
}
