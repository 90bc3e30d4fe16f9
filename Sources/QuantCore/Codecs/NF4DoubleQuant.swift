import Foundation
import QuantFormats

/// NF4_DQ — NF4 with bitsandbytes' double-quantized absmax (`compress_statistics=True`), about
/// 4.127 bpw: 33-byte blocks [u8 index into the signed dynamic map | 32 bytes of codes as NF4],
/// plus the companion F32 tensor [offset, nested absmax per 256 blocks]. The statistics span the
/// whole flattened tensor (bitsandbytes' layout, so a bnb-4bit checkpoint maps onto it byte for
/// byte), which is why this is a tensor-level encoder and not a row codec.
public enum NF4DoubleQuant {
    public static let blockBytes = 33

    /// Encodes a whole tensor of rows of `rowLength` (a multiple of 64). Without importance this
    /// is bitsandbytes: codes rounded at each block's absmax, then the absmax compressed. With
    /// importance, block scales come from NF4's calibrated search and, once compressed, every
    /// code is rounded again against the scale dequantization will actually use.
    public static func encode(_ x: UnsafeBufferPointer<Float>, rowLength: Int, importance: UnsafeBufferPointer<Float>? = nil,
                              threads: Int = ProcessInfo.activeCores, tensor: String = "<tensor>") throws -> (blocks: [UInt8], companion: [Float]) {
        let codec = try TensorCodec(type: .NF4, tensor: tensor, threads: threads)
        let rowBytes = try codec.rowBytes(rowLength: rowLength, tensor: tensor)
        var plain = [UInt8](repeating: 0, count: x.count / rowLength * rowBytes)
        try plain.withUnsafeMutableBytes { try codec.quantize(x, rowLength: rowLength, importance: importance, into: $0, tensor: tensor) }
        let blockCount = plain.count / NF4Codec.blockBytes
        let absmax = plain.withUnsafeBytes { raw in (0..<blockCount).map { raw.baseAddress!.loadFloat(at: $0 * NF4Codec.blockBytes) } }
        let statistics = BnBDoubleQuant.compress(absmax)
        let scales = importance == nil ? [] : BnBDoubleQuant.decompress(statistics)
        var blocks = [UInt8](repeating: 0, count: blockCount * blockBytes)
        plain.withUnsafeBytes { source in
            blocks.withUnsafeMutableBytes { out in
                NF4Codec.midpoints.withUnsafeBufferPointer { mids in
                    for b in 0..<blockCount {
                        let to = out.baseAddress! + b * blockBytes
                        to.storeByte(statistics.indices[b], at: 0)
                        if scales.isEmpty {
                            to.advanced(by: 1).copyMemory(from: source.baseAddress! + b * NF4Codec.blockBytes + 4, byteCount: 32)
                        } else {
                            NF4Codec.packNearestCodes(x.baseAddress! + b * NF4Codec.blockElements, scale: scales[b],
                                                      midpoints: mids.baseAddress!, into: to + 1)
                        }
                    }
                }
            }
        }
        return (blocks, [statistics.offset] + statistics.nestedAbsmax)
    }

    /// `encode` over arrays, with or without importance.
    public static func encode(_ values: [Float], rowLength: Int, importance: [Float]?, threads: Int = ProcessInfo.activeCores,
                              tensor: String = "<tensor>") throws -> (blocks: [UInt8], companion: [Float]) {
        try values.withUnsafeBufferPointer { x in
            guard let importance else { return try encode(x, rowLength: rowLength, threads: threads, tensor: tensor) }
            return try importance.withUnsafeBufferPointer { try encode(x, rowLength: rowLength, importance: $0, threads: threads, tensor: tensor) }
        }
    }

    /// Expands NF4_DQ blocks and their companion to NF4 blocks (f32 absmax restored as
    /// bitsandbytes does: nested_code[q]·nested_absmax + offset), so the NF4 row codec decodes them.
    public static func expand(_ blocks: UnsafeRawBufferPointer, companion: UnsafeBufferPointer<Float>,
                              tensor: String = "<tensor>") throws -> [UInt8] {
        guard blocks.count % blockBytes == 0 else {
            throw CodecError.dataSizeMismatch(tensor: tensor, expected: blocks.count / blockBytes * blockBytes, found: blocks.count)
        }
        let blockCount = blocks.count / blockBytes
        let nested = (blockCount + GGMLType.doubleQuantNestedBlocks - 1) / GGMLType.doubleQuantNestedBlocks
        guard companion.count == 1 + nested else {
            throw CodecError.dataSizeMismatch(tensor: GGMLType.doubleQuantCompanionName(of: tensor), expected: 1 + nested, found: companion.count)
        }
        let statistics = BnBDoubleQuantizedStatistics(
            indices: (0..<blockCount).map { blocks[$0 * blockBytes] }, nestedAbsmax: Array(companion[1...]),
            offset: companion[0], code: DynamicMap.signed)
        let absmax = BnBDoubleQuant.decompress(statistics)
        var expanded = [UInt8](repeating: 0, count: blockCount * NF4Codec.blockBytes)
        expanded.withUnsafeMutableBytes { out in
            for b in 0..<blockCount {
                let to = out.baseAddress! + b * NF4Codec.blockBytes
                to.storeFloat(absmax[b], at: 0)
                to.advanced(by: 4).copyMemory(from: blocks.baseAddress! + b * blockBytes + 1, byteCount: 32)
            }
        }
        return expanded
    }
}

extension NF4DoubleQuant {
    /// The F32 companion of an NF4_DQ tensor in `file`, checked for presence and type.
    public static func companion(of info: GGUFTensorInfo, in file: GGUFFile) throws -> UnsafeBufferPointer<Float> {
        let name = GGMLType.doubleQuantCompanionName(of: info.name)
        guard let companion = file.tensor(named: name) else { throw FormatError(file: file.path, .tensorNotFound(name)) }
        guard companion.type == .F32 else {
            throw CodecError.unsupportedType(tensor: name, type: companion.type.name + " (an NF4_DQ companion must be F32)")
        }
        return file.data(for: companion).bindMemory(to: Float.self)
    }
}
