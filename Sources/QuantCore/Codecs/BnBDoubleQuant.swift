/// bitsandbytes' double quantization of the 4-bit absmax statistics (`compress_statistics=True`):
/// offset = mean(absmax) (as PyTorch computes it), then absmax − offset quantized blockwise
/// (256 per block) to 8-bit indices into the signed dynamic map, with one f32 absmax per block.
/// Dequantized absmax = nested_code[q]·nested_absmax + offset.
public struct BnBDoubleQuantizedStatistics: Sendable, Equatable {
    public static let blocksize = 256
    public var indices: [UInt8]
    public var nestedAbsmax: [Float]
    public var offset: Float
    public var code: [Float]
}

public enum BnBDoubleQuant {
    /// Compresses per-block absmax values.
    public static func compress(_ absmax: [Float]) -> BnBDoubleQuantizedStatistics {
        let offset = TorchReductions.mean(absmax)
        let centered = absmax.map { $0 - offset }
        let code = DynamicMap.signed
        let (indices, scales) = Blockwise8Bit.quantize(centered, code: code, blocksize: BnBDoubleQuantizedStatistics.blocksize)
        return BnBDoubleQuantizedStatistics(indices: indices, nestedAbsmax: scales, offset: offset, code: code)
    }

    /// Restores the absmax values (`dequantize_blockwise` then `+ offset`, both in f32).
    public static func decompress(_ statistics: BnBDoubleQuantizedStatistics) -> [Float] {
        statistics.indices.enumerated().map { i, q in
            statistics.code[Int(q)] * statistics.nestedAbsmax[i / BnBDoubleQuantizedStatistics.blocksize] + statistics.offset
        }
    }
}

/// bitsandbytes' blockwise 8-bit quantization against a 256-entry code (`quantize_blockwise` on
/// CPU, bitsandbytes 0.50): per block absmax = max|x| (NaN ignored), z = x·(1/absmax), then not
/// the nearest code entry but a 16-bit grid lookup: k = ⌊(z + 1)·32767.5 + 0.5⌋ and the entry
/// nearest to k/32767.5 − 1. So a z within half a grid step (1.5e-5) of the midpoint between two
/// entries can land on the farther one. Established against the library itself (pip
/// bitsandbytes 0.50.2, `cquantize_blockwise_cpu_fp32`): 0 differing indices on 2 000 000 random
/// z, on 197 370 z at and one ulp beside every grid edge and code midpoint, and on 5 120 000
/// values in 20 000 random blocks; x/absmax instead of x·(1/absmax) differs in 5 of those, and an
/// exact nearest-entry search in 8 of the 11 400 golden indices.
public enum Blockwise8Bit {
    public static func quantize(_ x: [Float], code: [Float], blocksize: Int) -> (indices: [UInt8], absmax: [Float]) {
        let table = code == DynamicMap.signed ? signedMapTable : gridTable(code)
        var indices = [UInt8](repeating: 0, count: x.count)
        var absmax: [Float] = []
        for start in stride(from: 0, to: x.count, by: blocksize) {
            let end = min(x.count, start + blocksize)
            var amax: Float = 0
            for i in start..<end where abs(x[i]) > amax { amax = abs(x[i]) }
            absmax.append(amax)
            let inverse = 1 / amax
            for i in start..<end { indices[i] = table[gridIndex(x[i] * inverse)] }
        }
        return (indices, absmax)
    }

    /// ⌊(z + 1)·32767.5 + 0.5⌋ in f32, clamped to the table; NaN (a zero block's 0·∞) gives 0,
    /// as the library does.
    @inline(__always)
    static func gridIndex(_ z: Float) -> Int {
        let k = (z + 1) * 32767.5 + 0.5
        guard k >= 0 else { return 0 }
        return k >= 65535 ? 65535 : Int(k)
    }

    /// For each grid point k/32767.5 − 1 (f32), the nearest code entry (the lower one on a tie).
    static func gridTable(_ code: [Float]) -> [UInt8] {
        (0..<65536).map { k in
            let v = Float(k) / 32767.5 - 1
            var index = lowerIndex(v, code)
            if index < code.count - 1, abs(v - code[index + 1]) < abs(v - code[index]) { index += 1 }
            return UInt8(index)
        }
    }

    private static let signedMapTable = gridTable(DynamicMap.signed)

    /// The largest i with code[i] ≤ v (0 when v is below every entry).
    static func lowerIndex(_ v: Float, _ code: [Float]) -> Int {
        var low = 0, high = code.count - 1
        if v >= code[high] { return high }
        while high - low > 1 {
            let mid = (low + high) / 2
            if code[mid] <= v { low = mid } else { high = mid }
        }
        return low
    }
}

