import QuantCore
import QuantFormats

/// A linear weight of a bitsandbytes-4bit checkpoint as transformers saves it: `<name>` holds the
/// packed codes (U8, [n/2, 1]), `<name>.absmax` the per-block absmax (F32, or U8 indices when
/// double-quantized, with `.nested_absmax` F32, `.nested_quant_map` F32[256] and the offset in
/// the quant state), `<name>.quant_map` the 16 code values (F32), and
/// `<name>.quant_state.bitsandbytes__nf4` (or `__fp4`) a JSON object as U8 bytes: quant_type,
/// blocksize, dtype, shape, and nested_blocksize/nested_dtype/nested_offset when nested.
///
/// Dequantization is bitsandbytes' `dequantize_4bit`: absmax restored as
/// nested_quant_map[q]·nested_absmax + offset (f32), then quant_map[q]·absmax (f32), cast to
/// the state's dtype. The maps are read from the file, as bitsandbytes does, not assumed.
public struct BnB4BitCheckpointWeight: @unchecked Sendable {
    public static let stateSuffixes = [".quant_state.bitsandbytes__nf4", ".quant_state.bitsandbytes__fp4"]
    static let companionSuffixes = [".absmax", ".quant_map", ".nested_absmax", ".nested_quant_map"] + stateSuffixes

    public let name: String
    public let quantType: BnB4BitType
    public let blocksize: Int
    /// The dtype the checkpoint was quantized from, which dequantization returns (F32/F16/BF16).
    public let dtype: GGMLType
    /// PyTorch order ([out, in]).
    public let shape: [UInt64]
    public let isNested: Bool
    /// Kept so that `packed` and `absmax`, views into its memory map, stay valid.
    let checkpoint: SafetensorsCheckpoint
    let packed: UnsafeRawBufferPointer
    let absmax: UnsafeRawBufferPointer
    let quantMap: [Float]
    let nested: (absmax: [Float], map: [Float], offset: Float, blocksize: Int)?

    /// True when `name` is one of the companion tensors of some bnb weight (not a model tensor).
    public static func isCompanion(_ name: String, in checkpoint: SafetensorsCheckpoint) -> Bool {
        companionSuffixes.contains { suffix in
            guard name.hasSuffix(suffix) else { return false }
            let base = String(name.dropLast(suffix.count))
            return stateSuffixes.contains { checkpoint.entry(named: base + $0) != nil }
        }
    }

