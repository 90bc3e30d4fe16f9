import Foundation
import Testing
@testable import QuantFormats
import TestScratch

/// A metadata set with every value type, nested and empty arrays.
func everyValueTypeMetadata() throws -> GGUFMetadata {
    try GGUFMetadata([
        GGUFKeyValue("general.architecture", .string("llama")),
        GGUFKeyValue("t.u8", .uint8(200)), GGUFKeyValue("t.i8", .int8(-100)),
        GGUFKeyValue("t.u16", .uint16(60000)), GGUFKeyValue("t.i16", .int16(-30000)),
        GGUFKeyValue("t.u32", .uint32(4_000_000_000)), GGUFKeyValue("t.i32", .int32(-2_000_000_000)),
        GGUFKeyValue("t.f32", .float32(1e-5)), GGUFKeyValue("t.bool", .bool(true)),
        GGUFKeyValue("t.string", .string("héllo\nwörld")),
        GGUFKeyValue("t.u64", .uint64(UInt64.max)), GGUFKeyValue("t.i64", .int64(Int64.min)),
        GGUFKeyValue("t.f64", .float64(-2.5e300)),
        GGUFKeyValue("t.arr.strings", .array(.string(["a", "", "ü"]))),
        GGUFKeyValue("t.arr.f32", .array(.float32([1, -2, .infinity]))),
        GGUFKeyValue("t.arr.bool", .array(.bool([true, false]))),
        GGUFKeyValue("t.arr.empty", .array(.int64([]))),
        GGUFKeyValue("t.arr.nested", .array(.array([.int32([1, 2]), .string(["x"]), .array([.uint8([7])])]))),
        GGUFKeyValue("general.alignment", .uint32(64)),
    ])
}

