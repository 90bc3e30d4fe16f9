/// A ggml tensor type, identified by its on-disk id (GGUF tensor info `type`).
///
/// All facts about a type come from the one trait table below (`GGMLType.traitsTable`); readers,
/// writers, size estimates and CLI `--type` parsing derive from it, so adding a type is one row.
/// The table lives in QuantFormats rather than QuantCore because the GGUF reader needs block sizes
/// to validate tensor shapes and sizes; QuantCore attaches codecs to these ids.
public struct GGMLType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The traits of a known type (ggml's or a QuantKit extension), nil for any other id.
    public var traits: GGMLTypeTraits? {
        let index = Int(rawValue)
        guard index < Self.traitsTable.count, let row = Self.traitsTable[index] else {
            return Self.extensionTraits.first { $0.id == rawValue }
        }
        return row
    }

    public var name: String { traits?.name ?? "type\(rawValue)" }
    public var description: String { name }

    /// Looks a type up by its ggml spelling (case-insensitive): "Q4_K", "q8_0", "bf16".
    public init?(name: String) {
        let wanted = name.uppercased()
        let rows = Self.traitsTable.compactMap { $0 } + Self.extensionTraits
        guard let row = rows.first(where: { $0.name == wanted && !$0.isRetired }) else { return nil }
        self.rawValue = row.id
    }

    /// Every live (non-retired) ggml type, in id order (QuantKit extensions not included).
    public static var allLive: [GGMLType] {
        traitsTable.compactMap { row in row.flatMap { $0.isRetired ? nil : GGMLType(rawValue: $0.id) } }
    }

    /// True for a QuantKit extension type, which llama.cpp cannot load.
    public var isExtension: Bool { Self.extensionTraits.contains { $0.id == rawValue } }
}

/// Size facts for one ggml type.
public struct GGMLTypeTraits: Sendable, Equatable {
    public let id: UInt32
    public let name: String
    /// Elements per block (1 for plain scalar types).
    public let blockSize: Int
    /// Bytes one block occupies on disk.
    public let bytesPerBlock: Int
    /// Ids whose slot is kept so that old files give a precise error instead of "unknown type".
    public let isRetired: Bool

    /// Block-quantized (ggml_is_quantized): everything but the plain scalar types.
    public var isQuantized: Bool { blockSize > 1 }

    /// Bits per weight of the encoding.
    public var bitsPerWeight: Double { Double(bytesPerBlock * 8) / Double(blockSize) }

    /// Bytes for a row of `elements`, or nil when `elements` is not a whole number of blocks.
    public func rowBytes(elements: UInt64) -> UInt64? {
        guard elements % UInt64(blockSize) == 0 else { return nil }
        let (bytes, overflow) = (elements / UInt64(blockSize)).multipliedReportingOverflow(by: UInt64(bytesPerBlock))
        return overflow ? nil : bytes
    }
}

extension GGMLType {
    /// QuantKit's own tensor types (documented in docs/CALIBRATION.md, "NF4 in GGUF: QuantKit extension types"). Their ids start at 1024, far
    /// above ggml's (< 64), so a ggml release adding types will not collide, and llama.cpp refuses
    /// such a file with "invalid ggml type" instead of misreading it.
    ///
    /// NF4: bitsandbytes' NF4 with blocksize 64: f32 absmax, then 32 bytes of codes with the
    /// first element of each pair in the HIGH nibble (bitsandbytes' order, not ggml's).
    /// NF4_DQ: the same codes, but the absmax is double-quantized as bitsandbytes'
    /// `compress_statistics` does: one u8 index into the signed dynamic map per block; the f32
    /// offset and one f32 nested absmax per 256 blocks (of the flattened tensor) live in the F32
    /// companion tensor `<name>.nf4_dq` = [offset, nested absmax…].
    public static let extensionTraits: [GGMLTypeTraits] = [
        GGMLTypeTraits(id: 1024, name: "NF4", blockSize: 64, bytesPerBlock: 4 + 64 / 2, isRetired: false),     // absmax, qs
        GGMLTypeTraits(id: 1025, name: "NF4_DQ", blockSize: 64, bytesPerBlock: 1 + 64 / 2, isRetired: false),  // absmax index, qs
    ]

    /// The companion tensor holding an NF4_DQ tensor's nested statistics.
    public static func doubleQuantCompanionName(of tensor: String) -> String { tensor + ".nf4_dq" }
    /// Blocks of 64 per nested absmax (bitsandbytes' nested blocksize).
    public static let doubleQuantNestedBlocks = 256
    /// Elements of the companion of an NF4_DQ tensor of `elements` weights.
    public static func doubleQuantCompanionLength(elements: UInt64) -> UInt64 {
        let blocks = elements / 64
        return 1 + (blocks + UInt64(doubleQuantNestedBlocks) - 1) / UInt64(doubleQuantNestedBlocks)
    }
}

// `QK_K` in ggml-common.h: the super-block of the K-quants and i-quants.
private let QK_K = 256

