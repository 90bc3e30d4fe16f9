import CBLAS
import Dispatch
import Foundation
import QuantCore
import QuantFormats

/// Causal grouped-query attention over the cache: for each head, scores = q·kᵀ/√d_head over
/// positions ≤ the query's, softmax, then the weighted sum of values. Heads run in parallel.
enum Attention {
    /// Query rows per unit of batched attention. Units are (head, block of rows) pairs claimed
    /// by the workers one at a time: per head alone, SmolLM2's 9 heads split 5:4 over two
    /// cores, and a block only multiplies the positions its last row can see (the masked
    /// upper triangle is not computed). Measured in `quantkit-bench perplexity`.
    static let rowsPerUnit = 64

    static func compute(queries q: UnsafePointer<Float>, state: LlamaState, layer: Int, tokens T: Int, configuration c: LlamaConfiguration,
                        into out: UnsafeMutablePointer<Float>, threads: Int) {
        let hd = c.headDimension, d = c.queryDimension, kv = c.kvDimension
        let group = c.headCount / c.headCountKV
        let positions = state.length + T  // cache already holds this batch
        let start = state.length
        let scale = 1 / Float(hd).squareRoot()
        state.keys[layer].withUnsafeBufferPointer { kp in
            state.values[layer].withUnsafeBufferPointer { vp in
                let shared = UnsafeSendableBox((q, kp.baseAddress!, vp.baseAddress!, out))
                if T == 1 {
                    decode(shared.value, positions: positions, configuration: c, scale: scale, threads: threads)
                    return
                }
                let blocks = (T + rowsPerUnit - 1) / rowsPerUnit
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, threads) * rowsPerUnit * positions)
                defer { scratch.deallocate() }
                let buffers = UnsafeSendableBox(scratch)
                // Latest (costliest) blocks first, so the cheap ones fill in at the end.
                WorkerPool.shared.forEachUnit(blocks * c.headCount, threads: threads) { worker, unit in
                    let (q, k, v, o) = shared.value
                    let block = blocks - 1 - unit / c.headCount, h = unit % c.headCount, g = h / group
                    let first = block * rowsPerUnit, rows = min(rowsPerUnit, T - first)
                    let visible = start + first + rows  // positions the block's last row sees
                    let scores = buffers.value + worker * rowsPerUnit * positions
                    // scores[rows × visible] = Q_h · K_gᵀ
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(visible), Int32(hd), scale,
                                q + first * d + h * hd, Int32(d), k + g * hd, Int32(kv), 0, scores, Int32(visible))
                    for t in 0..<rows {
                        let row = scores + t * visible
                        let seen = start + first + t + 1
                        Kernels.softmax(row, seen)
                        for j in seen ..< visible { row[j] = 0 }
                    }
                    // out_h[rows × hd] = scores · V_g
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(hd), Int32(visible), 1,
                                scores, Int32(visible), v + g * hd, Int32(kv), 0, o + first * d + h * hd, Int32(d))
                }
            }
        }
    }
}

extension Attention {
    /// Generating one token: each head's cached positions are cut into parts of about 64 (at
    /// least two), and the workers claim (head, part) units, so 9 heads do not split 5:4 over two
    /// cores (13 % of generation time idle in perf). Each part returns an unnormalized softmax
    /// (its maximum score, Σ exp, Σ exp·v); the parts of a head are then combined. The parts
    /// depend only on the position count, so results do not depend on `threads`.
    static func decode(_ pointers: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>),
                       positions: Int, configuration c: LlamaConfiguration, scale: Float, threads: Int) {
        let (q, k, v, o) = pointers
        let hd = c.headDimension, kv = c.kvDimension, group = c.headCount / c.headCountKV
        let parts = positions < 2 ? 1 : max(2, (positions + 63) / 64)
        let units = c.headCount * parts
        let longest = (positions + parts - 1) / parts
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: units * hd)
        let maxima = UnsafeMutablePointer<Float>.allocate(capacity: units)
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: units)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, threads) * longest)
        defer { partial.deallocate(); maxima.deallocate(); sums.deallocate(); scratch.deallocate() }
        let shared = UnsafeSendableBox((q, k, v, partial, maxima, sums, scratch))
        WorkerPool.shared.forEachUnit(units, threads: threads) { worker, unit in
            let (q, k, v, partial, maxima, sums, scratch) = shared.value
            let h = unit / parts, part = unit % parts, g = h / group
            let range = positions * part / parts ..< positions * (part + 1) / parts
            (maxima[unit], sums[unit]) = decodeHeadPart(q + h * hd, keys: k + g * hd, values: v + g * hd, stride: kv, range: range,
                                                        headDimension: hd, scale: scale, scores: scratch + worker * longest,
                                                        into: partial + unit * hd)
        }
        for h in 0..<c.headCount {
            let first = h * parts
            var maximum = -Float.infinity
            for p in first ..< first + parts { maximum = max(maximum, maxima[p]) }
            var total = 0.0
            for p in first ..< first + parts { total += Double(expf(maxima[p] - maximum)) * sums[p] }
            let out = o + h * hd
            out.update(repeating: 0, count: hd)
            for p in first ..< first + parts {
                let weight = Float(Double(expf(maxima[p] - maximum)) / total)
                for i in 0..<hd { out[i] += weight * partial[p * hd + i] }
            }
        }
    }

    /// One query head against cached positions `range` (row stride `stride` floats): returns the
    /// largest score m and Σ exp(sⱼ − m), and writes Σ exp(sⱼ − m)·vⱼ into `out`.
    static func decodeHeadPart(_ q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, stride: Int,
                               range: Range<Int>, headDimension hd: Int, scale: Float, scores: UnsafeMutablePointer<Float>,
                               into out: UnsafeMutablePointer<Float>) -> (Float, Double) {
        var maximum = -Float.infinity
        for (n, j) in range.enumerated() {
            scores[n] = scale * dotFloats(q, keys + j * stride, count: hd)
            maximum = max(maximum, scores[n])
        }
        var sum = 0.0
        out.update(repeating: 0, count: hd)
        for (n, j) in range.enumerated() {
            let e = expf(scores[n] - maximum), value = values + j * stride
            sum += Double(e)
            var i = 0
            while i + 8 <= hd {
                let o = UnsafeMutableRawPointer(out + i)
                o.storeBytes(of: o.loadUnaligned(as: SIMD8<Float>.self)
                             + e * UnsafeRawPointer(value + i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                i += 8
            }
            while i < hd { out[i] += e * value[i]; i += 1 }
        }
        return (maximum, sum)
    }
}