/// bitsandbytes' signed dynamic quantization map (`create_dynamic_map(signed=True,
/// max_exponent_bits=7, total_bits=8)`): for exponent i = 0…6, the midpoints of
/// linspace(0.1, 1, 2^i + 1) scaled by 10^(i−6), both signs, plus 0 and 1, sorted.
/// Reproduced bit for bit: PyTorch's CPU linspace computes `start + step·k` (first half) and
/// `end − step·(n−1−k)` (second half) with a fused multiply-add, and the scaling is an f32 product.
public enum DynamicMap {
    public static let signed: [Float] = {
        var values: [Float] = [0, 1]
        for i in 0..<7 {
            let boundaries = torchLinspace(Float(0.1), 1, steps: (1 << i) + 1)
            let scale = Float(pow10(i - 6))
            for k in 0..<boundaries.count - 1 {
                let mean = (boundaries[k] + boundaries[k + 1]) / 2
                values.append(mean * scale)
                values.append(mean * -scale)
            }
        }
        return values.sorted()
    }()

    private static func pow10(_ exponent: Int) -> Double {
        var value = 1.0
        for _ in 0..<abs(exponent) { value *= 10 }
        return exponent < 0 ? 1 / value : value
    }

    static func torchLinspace(_ start: Float, _ end: Float, steps: Int) -> [Float] {
        let step = (end - start) / Float(steps - 1)
        return (0..<steps).map { k in
            k < steps / 2 ? start.addingProduct(step, Float(k)) : end.addingProduct(-step, Float(steps - k - 1))
        }
    }
}

/// PyTorch's CPU float32 reductions, reproduced so that statistics match bitsandbytes exactly.
public enum TorchReductions {
    /// `tensor.mean()` of a contiguous f32 tensor: ATen's cascade sum with 8-lane vectors (AVX2
    /// `Vectorized<float>`), four interleaved vector accumulators in a multi-level cascade, the
    /// scalar tail summed first and the lanes folded in order; then divided by the count.
    /// (Verified on all 40 offsets in the bitsandbytes golden file; plain or pairwise sums differ.)
    public static func mean(_ x: [Float]) -> Float {
        sum(x) / Float(x.count)
    }

    public static func sum(_ x: [Float]) -> Float {
        let lanes = 8
        let vectorCount = x.count / lanes
        var total: Float = 0
        if vectorCount == 0 {
            for v in x { total += v }
            return total
        }
        func vector(_ v: Int) -> [Float] { Array(x[v * lanes ..< (v + 1) * lanes]) }
        func add(_ a: inout [Float], _ b: [Float]) { for k in 0..<lanes { a[k] += b[k] } }
        let rows = vectorCount / 4
        var partial = [[Float]](repeating: [Float](repeating: 0, count: lanes), count: 4)
        if rows > 0 {
            // multi_row_sum over `rows` rows of 4 vectors.
            let levels = 4
            // c10::utils::CeilLog2: 1 for x ≤ 2, else the bit length of x − 1.
            let ceilLog2 = rows <= 2 ? 1 : Int.bitWidth - (rows - 1).leadingZeroBitCount
            let levelPower = max(4, ceilLog2 / levels)
            let levelStep = 1 << levelPower
            let levelMask = levelStep - 1
            var acc = [[[Float]]](repeating: partial, count: levels)
            var i = 0
            while i + levelStep <= rows {
                for _ in 0..<levelStep {
                    for k in 0..<4 { add(&acc[0][k], vector(4 * i + k)) }
                    i += 1
                }
                for j in 1..<levels {
                    for k in 0..<4 {
                        add(&acc[j][k], acc[j - 1][k])
                        acc[j - 1][k] = [Float](repeating: 0, count: lanes)
                    }
                    if i & (levelMask << (j * levelPower)) != 0 { break }
                }
            }
            while i < rows {
                for k in 0..<4 { add(&acc[0][k], vector(4 * i + k)) }
                i += 1
            }
            for j in 1..<levels { for k in 0..<4 { add(&acc[0][k], acc[j][k]) } }
            partial = acc[0]
        }
        for v in rows * 4 ..< vectorCount { add(&partial[0], vector(v)) }
        for k in 1..<4 { add(&partial[0], partial[k]) }
        for i in vectorCount * lanes ..< x.count { total += x[i] }
        for k in 0..<lanes { total += partial[0][k] }
        return total
    }
}