extension GGMLType {
    /// The trait table, indexed by id. Byte counts are written as the sums of the block's fields
    /// (ggml-common.h), so each row can be checked against the struct it describes.
    public static let traitsTable: [GGMLTypeTraits?] = {
        func row(_ id: UInt32, _ name: String, _ block: Int, _ bytes: Int, retired: Bool = false) -> GGMLTypeTraits {
            GGMLTypeTraits(id: id, name: name, blockSize: block, bytesPerBlock: bytes, isRetired: retired)
        }
        let rows: [GGMLTypeTraits] = [
            row(0, "F32", 1, 4),
            row(1, "F16", 1, 2),
            row(2, "Q4_0", 32, 2 + 32 / 2),                                  // d, qs
            row(3, "Q4_1", 32, 2 + 2 + 32 / 2),                              // d, m, qs
            row(4, "Q4_2", 16, 2 + 16 / 2, retired: true),
            row(5, "Q4_3", 16, 2 + 2 + 16 / 2, retired: true),
            row(6, "Q5_0", 32, 2 + 4 + 32 / 2),                              // d, qh, qs
            row(7, "Q5_1", 32, 2 + 2 + 4 + 32 / 2),                          // d, m, qh, qs
            row(8, "Q8_0", 32, 2 + 32),                                      // d, qs
            row(9, "Q8_1", 32, 2 + 2 + 32),                                  // d, s, qs
            row(10, "Q2_K", QK_K, QK_K / 16 + QK_K / 4 + 2 + 2),             // scales, qs, d, dmin
            row(11, "Q3_K", QK_K, QK_K / 8 + QK_K / 4 + 12 + 2),             // hmask, qs, scales, d
            row(12, "Q4_K", QK_K, 2 + 2 + 12 + QK_K / 2),                    // d, dmin, scales, qs
            row(13, "Q5_K", QK_K, 2 + 2 + 12 + QK_K / 8 + QK_K / 2),         // d, dmin, scales, qh, qs
            row(14, "Q6_K", QK_K, QK_K / 2 + QK_K / 4 + QK_K / 16 + 2),      // ql, qh, scales, d
            row(15, "Q8_K", QK_K, 4 + QK_K + QK_K / 16 * 2),                 // d (f32), qs, bsums
            row(16, "IQ2_XXS", QK_K, 2 + QK_K / 8 * 2),                      // d, qs (u16)
            row(17, "IQ2_XS", QK_K, 2 + QK_K / 8 * 2 + QK_K / 32),           // d, qs, scales
            row(18, "IQ3_XXS", QK_K, 2 + 3 * QK_K / 8),                      // d, qs
            row(19, "IQ1_S", QK_K, 2 + QK_K / 8 + QK_K / 32 * 2),            // d, qs, qh (u16)
            row(20, "IQ4_NL", 32, 2 + 32 / 2),                               // d, qs
            row(21, "IQ3_S", QK_K, 2 + QK_K / 4 + QK_K / 32 + QK_K / 8 + QK_K / 64), // d, qs, qh, signs, scales
            row(22, "IQ2_S", QK_K, 2 + QK_K / 4 + QK_K / 32 + QK_K / 32),    // d, qs, qh, scales
            row(23, "IQ4_XS", QK_K, 2 + 2 + QK_K / 64 + QK_K / 2),           // d, scales_h, scales_l, qs
            row(24, "I8", 1, 1),
            row(25, "I16", 1, 2),
            row(26, "I32", 1, 4),
            row(27, "I64", 1, 8),
            row(28, "F64", 1, 8),
            row(29, "IQ1_M", QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32),        // qs, qh, scales
            row(30, "BF16", 1, 2),
            row(31, "Q4_0_4_4", 32, 2 + 32 / 2, retired: true),
            row(32, "Q4_0_4_8", 32, 2 + 32 / 2, retired: true),
            row(33, "Q4_0_8_8", 32, 2 + 32 / 2, retired: true),
            row(34, "TQ1_0", QK_K, 2 + QK_K / 64 + (QK_K - 4 * QK_K / 64) / 5), // d, qh, qs
            row(35, "TQ2_0", QK_K, 2 + QK_K / 4),                            // d, qs
            row(36, "IQ4_NL_4_4", 32, 2 + 32 / 2, retired: true),
            row(37, "IQ4_NL_4_8", 32, 2 + 32 / 2, retired: true),
            row(38, "IQ4_NL_8_8", 32, 2 + 32 / 2, retired: true),
            row(39, "MXFP4", 32, 1 + 32 / 2),                                // e (E8M0), qs
            row(40, "NVFP4", 64, 64 / 16 + 64 / 2),                          // 4 × UE4M3 scales, qs
            row(41, "Q1_0", 128, 2 + 128 / 8),                               // d, sign bits
        ]
        var table = [GGMLTypeTraits?](repeating: nil, count: Int(rows.map(\.id).max()!) + 1)
        for row in rows { table[Int(row.id)] = row }
        return table
    }()

    public static let F32 = GGMLType(rawValue: 0)
    public static let F16 = GGMLType(rawValue: 1)
    public static let NF4 = GGMLType(rawValue: 1024)
    public static let NF4_DQ = GGMLType(rawValue: 1025)
    public static let Q4_0 = GGMLType(rawValue: 2)
    public static let Q4_1 = GGMLType(rawValue: 3)
    public static let Q5_0 = GGMLType(rawValue: 6)
    public static let Q5_1 = GGMLType(rawValue: 7)
    public static let Q8_0 = GGMLType(rawValue: 8)
    public static let Q8_1 = GGMLType(rawValue: 9)
    public static let Q2_K = GGMLType(rawValue: 10)
    public static let Q3_K = GGMLType(rawValue: 11)
    public static let Q4_K = GGMLType(rawValue: 12)
    public static let Q5_K = GGMLType(rawValue: 13)
    public static let Q6_K = GGMLType(rawValue: 14)
    public static let Q8_K = GGMLType(rawValue: 15)
    public static let IQ4_NL = GGMLType(rawValue: 20)
    public static let IQ4_XS = GGMLType(rawValue: 23)
    public static let I8 = GGMLType(rawValue: 24)
    public static let I16 = GGMLType(rawValue: 25)
    public static let I32 = GGMLType(rawValue: 26)
    public static let I64 = GGMLType(rawValue: 27)
    public static let F64 = GGMLType(rawValue: 28)
    public static let BF16 = GGMLType(rawValue: 30)
}