    /// The bnb weight stored under `name`, or nil when `name` is a plain tensor.
    public init?(checkpoint: SafetensorsCheckpoint, name: String) throws {
        guard let stateEntry = Self.stateSuffixes.lazy.compactMap({ checkpoint.entry(named: name + $0) }).first else { return nil }
        let file = checkpoint.path
        self.name = name
        self.checkpoint = checkpoint
        func fail(_ message: String) -> HFCheckpointError { HFCheckpointError(file: file, .badValue(key: stateEntry.info.name, message: message)) }
        func entry(_ suffix: String, _ dtype: SafetensorsDType) throws -> SafetensorsCheckpoint.Entry {
            guard let entry = checkpoint.entry(named: name + suffix) else { throw HFCheckpointError(file: file, .missingTensor(name + suffix)) }
            guard entry.info.dtype == dtype else {
                throw HFCheckpointError(file: file, .unsupportedDType(tensor: name + suffix, dtype: entry.info.dtype.rawValue + " (expected \(dtype.rawValue))"))
            }
            return entry
        }
        func floats(_ entry: SafetensorsCheckpoint.Entry) -> [Float] {
            Array(checkpoint.data(for: entry).bindMemory(to: Float.self))
        }

        let state: JSONValue
        do { state = try JSONParser.parse(checkpoint.data(for: stateEntry)) } catch { throw HFCheckpointError(file: file, .malformedJSON("\(stateEntry.info.name): \(error)")) }
        guard let typeName = state["quant_type"]?.string, let type = BnB4BitType(rawValue: typeName) else { throw fail("quant_type must be \"nf4\" or \"fp4\"") }
        guard let blocksize = state["blocksize"]?.int64.map(Int.init), BnB4Bit.supportedBlocksizes.contains(blocksize) else {
            throw fail("blocksize must be one of \(BnB4Bit.supportedBlocksizes)")
        }
        let dtypes: [String: GGMLType] = ["float32": .F32, "float16": .F16, "bfloat16": .BF16]
        guard let dtypeName = state["dtype"]?.string, let dtype = dtypes[dtypeName] else { throw fail("dtype must be float32, float16 or bfloat16") }
        guard let shape = state["shape"]?.array?.compactMap(\.uint64), shape.count == 2, shape.allSatisfy({ $0 > 0 && $0 < 1 << 32 }) else {
            throw fail("shape must be two positive dimensions")
        }
        quantType = type
        self.blocksize = blocksize
        self.dtype = dtype
        self.shape = shape

        let count = Int(shape[0] * shape[1]), blocks = (count + blocksize - 1) / blocksize
        let packedEntry = try entry("", .U8)
        guard packedEntry.info.byteCount == UInt64((count + 1) / 2) else {
            throw HFCheckpointError(file: file, .wrongShape(tensor: name, expected: [UInt64((count + 1) / 2), 1], found: packedEntry.info.shape))
        }
        packed = checkpoint.data(for: packedEntry)
        quantMap = floats(try entry(".quant_map", .F32))
        guard quantMap.count == 16 else { throw HFCheckpointError(file: file, .wrongShape(tensor: name + ".quant_map", expected: [16], found: [UInt64(quantMap.count)])) }

        isNested = checkpoint.entry(named: name + ".nested_absmax") != nil
        let absmaxEntry = try entry(".absmax", isNested ? .U8 : .F32)
        guard absmaxEntry.info.shape.reduce(1, *) == UInt64(blocks) else {
            throw HFCheckpointError(file: file, .wrongShape(tensor: name + ".absmax", expected: [UInt64(blocks)], found: absmaxEntry.info.shape))
        }
        absmax = checkpoint.data(for: absmaxEntry)
        if isNested {
            guard let nestedBlocksize = state["nested_blocksize"]?.int64.map(Int.init), nestedBlocksize > 0,
                  let offset = state["nested_offset"]?.double, offset.isFinite else {
                throw fail("a nested quant state needs nested_blocksize and nested_offset")
            }
            let nestedAbsmax = floats(try entry(".nested_absmax", .F32)), nestedMap = floats(try entry(".nested_quant_map", .F32))
            let nestedBlocks = (blocks + nestedBlocksize - 1) / nestedBlocksize
            guard nestedAbsmax.count == nestedBlocks else {
                throw HFCheckpointError(file: file, .wrongShape(tensor: name + ".nested_absmax", expected: [UInt64(nestedBlocks)], found: [UInt64(nestedAbsmax.count)]))
            }
            guard nestedMap.count == 256 else {
                throw HFCheckpointError(file: file, .wrongShape(tensor: name + ".nested_quant_map", expected: [256], found: [UInt64(nestedMap.count)]))
            }
            // The offset was an f32 printed as a double: converting back is exact.
            nested = (nestedAbsmax, nestedMap, Float(offset), nestedBlocksize)
        } else {
            nested = nil
        }
    }

    /// The per-block absmax bitsandbytes dequantizes with.
    public func blockAbsmax() -> [Float] {
        guard let nested else { return Array(absmax.bindMemory(to: Float.self)) }
        return absmax.enumerated().map { i, q in nested.map[Int(q)] * nested.absmax[i / nested.blocksize] + nested.offset }
    }

    /// The weight as f32 products (before the cast to `dtype`).
    public func dequantizedProducts() -> [Float] {
        let count = Int(shape[0] * shape[1])
        let scales = blockAbsmax()
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let byte = packed[i / 2]
            let q = i % 2 == 0 ? byte >> 4 : byte & 0x0F
            values[i] = quantMap[Int(q)] * scales[i / blocksize]
        }
        return values
    }

    /// The weight in `dtype`'s layout, row-major [out, in] — what bitsandbytes' dequantization returns.
    public func dequantized() throws -> [UInt8] {
        try TensorCodec(type: dtype, tensor: name).quantize(dequantizedProducts(), rowLength: Int(shape[1]), tensor: name)
    }
}
