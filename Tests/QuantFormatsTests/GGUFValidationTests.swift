import Foundation
import Testing
@testable import QuantFormats
import TestScratch

/// One hand-built file per GGUF validation rule, each expecting its specific error.
@Suite(.tags(.unit)) struct GGUFValidationTests {
    static let string = GGUFValueType.string.rawValue
    static let uint32 = GGUFValueType.uint32.rawValue
    static let array = GGUFValueType.array.rawValue

    func reason(_ bytes: [UInt8]) -> FormatError.Reason? { formatErrorReason { try validateGGUF(bytes) } }

    /// A file with one F32 tensor of shape `shape` whose header is otherwise valid.
    func oneTensor(_ name: String = "w", shape: [UInt64] = [8], type: UInt32 = 0, offset: UInt64 = 0, data: Int = 32) -> [UInt8] {
        var raw = RawGGUF(tensorCount: 1, kvCount: 0)
        raw.tensor(name, shape: shape, type: type, offset: offset)
        raw.data(data)
        return raw.bytes
    }

    @Test func badMagic() {
        var bytes = RawGGUF(tensorCount: 0, kvCount: 0).bytes
        bytes[0] = UInt8(ascii: "X")
        #expect(reason(bytes) == .badMagic(found: Array("XGUF".utf8)))
    }

    @Test func unsupportedVersion() {
        #expect(reason(RawGGUF(version: 1, tensorCount: 0, kvCount: 0).bytes) == .unsupportedVersion(found: 1, supported: [2, 3]))
        #expect(reason(RawGGUF(version: 4, tensorCount: 0, kvCount: 0).bytes) == .unsupportedVersion(found: 4, supported: [2, 3]))
    }

    @Test func truncatedHeader() {
        let bytes = Array(RawGGUF(tensorCount: 0, kvCount: 0).bytes.prefix(10))
        #expect(reason(bytes) == .truncated(what: "tensor_count", needed: 8, remaining: 2))
    }

    @Test func lyingTensorCount() {
        #expect(reason(RawGGUF(tensorCount: 1 << 63, kvCount: 0).bytes) == .countTooLarge(what: "tensor_count", count: 1 << 63, limit: 0))
    }

    @Test func lyingKVCount() {
        #expect(reason(RawGGUF(tensorCount: 0, kvCount: UInt64.max).bytes) == .countTooLarge(what: "kv_count", count: UInt64.max, limit: 0))
    }

    @Test func arrayLengthPastEndOfFile() {
        var raw = RawGGUF(tensorCount: 0, kvCount: 1)
        raw.kv("a", type: Self.array) { $0.write(Self.uint32); $0.write(UInt64(1_000_000)); $0.write(UInt32(1)) }
        #expect(reason(raw.bytes) == .countTooLarge(what: "array length of 'a'", count: 1_000_000, limit: 1))
    }

    @Test func stringLengthOverflow() {
        var raw = RawGGUF(tensorCount: 0, kvCount: 1)
        raw.kv("s", type: Self.string) { $0.write(UInt64.max); $0.write(bytes: [1, 2, 3]) }
        #expect(reason(raw.bytes) == .stringTooLong(what: "value of 's'", length: UInt64.max, limit: GGUFHeaderParser.maxStringBytes))
        var short = RawGGUF(tensorCount: 0, kvCount: 1)
        short.kv("s", type: Self.string) { $0.write(UInt64(100)); $0.write(bytes: [1, 2, 3]) }
        #expect(reason(short.bytes) == .truncated(what: "value of 's'", needed: 100, remaining: 3))
    }

    @Test func invalidUTF8Key() {
        var raw = RawGGUF(tensorCount: 0, kvCount: 1)
        raw.out.write(UInt64(2)); raw.out.write(bytes: [0xC3, 0x28]); raw.out.write(Self.uint32); raw.out.write(UInt32(0))
        #expect(reason(raw.bytes) == .invalidUTF8(what: "metadata key"))
    }

    @Test func emptyKey() {
        var raw = RawGGUF(tensorCount: 0, kvCount: 1)
        raw.kv("", type: Self.uint32) { $0.write(UInt32(0)) }
        #expect(reason(raw.bytes) == .emptyKey)
    }

    @Test func unknownValueType() {
        var raw = RawGGUF(tensorCount: 0, kvCount: 1)
        raw.kv("k", type: 13) { $0.write(UInt32(0)) }
        #expect(reason(raw.bytes) == .unknownValueType(key: "k", type: 13))
        var inArray = RawGGUF(tensorCount: 0, kvCount: 1)
        inArray.kv("k", type: Self.array) { $0.write(UInt32(99)); $0.write(UInt64(0)) }
        #expect(reason(inArray.bytes) == .unknownValueType(key: "k", type: 99))
    }

    @Test func nestedArraysTenThousandDeep() {
        var raw = RawGGUF(tensorCount: 0, kvCount: 1)
        raw.kv("deep", type: Self.array) { out in
            for _ in 0..<10_000 { out.write(Self.array); out.write(UInt64(1)) }
            out.write(Self.uint32); out.write(UInt64(0))
        }
        #expect(reason(raw.bytes) == .arrayNestingTooDeep(key: "deep", limit: GGUFHeaderParser.maxArrayNesting))
    }

    @Test func boolOutOfRange() {
        var raw = RawGGUF(tensorCount: 0, kvCount: 1)
        raw.kv("b", type: GGUFValueType.bool.rawValue) { $0.write(UInt8(2)) }
        #expect(reason(raw.bytes) == .wrongValueType(key: "b", expected: "BOOL 0 or 1", found: "byte 2"))
    }

    @Test func duplicateKey() {
        var raw = RawGGUF(tensorCount: 0, kvCount: 2)
        raw.kv("k", type: Self.uint32) { $0.write(UInt32(1)) }
        raw.kv("k", type: Self.uint32) { $0.write(UInt32(2)) }
        #expect(reason(raw.bytes) == .duplicateKey("k"))
    }

    @Test(arguments: [0 as UInt32, 3, 48])
    func badAlignment(_ value: UInt32) {
        var raw = RawGGUF(tensorCount: 0, kvCount: 1)
        raw.kv(GGUFKey.alignment, type: Self.uint32) { $0.write(value) }
        #expect(reason(raw.bytes) == .badAlignment(UInt64(value)))
    }

    @Test func alignmentOfWrongType() {
        var raw = RawGGUF(tensorCount: 0, kvCount: 1)
        raw.kv(GGUFKey.alignment, type: GGUFValueType.uint64.rawValue) { $0.write(UInt64(32)) }
        #expect(reason(raw.bytes) == .wrongValueType(key: GGUFKey.alignment, expected: "UINT32", found: "UINT64"))
    }

    @Test func tensorNameTooLong() {
        let name = String(repeating: "n", count: 64)
        #expect(reason(oneTensor(name)) == .tensorNameTooLong(name: name, bytes: 64, limit: 63))
    }

    @Test func nameOfSixtyThreeBytesIsAllowed() throws {
        try validateGGUF(oneTensor(String(repeating: "n", count: 63)))
    }

    @Test func fiveDimensions() {
        #expect(reason(oneTensor(shape: [1, 1, 1, 1, 8])) == .tooManyDimensions(tensor: "w", dimensions: 5, limit: 4))
    }

    @Test func unknownAndRetiredTensorTypes() {
        #expect(reason(oneTensor(type: 77)) == .unknownTensorType(tensor: "w", type: 77))
        #expect(reason(oneTensor(shape: [32], type: 4)) == .retiredTensorType(tensor: "w", type: 4, name: "Q4_2"))
    }

    @Test func rowNotDivisibleByBlockSize() {
        #expect(reason(oneTensor(shape: [100], type: GGMLType.Q4_0.rawValue))
            == .rowNotBlockAligned(tensor: "w", rowLength: 100, blockSize: 32, type: "Q4_0"))
    }

    @Test func negativeDimension() {
        #expect(reason(oneTensor(shape: [UInt64(bitPattern: -8)])) == .badDimension(tensor: "w", index: 0, value: UInt64(bitPattern: -8)))
    }

    @Test func elementCountOverflow() {
        #expect(reason(oneTensor(shape: [1 << 40, 1 << 40])) == .arithmeticOverflow(what: "tensor 'w' element count"))
    }

    @Test func duplicateTensorName() {
        var raw = RawGGUF(tensorCount: 2, kvCount: 0)
        raw.tensor("w", shape: [8], type: 0, offset: 0)
        raw.tensor("w", shape: [8], type: 0, offset: 32)
        raw.data(64)
        #expect(reason(raw.bytes) == .duplicateTensor("w"))
    }

    @Test func unalignedOffset() {
        #expect(reason(oneTensor(offset: 4)) == .misalignedTensorOffset(tensor: "w", offset: 4, alignment: 32))
    }

    @Test func overlappingOrGappedOffsets() {
        var overlap = RawGGUF(tensorCount: 2, kvCount: 0)
        overlap.tensor("a", shape: [16], type: 0, offset: 0)
        overlap.tensor("b", shape: [16], type: 0, offset: 32)
        overlap.data(128)
        #expect(reason(overlap.bytes) == .unexpectedTensorOffset(tensor: "b", expected: 64, found: 32))
        var gap = RawGGUF(tensorCount: 2, kvCount: 0)
        gap.tensor("a", shape: [8], type: 0, offset: 0)
        gap.tensor("b", shape: [8], type: 0, offset: 64)
        gap.data(128)
        #expect(reason(gap.bytes) == .unexpectedTensorOffset(tensor: "b", expected: 32, found: 64))
    }

    @Test func dataPastEndOfFile() {
        #expect(reason(oneTensor(shape: [8], data: 16)) == .tensorOutOfBounds(tensor: "w", offset: 0, bytes: 32, available: 16))
    }

    @Test func truncatedTensorInfo() {
        var raw = RawGGUF(tensorCount: 1, kvCount: 0)
        raw.string("a.long.tensor.name")
        raw.out.write(UInt32(2))
        raw.out.write(UInt64(8))
        // ne[1], type and offset are missing.
        #expect(reason(raw.bytes) == .truncated(what: "ne[1] of 'a.long.tensor.name'", needed: 8, remaining: 0))
    }

    @Test func errorsNameFileAndOffset() throws {
        let folder = try temporaryDirectory()
        try writeBytes(oneTensor(offset: 4), to: folder + "/bad.gguf")
        do {
            _ = try GGUFFile(path: folder + "/bad.gguf")
            Issue.record("expected an error")
        } catch let error as FormatError {
            #expect(error.file == folder + "/bad.gguf")
            #expect(error.offset == 24)
            #expect(error.description.contains("'w' offset 4 is not a multiple of the alignment 32"))
        }
    }

    @Test func missingFileAndFolder() throws {
        #expect(formatErrorReason { _ = try GGUFFile(path: "/nonexistent/x.gguf") } == .cannotOpen(errno: ENOENT))
        #expect(formatErrorReason { _ = try GGUFFile(path: try temporaryDirectory()) } == .notARegularFile)
    }
}