@Suite(.tags(.unit)) struct GGUFRoundTripTests {
    let tensors = [
        GGUFTensorDescriptor(name: "a.f32", shape: [5, 3], type: .F32),
        GGUFTensorDescriptor(name: "b.q8_0", shape: [64, 2], type: .Q8_0),
        GGUFTensorDescriptor(name: "c.q4_k", shape: [256], type: .Q4_K),
        GGUFTensorDescriptor(name: "d.scalar", shape: [], type: .F16),
    ]

    func data(for writer: GGUFWriter) -> [[UInt8]] {
        writer.tensorByteCounts.enumerated().map { i, n in (0..<Int(n)).map { UInt8(truncatingIfNeeded: $0 * 7 + i) } }
    }

    @Test func writeReadWriteIsByteIdentical() throws {
        let folder = try temporaryDirectory()
        let metadata = try everyValueTypeMetadata()
        let writer = try GGUFWriter(metadata: metadata, tensors: tensors)
        let contents = data(for: writer)
        try writer.write(to: folder + "/a.gguf", tensorData: contents)

        let file = try GGUFFile(path: folder + "/a.gguf")
        #expect(file.version == 3)
        #expect(file.alignment == 64)
        #expect(file.metadata == metadata)
        #expect(file.tensors.map(\.name) == tensors.map(\.name))
        #expect(file.tensors.map(\.shape) == tensors.map(\.shape))
        #expect(file.fileSize == writer.fileSize)
        for (i, tensor) in file.tensors.enumerated() {
            #expect(Array(file.data(for: tensor)) == contents[i])
            #expect(tensor.offset % 64 == 0)
        }

        let copy = try GGUFWriter(metadata: file.metadata, tensors: GGUFWriter.descriptors(of: file), version: file.version)
        try copy.write(to: folder + "/b.gguf") { i, sink in try sink.write(file.data(for: file.tensors[i])) }
        #expect(try readBytes(folder + "/a.gguf") == readBytes(folder + "/b.gguf"))
    }

    @Test func readsVersion2() throws {
        var raw = RawGGUF(version: 2, tensorCount: 1, kvCount: 1)
        raw.kv("general.name", type: GGUFValueType.string.rawValue) { $0.write(UInt64(1)); $0.write(bytes: [0x78]) }
        raw.tensor("w", shape: [4], type: 0, offset: 0)
        raw.data(32)  // 16 bytes of data + 16 of padding
        let folder = try temporaryDirectory()
        try writeBytes(raw.bytes, to: folder + "/v2.gguf")
        let file = try GGUFFile(path: folder + "/v2.gguf")
        #expect(file.version == 2)
        #expect(file.metadata.string("general.name") == "x")
        #expect(file.tensors.first?.byteCount == 16)
    }

    @Test func emptyFileWithNoTensors() throws {
        let writer = try GGUFWriter(metadata: GGUFMetadata(), tensors: [])
        let folder = try temporaryDirectory()
        try writer.write(to: folder + "/e.gguf", tensorData: [])
        let file = try GGUFFile(path: folder + "/e.gguf")
        #expect(file.tensors.isEmpty && file.metadata.count == 0)
    }

    @Test func writerRefusesWrongDataSizeAndLeavesNothing() throws {
        let folder = try temporaryDirectory()
        let writer = try GGUFWriter(metadata: GGUFMetadata(), tensors: [tensors[0]])
        let reason = formatErrorReason { try writer.write(to: folder + "/x.gguf", tensorData: [[1, 2, 3]]) }
        #expect(reason == .tensorDataSizeMismatch(tensor: "a.f32", expected: 60, found: 3))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }

    @Test func writerRefusesBadPlans() throws {
        #expect(formatErrorReason { _ = try GGUFWriter(metadata: GGUFMetadata(), tensors: [tensors[0], tensors[0]]) }
            == .duplicateTensor("a.f32"))
        #expect(formatErrorReason {
            _ = try GGUFWriter(metadata: GGUFMetadata(), tensors: [GGUFTensorDescriptor(name: "q", shape: [100], type: .Q4_0)])
        } == .rowNotBlockAligned(tensor: "q", rowLength: 100, blockSize: 32, type: "Q4_0"))
        var metadata = GGUFMetadata()
        metadata[GGUFKey.alignment] = .uint32(24)
        #expect(formatErrorReason { _ = try GGUFWriter(metadata: metadata, tensors: []) } == .badAlignment(24))
    }

    @Test func metadataSubscriptKeepsOrderOnReplaceAndRemove() throws {
        var m = try GGUFMetadata([GGUFKeyValue("a", .uint8(1)), GGUFKeyValue("b", .uint8(2)), GGUFKeyValue("c", .uint8(3))])
        m["b"] = .uint8(9)
        #expect(m.keys == ["a", "b", "c"] && m.integer("b") == 9)
        m["a"] = nil
        #expect(m.keys == ["b", "c"] && m.integer("c") == 3)
        #expect(throws: FormatError.self) { try GGUFMetadata([GGUFKeyValue("a", .uint8(1)), GGUFKeyValue("a", .uint8(1))]) }
    }
}

@Suite(.tags(.slow)) struct SampleModelTests {
    @Test(TestData.needs(.sampleModel))
    func sampleModelReadsAndRoundTripsByteIdentical() throws {
        let file = try GGUFFile(path: TestData.sampleModel)
        #expect(file.tensors.count == 272)
        #expect(file.metadata.architecture == "llama")
        #expect(file.metadata.array(GGUFKey.Tokenizer.tokens)?.count == 49152)
        let types = Dictionary(file.tensors.map { ($0.type, 1) }, uniquingKeysWith: +)
        #expect(types == [.Q4_1: 210, .F32: 61, .Q8_0: 1])

        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let copy = try GGUFWriter(metadata: file.metadata, tensors: GGUFWriter.descriptors(of: file), version: file.version)
        #expect(copy.fileSize == file.fileSize)
        try copy.write(to: folder + "/copy.gguf") { i, sink in try sink.write(file.data(for: file.tensors[i])) }
        let written = try MappedFile(path: folder + "/copy.gguf")
        let original = try MappedFile(path: TestData.sampleModel)
        #expect(written.count == original.count)
        let identical = written.withBytes { a in original.withBytes { b in memcmp(a.baseAddress!, b.baseAddress!, b.count) == 0 } }
        #expect(identical)
    }
}
