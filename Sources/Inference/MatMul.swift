import Foundation
import CBLAS
import Dispatch
import QuantCore

/// Products of activations with stored weights: out[T × rows] = x[T × columns] · Wᵀ.
///
/// Weights stay in their stored encoding. For a batch each worker decodes a tile of rows into an
/// f32 buffer and multiplies it with OpenBLAS sgemm; tiles are spread over the cores and OpenBLAS
/// runs single-threaded inside each worker so the two levels of parallelism do not fight. For a
/// few tokens (generation) each row is decoded in registers and dotted with the activations
/// directly (`RowDotCodec`): writing the decoded tile out and reading it back cost more than
/// the product itself.
enum MatMul {
    /// Up to this many tokens products use the fused row dots, which decode each row once per
    /// token; larger batches decode a tile once and let sgemm reuse it. Generation (1 token) is
    /// the case that matters; the crossover itself has not been tuned.
    static let fusedTokenLimit = 4

    /// Rows decoded per tile: large enough that OpenBLAS packs the activations rarely (it
    /// repacks them on every call), within a few MB per worker. At least four tiles per matrix
    /// so two to four cores share the work. The size never depends on the thread count, so
    /// results are identical for any number of threads.
    static func tileRows(columns: Int, rows: Int) -> Int {
        let byMemory = max(8, (4 << 20) / (4 * columns))
        return max(1, min(byMemory, (rows + 3) / 4))
    }
    private static let configureBLAS: Void = { openblas_set_num_threads(1) }()

    /// Whether few-token products of quantized weights quantize their activations to int8 for the
    /// integer kernels, as llama.cpp does, unless `QUANTKIT_F32_ACTIVATIONS=1` (slower, no
    /// activation rounding). Batches (prompt processing, perplexity) always use f32 sgemm.
    static let integerActivationsByDefault = ProcessInfo.processInfo.environment["QUANTKIT_F32_ACTIVATIONS"] == nil

    /// `llamaCppRounding`: the activations are first rounded to what llama.cpp's CPU kernels for
    /// `w.type` multiply with (`LlamaCppActivations`), then multiplied in f32 — llama.cpp's
    /// arithmetic up to summation order, for comparisons against it; slower for single tokens
    /// than the integer kernels.
    static func multiply(_ x: UnsafePointer<Float>, tokens: Int, by w: WeightMatrix, into out: UnsafeMutablePointer<Float>,
                         threads: Int = ProcessInfo.activeCores, integerActivations: Bool = integerActivationsByDefault,
                         llamaCppRounding: Bool = false) {
        if llamaCppRounding, case let rounding = LlamaCppActivations.forWeights(w.type), rounding != .exact {
            let count = tokens * w.columns
            let rounded = UnsafeMutablePointer<Float>.allocate(capacity: count)
            defer { rounded.deallocate() }
            rounded.update(from: x, count: count)
            for t in 0..<tokens { rounding.round(rounded + t * w.columns, count: w.columns) }
            return multiply(rounded, tokens: tokens, by: w, into: out, threads: threads, integerActivations: false)
        }
        if tokens <= fusedTokenLimit {
            if integerActivations, let dot = w.int8RowDot {
                return multiplyInteger(x, tokens: tokens, by: w, dot: dot, into: out, threads: threads)
            }
            return multiplyFused(x, tokens: tokens, by: w, into: out, threads: threads)
        }
        _ = configureBLAS
        let columns = w.columns, rows = w.rows
        let tileRows = tileRows(columns: columns, rows: rows)
        let tiles = (rows + tileRows - 1) / tileRows
        let workers = max(1, min(threads, tiles))
        let task = UnsafeSendableBox((x, out))
        WorkerPool.shared.run(iterations: workers) { worker in
            let (x, out) = task.value
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * columns)
            defer { buffer.deallocate() }
            var tile = worker
            while tile < tiles {
                let first = tile * tileRows, count = min(tileRows, rows - first)
                w.dequantizeRows(first ..< first + count, into: buffer)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(tokens), Int32(count), Int32(columns), 1,
                            x, Int32(columns), buffer, Int32(columns), 0, out + first, Int32(rows))
                tile += workers
            }
        }
    }
}

extension MatMul {
    /// Rows per unit of work in the fused path: small enough that two workers finish together,
    /// large enough that handing out work is rare.
    static let fusedChunkRows = 64

