#if arch(x86_64) && AVX2
import _Builtin_intrinsics.intel

/// A 32-element block type for the integer kernels: where its scale (and minimum) sit and how
/// its 32 levels dot with 32 activation bytes. The row loops are written once, generically, and
/// specialized per type (each conformance calls them with its own `Self`).
///
/// Rows of real models are short (SmolLM2: 576 columns, 18 blocks): the loop keeps two
/// accumulators (one FMA chain would make the FMA latency, not the work, the limit).
///
/// Measured and left out: a four-rows-per-pass variant sharing the activation loads (faster with
/// the matrix in cache, no faster in generation: the three extra row streams stalled on memory).
/// Q8_0 through this per-row kernel was no faster than its fused f32 kernel (SmolLM2 Q8_0, 2
/// threads, 75–92 t/s int8 vs 76–87 t/s f32); it is here for the row-lane kernel
/// (`RowLanes.q8_0`), which is.
protocol Int8BlockDot: Int8RowDotCodec {
    /// Bytes per block as a constant: `blockBytes` is a trait-table lookup (a struct copy with a
    /// retained name), which at one call per 576-column row took a third of the Q4_0 token time.
    /// `Int8RowDotTests` checks the two agree.
    static var blockStride: Int { get }
    /// Byte offset of the block's f16 minimum (Q4_1, Q5_1), nil for symmetric types.
    static var minimumOffset: Int? { get }
    /// A constant the block kernel needs in a register (IQ4_NL's codebook), loaded once per call.
    static var blockConstant: __m256i { get }
    /// Σ level·y of one block in eight Int32 lanes.
    static func blockLanes(_ block: UnsafeRawPointer, _ y: __m256i, _ constant: __m256i) -> __m256i
}

extension Int8BlockDot {
    static var minimumOffset: Int? { nil }
    static var blockConstant: __m256i { _mm256_setzero_si256() }
}

@inline(__always)
func blockRowDot<C: Int8BlockDot>(_: C.Type, _ row: UnsafeRawPointer, _ x: QuantizedActivations, count: Int) -> Float {
    let halves = HalfTable.pointer, constant = C.blockConstant
    let levels = x.levels, scales = x.scales, sums = x.scaledSums
    let blockBytes = C.blockStride
    var even = _mm256_setzero_ps(), odd = _mm256_setzero_ps()
    var minimums: Float = 0
    @inline(__always) func add(_ acc: inout __m256, _ block: Int) {
        let b = row + block * blockBytes
        acc = scaledAdd(acc, C.blockLanes(b, loadBytes32(levels + 32 * block), constant), halfScale(halves, b, 0) * scales[block])
        if let m = C.minimumOffset { minimums += halfScale(halves, b, m) * sums[block] }
    }
    let blocks = count / 32
    var block = 0
    while block + 2 <= blocks {
        add(&even, block)
        add(&odd, block + 1)
        block += 2
    }
    if block < blocks { add(&even, block) }
    return horizontalSum(_mm256_add_ps(even, odd)) + minimums
}

extension Q4_0Codec: Int8BlockDot {
    static var blockStride: Int { 18 }
    @inline(__always)
    static func blockLanes(_ b: UnsafeRawPointer, _ y: __m256i, _: __m256i) -> __m256i {
        signedByteDot(_mm256_sub_epi8(nibbleBytes32(b + 2), _mm256_set1_epi8(8)), y)
    }
    public static func dot(_ row: UnsafeRawPointer, _ x: QuantizedActivations, count: Int) -> Float { blockRowDot(Self.self, row, x, count: count) }
}

extension Q8_0Codec: Int8BlockDot {
    static var blockStride: Int { 34 }
    @inline(__always)
    static func blockLanes(_ b: UnsafeRawPointer, _ y: __m256i, _: __m256i) -> __m256i { signedByteDot(loadBytes32(b + 2), y) }
    public static func dot(_ row: UnsafeRawPointer, _ x: QuantizedActivations, count: Int) -> Float { blockRowDot(Self.self, row, x, count: count) }
}

