import Foundation
import CBLAS
import Dispatch
import QuantCore

/// Products of activations with stored weights: out[T × rows] = x[T × columns] · Wᵀ.
///
/// Weights stay in their stored encoding; each worker decodes a tile of rows into an f32 buffer
/// and multiplies it with OpenBLAS (sgemm for a batch, sgemv for one token). Tiles are spread
/// over the cores; OpenBLAS itself runs single-threaded inside each worker so the two levels of
/// parallelism do not fight.
enum MatMul {
    /// Rows decoded per tile. For a batch: large enough that OpenBLAS packs the activations
    /// rarely (it repacks them on every call), within a few MB per worker. For one token (or a
    /// few): small enough to stay in L2, so the decoded tile is read back from cache, not memory.
    /// At least four tiles per matrix so two to four cores share the work. The size never depends
    /// on the thread count, so results are identical for any number of threads.
    static func tileRows(columns: Int, rows: Int, tokens: Int) -> Int {
        let budget = tokens <= 4 ? 128 << 10 : 4 << 20
        let byMemory = max(8, budget / (4 * columns))
        return max(1, min(byMemory, (rows + 3) / 4))
    }
    private static let configureBLAS: Void = { openblas_set_num_threads(1) }()

    static func multiply(_ x: UnsafePointer<Float>, tokens: Int, by w: WeightMatrix, into out: UnsafeMutablePointer<Float>,
                         threads: Int = ProcessInfo.activeCores) {
        _ = configureBLAS
        let columns = w.columns, rows = w.rows
        let tileRows = tileRows(columns: columns, rows: rows, tokens: tokens)
        let tiles = (rows + tileRows - 1) / tileRows
        let workers = max(1, min(threads, tiles))
        let task = UnsafeSendableBox((x, out))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let (x, out) = task.value
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * columns)
            defer { buffer.deallocate() }
            var tile = worker
            while tile < tiles {
                let first = tile * tileRows, count = min(tileRows, rows - first)
                w.dequantizeRows(first ..< first + count, into: buffer)
                if tokens == 1 {
                    // One token: y = W·x on the decoded tile.
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(count), Int32(columns), 1, buffer, Int32(columns), x, 1, 0, out + first, 1)
                } else {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(tokens), Int32(count), Int32(columns), 1,
                                x, Int32(columns), buffer, Int32(columns), 0, out + first, Int32(rows))
                }
                tile += workers
            }
        }
    }
}

/// Shares raw pointers with the workers of one `concurrentPerform`, which write disjoint ranges.
struct UnsafeSendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
