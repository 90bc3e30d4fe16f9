import Foundation
import QuantFormats
import Testing
import TestScratch

@Suite(TestData.needs(.python(["gguf", "safetensors", "numpy"])), .tags(.interop))
struct GGUFInteropTests {
    @Test func typeTableEqualsGGUFPyQuantSizes() throws {
        let sizes = try PythonOracle.json("gguf_quant_sizes.py")
        let theirs = try #require(sizes.members)
        for (name, row) in theirs {
            let numbers = try #require(row.array?.compactMap { $0.int64 })
            let ours = GGMLType(rawValue: UInt32(numbers[0])).traits
            // gguf-py still lists Q8_1 as 4 + 4 + 32 = 40 bytes (the old f32 d and s); ggml's
            // block_q8_1 is two halves + 32 quants = 36 bytes (static_assert in ggml-common.h),
            // and that is what llama.cpp uses to size tensors. Q8_1 is an internal dot-product
            // type that never appears in model files; we follow ggml.
            if name == "Q8_1" {
                #expect(numbers == [9, 32, 40] && ours?.bytesPerBlock == 2 + 2 + 32)
                continue
            }
            #expect(ours?.name == name, "id \(numbers[0])")
            #expect(ours?.blockSize == Int(numbers[1]), "\(name) block size")
            #expect(ours?.bytesPerBlock == Int(numbers[2]), "\(name) bytes per block")
        }
        // Every live type of ours is one gguf-py knows.
        let theirNames = Set(theirs.map(\.key))
        #expect(GGMLType.allLive.filter { !theirNames.contains($0.name) }.map(\.name) == [])
    }

    @Test func readsFilesWrittenByGGUFPy() throws {
        let path = try temporaryDirectory() + "/py.gguf"
        let manifest = try PythonOracle.json("gguf_write.py", path)
        let file = try GGUFFile(path: path)
        #expect(file.metadata.architecture == "llama")
        for (key, expected) in try #require(manifest["kv"]?.members) {
            let value = try #require(file.metadata[key], "missing \(key)")
            #expect(value.type.name == manifest["types"]?[key]?.string, "\(key) type")
            #expect(matches(value, expected), "\(key): \(value) vs \(expected)")
        }
        for (key, expected) in try #require(manifest["arrays"]?.members) {
            let value = try #require(file.metadata[key], "missing \(key)")
            #expect(matches(value, expected), "\(key): \(value) vs \(expected)")
        }
        #expect(file.metadata.array("t.arr.u8")?.elementType == .uint8)
        #expect(file.metadata.array("t.arr.nested")?.elementType == .array)

        let tensors = try #require(manifest["tensors"]?.members)
        #expect(file.tensors.map(\.name) == tensors.map(\.key))
        for (name, data) in tensors {
            let info = try #require(file.tensor(named: name))
            #expect(hex(file.data(for: info)) == data.string, "\(name) bytes")
            #expect(info.type.name == manifest["tensor_types"]?[name]?.string)
            #expect(info.shape == manifest["tensor_ne"]?[name]?.array?.compactMap(\.uint64))
        }
    }

    @Test func ggufPyReadsFilesWeWrite() throws {
        var metadata = GGUFMetadata()
        let entries: [(String, GGUFValue)] = [
            ("general.architecture", .string("llama")), ("general.alignment", .uint32(64)),
            ("t.u8", .uint8(200)), ("t.i8", .int8(-100)), ("t.u16", .uint16(60000)), ("t.i16", .int16(-30000)),
            ("t.u32", .uint32(4_000_000_000)), ("t.i32", .int32(-2_000_000_000)), ("t.f32", .float32(1e-5)),
            ("t.bool", .bool(false)), ("t.string", .string("héllo\nwörld")), ("t.u64", .uint64(.max)),
            ("t.i64", .int64(.min)), ("t.f64", .float64(-2.5e300)),
            ("t.arr.strings", .array(.string(["a", "", "ü"]))), ("t.arr.f32", .array(.float32([0.5, -2]))),
            ("t.arr.bool", .array(.bool([true, false]))), ("t.arr.u64", .array(.uint64([1, .max]))),
            ("t.arr.nested", .array(.array([.int32([1, 2]), .int32([3])]))),
        ]
        for (key, value) in entries { metadata[key] = value }
        let descriptors = [
            GGUFTensorDescriptor(name: "a", shape: [5, 3], type: .F32),
            GGUFTensorDescriptor(name: "b", shape: [64, 2], type: .Q8_0),
            GGUFTensorDescriptor(name: "c", shape: [256, 1, 2], type: .Q4_K),
            GGUFTensorDescriptor(name: "d", shape: [7], type: .BF16),
        ]
        let writer = try GGUFWriter(metadata: metadata, tensors: descriptors)
        let data = writer.tensorByteCounts.enumerated().map { i, n in (0..<Int(n)).map { UInt8(truncatingIfNeeded: $0 * 13 + i) } }
        let path = try temporaryDirectory() + "/ours.gguf"
        try writer.write(to: path, tensorData: data)

        let report = try PythonOracle.json("gguf_read.py", path)
        #expect(report["alignment"]?.int64 == 64)
        let fields = try #require(report["fields"]?.array)
        #expect(fields.compactMap { $0["key"]?.string } == entries.map(\.0))
        for (field, (key, value)) in zip(fields, entries) {
            let types = field["types"]?.array?.compactMap(\.string) ?? []
            #expect(types.first == value.type.name, "\(key)")
            if case let .array(a) = value { #expect(types.dropFirst().first == a.elementType.name, "\(key)") }
            if let decoded = field["value"], decoded != .null { #expect(matches(value, decoded), "\(key)") }
        }
        let tensors = try #require(report["tensors"]?.array)
        #expect(tensors.count == descriptors.count)
        for (i, tensor) in tensors.enumerated() {
            #expect(tensor["name"]?.string == descriptors[i].name)
            #expect(tensor["type"]?.string == descriptors[i].type.name)
            #expect(tensor["ne"]?.array?.compactMap(\.uint64) == descriptors[i].shape)
            #expect(tensor["data"]?.string == data[i].withUnsafeBytes(hex))
        }
    }
}