    static func multiplyFused(_ x: UnsafePointer<Float>, tokens: Int, by w: WeightMatrix, into out: UnsafeMutablePointer<Float>,
                              threads: Int) {
        let columns = w.columns
        // Activations in the kernel's order, once per product (not per row); natural order is
        // used in place.
        let layout = w.rowDot?.activationLayout ?? .natural
        let stride = layout.arrangedCount(columns)
        var arranged: UnsafeMutablePointer<Float>?
        if layout != .natural {
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: tokens * stride)
            for t in 0..<tokens { layout.arrange(x + t * columns, count: columns, into: buffer + t * stride) }
            arranged = buffer
        }
        defer { arranged?.deallocate() }
        // Types without a fused dot decode one row at a time into an L1-sized buffer per worker,
        // allocated once per product (not per chunk).
        let decodeBuffers = w.rowDot == nil ? UnsafeMutablePointer<Float>.allocate(capacity: max(1, threads) * columns) : nil
        defer { decodeBuffers?.deallocate() }
        let task = UnsafeSendableBox((arranged.map { UnsafePointer($0) } ?? x, decodeBuffers))
        forEachRowChunk(rows: w.rows, threads: threads, into: out) { worker, rows, out in
            let (x, decodeBuffers) = task.value
            if let dot = w.rowDot {
                for row in rows {
                    for t in 0..<tokens { out[t * w.rows + row] = dot.dot(w.data + row * w.rowBytes, x + t * stride, count: columns) }
                }
                return
            }
            guard let decoded = decodeBuffers.map({ $0 + worker * columns }) else { return }
            for row in rows {
                w.dequantizeRows(row ..< row + 1, into: decoded)
                for t in 0..<tokens { out[t * w.rows + row] = dotFloats(decoded, x + t * stride, count: columns) }
            }
        }
    }

    /// The integer path: each token's activations quantized to int8 blocks once, then every row
    /// through the type's integer kernel.
    static func multiplyInteger(_ x: UnsafePointer<Float>, tokens: Int, by w: WeightMatrix, dot: any Int8RowDotCodec.Type,
                                into out: UnsafeMutablePointer<Float>, threads: Int) {
        let quantized = (0..<tokens).map { t in
            let q = QuantizedActivations(count: w.columns)
            q.quantize(x + t * w.columns)
            return q
        }
        defer { quantized.forEach { $0.deallocate() } }
        if let (interleaved, kernel) = w.interleaved {
            // Chunks start at multiples of 64 rows, so every chunk is whole groups of eight.
            let group = InterleavedRows.rowsPerGroup
            forEachRowChunk(rows: w.rows, threads: threads, into: out) { _, rows, out in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: group) { dots in
                    for first in stride(from: rows.lowerBound, to: rows.upperBound, by: group) {
                        for t in 0..<tokens {
                            kernel.dot8(interleaved.pointer, group: first / group, rowBytes: w.rowBytes, quantized[t],
                                        columns: w.columns, into: dots.baseAddress!)
                            for r in 0..<group { out[t * w.rows + first + r] = dots[r] }
                        }
                    }
                }
            }
            return
        }
        forEachRowChunk(rows: w.rows, threads: threads, into: out) { _, rows, out in
            for row in rows {
                for t in 0..<tokens { out[t * w.rows + row] = dot.dot(w.data + row * w.rowBytes, quantized[t], count: w.columns) }
            }
        }
    }

    /// Hands chunks of `fusedChunkRows` rows to the workers in turn (worker < max(1, threads)).
    private static func forEachRowChunk(rows: Int, threads: Int, into out: UnsafeMutablePointer<Float>,
                                        _ body: @escaping @Sendable (_ worker: Int, Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
        let chunks = (rows + fusedChunkRows - 1) / fusedChunkRows
        let workers = max(1, min(threads, chunks))
        let output = UnsafeSendableBox(out)
        WorkerPool.shared.run(iterations: workers) { worker in
            var chunk = worker
            while chunk < chunks {
                let first = chunk * fusedChunkRows
                body(worker, first ..< min(rows, first + fusedChunkRows), output.value)
                chunk += workers
            }
        }
    }
}

/// Shares raw pointers with parallel workers that write disjoint ranges.
struct UnsafeSendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
