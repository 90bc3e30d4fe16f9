/// NF4 and FP4 as bitsandbytes defines them (`bitsandbytes.functional.quantize_4bit`,
/// backends/cpu and default ops; provenance: bitsandbytes-foundation/bitsandbytes 0.50).
///
/// Layout: blocks of `blocksize` consecutive elements of the flattened tensor (the last block may
/// be partial), one f32 absmax per block, 4-bit codes packed two per byte with the FIRST element
/// in the HIGH nibble (the opposite of ggml). x ≈ code[q]·absmax.
public enum BnB4BitType: String, Sendable, CaseIterable {
    case nf4, fp4

    /// The 16 code values, as bitsandbytes' f32 tables hold them.
    public var code: [Float] {
        switch self {
        case .nf4:
            return [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
                    -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
                    0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                    0.7229568362236023, 1.0]
        case .fp4:
            // get_4bit_type('fp4'): an e2m1 grid {0, 0.0625, 8, 12, 4, 6, 2, 3} and negatives, divided
            // by its absmax (12) in f32. Index 8 is +0: the Python list's "-0" is the integer 0.
            return [0, 0.0625, 8, 12, 4, 6, 2, 3, 0, -0.0625, -8, -12, -4, -6, -2, -3].map { Float($0) / 12 }
        }
    }

    /// The values dequantization multiplies by. FP4 entry 8 is a zero whose sign depends on the
    /// bitsandbytes code path: +0 for 2-D weights, −0 on the 1-D path (its C++ table spells −0.0f).
    public func dequantizationCode(negativeZero: Bool) -> [Float] {
        var values = code
        if self == .fp4 && negativeZero { values[8] = -0.0 }
        return values
    }
}

/// A tensor quantized blockwise to NF4/FP4.
public struct BnB4BitTensor: Sendable, Equatable {
    public var type: BnB4BitType
    public var blocksize: Int
    public var count: Int
    /// ⌈count/2⌉ bytes, first element of each pair in the high nibble.
    public var packed: [UInt8]
    public var absmax: [Float]
}

/// Errors of the bitsandbytes codecs.
public enum BnBError: Error, Equatable, CustomStringConvertible {
    case unsupportedBlocksize(Int)
    case sizeMismatch(what: String, expected: Int, found: Int)

    public var description: String {
        switch self {
        case let .unsupportedBlocksize(b): return "blocksize \(b) is not supported (powers of two from 32 to 4096)"
        case let .sizeMismatch(what, expected, found): return "\(what) has \(found) elements, expected \(expected)"
        }
    }
}

public enum BnB4Bit {
    public static let supportedBlocksizes = [32, 64, 128, 256, 512, 1024, 2048, 4096]

    /// `quantize_4bit`: per block absmax = max|x|, scaled = clamp(x·(1/absmax), −1, 1), nearest
    /// code by |scaled − code| (first index on ties). An all-zero block encodes 0 (its absmax is 0).
    public static func quantize(_ x: UnsafeBufferPointer<Float>, type: BnB4BitType, blocksize: Int = 64) throws -> BnB4BitTensor {
        guard supportedBlocksizes.contains(blocksize) else { throw BnBError.unsupportedBlocksize(blocksize) }
        let code = SortedCode(type.code)
        let blocks = (x.count + blocksize - 1) / blocksize
        var absmax = [Float](repeating: 0, count: blocks)
        var packed = [UInt8](repeating: 0, count: (x.count + 1) / 2)
        let zeroIndex = UInt8(nearestCode(0, code))
        for block in 0..<blocks {
            let start = block * blocksize, end = min(x.count, start + blocksize)
            var amax: Float = 0
            for i in start..<end { amax = max(amax, abs(x[i])) }
            absmax[block] = amax
            let reciprocal = 1 / amax
            for i in start..<end {
                let q = amax == 0 ? zeroIndex : UInt8(nearestCode(min(1, max(-1, x[i] * reciprocal)), code))
                packed[i / 2] |= i % 2 == 0 ? q << 4 : q
            }
        }
        // An odd count pads with 0.0, which packs as the code nearest zero.
        if x.count % 2 == 1 { packed[x.count / 2] |= zeroIndex }
        return BnB4BitTensor(type: type, blocksize: blocksize, count: x.count, packed: packed, absmax: absmax)
    }

    /// `dequantize_4bit` to f32: code[q]·absmax[i / blocksize] over the flattened tensor (what the
    /// CUDA kernels and the quantizer mean).
    ///
    /// `cpuKernelRowLength` reproduces bitsandbytes' CPU kernel instead, which indexes absmax as
    /// `row·⌊n/blocksize⌋ + col/blocksize` for a matrix with rows of n elements: identical when n is
    /// a multiple of the blocksize, and different (the kernel's bug) when it is not, e.g. the
    /// golden attn_q rows of 576 with blocksize 128 or 256. A single row takes bitsandbytes' 1-D
    /// path, where FP4's second zero dequantizes to −0.
    public static func dequantize(_ tensor: BnB4BitTensor, absmax: [Float]? = nil, cpuKernelRowLength: Int? = nil,
                                  into y: UnsafeMutableBufferPointer<Float>) throws {
        let scales = absmax ?? tensor.absmax
        let blocks = (tensor.count + tensor.blocksize - 1) / tensor.blocksize
        guard scales.count == blocks else { throw BnBError.sizeMismatch(what: "absmax", expected: blocks, found: scales.count) }
        guard y.count == tensor.count else { throw BnBError.sizeMismatch(what: "output", expected: tensor.count, found: y.count) }
        guard tensor.packed.count == (tensor.count + 1) / 2 else {
            throw BnBError.sizeMismatch(what: "packed", expected: (tensor.count + 1) / 2, found: tensor.packed.count)
        }
        let singleRow = cpuKernelRowLength.map { $0 >= tensor.count } ?? false
        let code = tensor.type.dequantizationCode(negativeZero: singleRow)
        for i in 0..<tensor.count {
            let byte = tensor.packed[i / 2]
            let q = i % 2 == 0 ? byte >> 4 : byte & 0x0F
            let block: Int
            if let n = cpuKernelRowLength {
                block = (i / n) * (n / tensor.blocksize) + (i % n) / tensor.blocksize
            } else {
                block = i / tensor.blocksize
            }
            y[i] = code[Int(q)] * scales[block]
        }
    }

    /// The code index bitsandbytes picks for a scaled value: with the code sorted stably by value,
    /// the number of midpoints (f32 means of sorted neighbours) strictly below `v` — so a value
    /// exactly at a midpoint takes the lower code. For FP4 this also decides between its two
    /// zeros (indices 0 and 8, both +0): −ε and +0 give index 0, +ε gives index 8, as
    /// bitsandbytes' bytes show.
    @inline(__always)
    static func nearestCode(_ v: Float, _ lookup: SortedCode) -> Int {
        var position = 0
        while position < lookup.midpoints.count && lookup.midpoints[position] < v { position += 1 }
        return lookup.order[position]
    }

    /// A code sorted for `nearestCode`, computed once per quantization.
    struct SortedCode {
        let order: [Int]
        let midpoints: [Float]
        init(_ code: [Float]) {
            let sorted = code.indices.sorted { (code[$0], $0) < (code[$1], $1) }
            order = sorted
            midpoints = (1..<sorted.count).map { (code[sorted[$0 - 1]] + code[sorted[$0]]) / 2 }
        }
    }
}