extension Q4_1Codec: Int8BlockDot {
    static var blockStride: Int { 20 }
    static var minimumOffset: Int? { 2 }
    @inline(__always)
    static func blockLanes(_ b: UnsafeRawPointer, _ y: __m256i, _: __m256i) -> __m256i { unsignedByteDot(nibbleBytes32(b + 4), y) }
    public static func dot(_ row: UnsafeRawPointer, _ x: QuantizedActivations, count: Int) -> Float { blockRowDot(Self.self, row, x, count: count) }
}

extension Q5_0Codec: Int8BlockDot {
    static var blockStride: Int { 22 }
    /// level − 16 as a signed byte: the nibble, with 0xF0 set where the fifth bit is clear.
    @inline(__always)
    static func blockLanes(_ b: UnsafeRawPointer, _ y: __m256i, _: __m256i) -> __m256i {
        signedByteDot(_mm256_or_si256(nibbleBytes32(b + 6), _mm256_andnot_si256(bitBytes32(b + 2), _mm256_set1_epi8(-16))), y)
    }
    public static func dot(_ row: UnsafeRawPointer, _ x: QuantizedActivations, count: Int) -> Float { blockRowDot(Self.self, row, x, count: count) }
}

extension Q5_1Codec: Int8BlockDot {
    static var blockStride: Int { 24 }
    static var minimumOffset: Int? { 2 }
    @inline(__always)
    static func blockLanes(_ b: UnsafeRawPointer, _ y: __m256i, _: __m256i) -> __m256i {
        unsignedByteDot(_mm256_or_si256(nibbleBytes32(b + 8), _mm256_and_si256(bitBytes32(b + 4), _mm256_set1_epi8(16))), y)
    }
    public static func dot(_ row: UnsafeRawPointer, _ x: QuantizedActivations, count: Int) -> Float { blockRowDot(Self.self, row, x, count: count) }
}

/// The IQ4_NL codebook in both 128-bit halves, for `pshufb` lookups of 32 nibbles at once.
@inline(__always)
func nonLinearCodebook() -> __m256i {
    let book = IQ4_NLCodec.codebookWords
    return _mm256_set_epi64x(book.high, book.low, book.high, book.low)
}

extension IQ4_NLCodec: Int8BlockDot {
    static var blockStride: Int { 18 }
    static var blockConstant: __m256i { nonLinearCodebook() }
    @inline(__always)
    static func blockLanes(_ b: UnsafeRawPointer, _ y: __m256i, _ book: __m256i) -> __m256i {
        signedByteDot(_mm256_shuffle_epi8(book, nibbleBytes32(b + 2)), y)
    }
    public static func dot(_ row: UnsafeRawPointer, _ x: QuantizedActivations, count: Int) -> Float { blockRowDot(Self.self, row, x, count: count) }
}

extension IQ4_XSCodec: Int8RowDotCodec {
    public static func dot(_ row: UnsafeRawPointer, _ x: QuantizedActivations, count: Int) -> Float {
        let halves = HalfTable.pointer
        let book = nonLinearCodebook()
        var acc = _mm256_setzero_ps()
        for superBlock in 0..<count / 256 {
            let b = row + superBlock * 136
            let d = halfScale(halves, b, 0)
            let high = UInt32(b.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
            for sub in 0..<8 {
                let low = UInt32(b.load(fromByteOffset: 4 + sub / 2, as: UInt8.self)) >> (4 * UInt32(sub % 2)) & 0xF
                let scale = Int32(low | (high >> (2 * UInt32(sub)) & 3) << 4) - 32
                let block = superBlock * 8 + sub
                let levels = _mm256_shuffle_epi8(book, nibbleBytes32(b + 8 + 16 * sub))
                let lanes = signedByteDot(levels, loadBytes32(x.levels + block * 32))
                acc = scaledAdd(acc, lanes, d * Float(scale) * x.scales[block])
            }
        }
        return horizontalSum(acc)
    }
}
#endif

extension IQ4_NLCodec {
    /// `codebook` as two little-endian 64-bit words (entries 0…7, 8…15).
    static let codebookWords: (low: Int64, high: Int64) = {
        let bytes = codebook.map { UInt64(UInt8(bitPattern: $0)) }
        func word(_ first: Int) -> Int64 { Int64(bitPattern: (0..<8).reduce(0) { $0 | bytes[first + $1] << (8 * UInt64($1)) }) }
        return (word(0), word(8))
    }()
}
