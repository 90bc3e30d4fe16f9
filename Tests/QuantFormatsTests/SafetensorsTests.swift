import Foundation
import Testing
@testable import QuantFormats
import TestScratch

@Suite(.tags(.unit)) struct SafetensorsTests {
    func reason(_ header: String, data: Int) -> FormatError.Reason? {
        formatErrorReason { _ = try parseSafetensors(safetensorsImage(header: header, dataBytes: data)) }
    }

    @Test func writeThenReadEveryDType() throws {
        let dtypes: [SafetensorsDType] = [.F64, .F32, .F16, .BF16, .I64, .I32, .I16, .I8, .U8, .BOOL]
        let descriptors = dtypes.enumerated().map { i, d in
            SafetensorsTensorDescriptor(name: "t\(i).\(d)", dtype: d, shape: [2, UInt64(i + 1)])
        }
        let data = descriptors.map { d in (0..<(d.dtype.size * 2 * Int(d.shape[1]))).map { UInt8(truncatingIfNeeded: $0 + d.name.count) } }
        let writer = try SafetensorsWriter(tensors: descriptors, metadata: [("format", "pt"), ("note", "ü\"")])
        let folder = try temporaryDirectory()
        try writer.write(to: folder + "/m.safetensors", tensorData: data)
        #expect(writer.header.count % 8 == 0)

        let file = try SafetensorsFile(path: folder + "/m.safetensors")
        #expect(file.tensors.map(\.name) == descriptors.map(\.name))
        #expect(file.tensors.map(\.dtype) == dtypes)
        #expect(file.metadata.map(\.key) == ["format", "note"])
        #expect(file.metadata.last?.value == "ü\"")
        for (i, t) in file.tensors.enumerated() { #expect(Array(file.data(for: t)) == data[i]) }
        #expect(file.fileSize == writer.fileSize)
    }

    @Test func zeroSizedTensorsAndEmptyFile() throws {
        _ = try parseSafetensors(safetensorsImage(header: "{}", dataBytes: 0))
        let h = try parseSafetensors(safetensorsImage(header: #"{"e":{"dtype":"F32","shape":[0,4],"data_offsets":[0,0]}}"#, dataBytes: 0))
        #expect(h.tensors.first?.byteCount == 0)
    }

    @Test func headerTooLarge() {
        var out = ByteWriter()
        out.write(UInt64(200_000_000))
        #expect(formatErrorReason { _ = try parseSafetensors(out.bytes) } == .headerTooLarge(size: 200_000_000, limit: 100_000_000))
    }

    @Test func headerLongerThanFile() {
        var out = ByteWriter()
        out.write(UInt64(1000))
        out.write(bytes: Array("{}".utf8))
        #expect(formatErrorReason { _ = try parseSafetensors(out.bytes) } == .truncated(what: "header", needed: 1000, remaining: 2))
    }

    @Test func notJSONOrNotAnObject() {
        #expect(reason("[1, 2]", data: 0) == .headerNotAnObject)
        #expect(reason("{\"a\": ", data: 0) == .malformedJSON(message: "unexpected end of input"))
        #expect(reason(#"{"a": 1,}"#, data: 0) == .malformedJSON(message: "expected a string key"))
    }

    @Test func nonUTF8JSON() {
        var out = ByteWriter()
        let json: [UInt8] = Array("{\"".utf8) + [0xFF, 0xFE] + Array("\":{}}".utf8)
        out.write(UInt64(json.count))
        out.write(bytes: json)
        #expect(formatErrorReason { _ = try parseSafetensors(out.bytes) } == .malformedJSON(message: "string is not valid UTF-8"))
    }

    @Test func duplicateTensorName() {
        let header = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#
        #expect(reason(header, data: 2) == .malformedJSON(message: "duplicate key \"a\""))
    }

    @Test func unknownDType() {
        #expect(reason(#"{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}"#, data: 1) == .unknownDType(tensor: "a", dtype: "Q4"))
    }

    @Test func shapeAndByteCountMismatch() {
        #expect(reason(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: 4)
            == .byteCountMismatch(tensor: "a", expected: 8, found: 4))
    }

    @Test func offsetsWithGapOrOverlap() {
        let gap = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}"#
        #expect(reason(gap, data: 3) == .offsetsNotContiguous(tensor: "b", expectedStart: 1, foundStart: 2))
        let overlap = #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}"#
        #expect(reason(overlap, data: 3) == .offsetsNotContiguous(tensor: "b", expectedStart: 2, foundStart: 1))
    }

    @Test func offsetsNotCoveringDataOrTrailingBytes() {
        let one = #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#
        #expect(reason(one, data: 6) == .dataNotCovered(coveredBytes: 4, dataBytes: 6))
        #expect(reason(one, data: 2) == .dataNotCovered(coveredBytes: 4, dataBytes: 2))
    }

    @Test func malformedEntries() {
        #expect(reason(#"{"a":{"shape":[1],"data_offsets":[0,1]}}"#, data: 1) == .badTensorEntry(tensor: "a", message: "missing string 'dtype'"))
        #expect(reason(#"{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}"#, data: 1)
            == .badTensorEntry(tensor: "a", message: "shape holds number that is not a non-negative integer"))
        #expect(reason(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}}"#, data: 1)
            == .badTensorEntry(tensor: "a", message: "data_offsets begin 1 is after end 0"))
        #expect(reason(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}}"#, data: 1)
            == .badTensorEntry(tensor: "a", message: "'data_offsets' must be [begin, end] non-negative integers"))
        #expect(reason(#"{"a":5}"#, data: 0) == .badTensorEntry(tensor: "a", message: "expected an object, found number"))
        #expect(reason(#"{"a":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,1]}}"#, data: 1)
            == .arithmeticOverflow(what: "tensor 'a' element count"))
    }

    @Test func badMetadata() {
        #expect(reason(#"{"__metadata__":{"k":1}}"#, data: 0) == .badMetadata(message: "value of 'k' is a number, expected a string"))
        #expect(reason(#"{"__metadata__":[]}"#, data: 0) == .badMetadata(message: "expected an object, found array"))
    }
}

@Suite(.tags(.unit)) struct SafetensorsCheckpointTests {
    /// Writes a two-shard checkpoint; returns its folder.
    func shardedCheckpoint(index: String? = nil) throws -> String {
        let folder = try temporaryDirectory()
        let a = try SafetensorsWriter(tensors: [SafetensorsTensorDescriptor(name: "x", dtype: .F32, shape: [2])])
        try a.write(to: folder + "/model-00001-of-00002.safetensors", tensorData: [[UInt8](repeating: 1, count: 8)])
        let b = try SafetensorsWriter(tensors: [SafetensorsTensorDescriptor(name: "y", dtype: .F16, shape: [3])])
        try b.write(to: folder + "/model-00002-of-00002.safetensors", tensorData: [[UInt8](repeating: 2, count: 6)])
        let json = index ?? #"{"metadata":{"total_size":14},"weight_map":{"x":"model-00001-of-00002.safetensors","y":"model-00002-of-00002.safetensors"}}"#
        try writeBytes(Array(json.utf8), to: folder + "/" + SafetensorsCheckpoint.indexFileName)
        return folder
    }

    @Test func readsShardsAsOneSet() throws {
        let folder = try shardedCheckpoint()
        let checkpoint = try SafetensorsCheckpoint(path: folder)
        #expect(checkpoint.shards.count == 2)
        #expect(checkpoint.entries.map(\.info.name) == ["x", "y"])
        #expect(Array(try checkpoint.data(named: "y")) == [UInt8](repeating: 2, count: 6))
        let viaIndex = try SafetensorsCheckpoint(path: folder + "/" + SafetensorsCheckpoint.indexFileName)
        #expect(viaIndex.tensorCount == 2)
    }

    @Test func singleFileFolder() throws {
        let folder = try temporaryDirectory()
        let w = try SafetensorsWriter(tensors: [SafetensorsTensorDescriptor(name: "x", dtype: .U8, shape: [1])])
        try w.write(to: folder + "/model.safetensors", tensorData: [[7]])
        #expect(try SafetensorsCheckpoint(path: folder).entries.count == 1)
        #expect(try SafetensorsCheckpoint(path: folder + "/model.safetensors").entries.count == 1)
    }

    @Test func missingShard() throws {
        let folder = try shardedCheckpoint(index: #"{"weight_map":{"x":"model-00001-of-00002.safetensors","z":"gone.safetensors"}}"#)
        #expect(formatErrorReason { _ = try SafetensorsCheckpoint(path: folder) } == .shardMissing(shard: "gone.safetensors", tensor: "z"))
    }

    @Test func tensorMappedToWrongShard() throws {
        let folder = try shardedCheckpoint(index: #"{"weight_map":{"x":"model-00002-of-00002.safetensors","y":"model-00002-of-00002.safetensors"}}"#)
        #expect(formatErrorReason { _ = try SafetensorsCheckpoint(path: folder) }
            == .tensorNotInShard(tensor: "x", shard: "model-00002-of-00002.safetensors"))
    }

    @Test func tensorNamedTwiceInIndex() throws {
        let folder = try shardedCheckpoint(index: #"{"weight_map":{"x":"model-00001-of-00002.safetensors","x":"model-00002-of-00002.safetensors"}}"#)
        #expect(formatErrorReason { _ = try SafetensorsCheckpoint(path: folder) } == .malformedJSON(message: "duplicate key \"x\""))
    }

    @Test func tensorInTwoShards() throws {
        let folder = try shardedCheckpoint()
        let dup = try SafetensorsWriter(tensors: [SafetensorsTensorDescriptor(name: "x", dtype: .F32, shape: [2])])
        try dup.write(to: folder + "/model-00002-of-00002.safetensors", tensorData: [[UInt8](repeating: 3, count: 8)])
        guard case .tensorInTwoPlaces(tensor: "x", first: _, second: _) = formatErrorReason({ _ = try SafetensorsCheckpoint(path: folder) }) else {
            Issue.record("expected tensorInTwoPlaces"); return
        }
    }

    @Test func shardHoldsUnlistedTensor() throws {
        let folder = try shardedCheckpoint(index: #"{"weight_map":{"x":"model-00001-of-00002.safetensors"}}"#)
        // Only shard 1 is opened; add an unlisted tensor to it.
        let w = try SafetensorsWriter(tensors: [SafetensorsTensorDescriptor(name: "x", dtype: .F32, shape: [2]),
                                                SafetensorsTensorDescriptor(name: "extra", dtype: .U8, shape: [1])])
        try w.write(to: folder + "/model-00001-of-00002.safetensors", tensorData: [[UInt8](repeating: 1, count: 8), [0]])
        guard case .tensorNotInIndex(tensor: "extra", shard: _) = formatErrorReason({ _ = try SafetensorsCheckpoint(path: folder) }) else {
            Issue.record("expected tensorNotInIndex"); return
        }
    }

    @Test func shardPathOutsideFolder() throws {
        let folder = try shardedCheckpoint(index: #"{"weight_map":{"x":"../../etc/passwd"}}"#)
        #expect(formatErrorReason { _ = try SafetensorsCheckpoint(path: folder) } == .unsafeShardPath("../../etc/passwd"))
    }

    @Test func indexWithoutWeightMap() throws {
        let folder = try shardedCheckpoint(index: #"{"metadata":{}}"#)
        #expect(formatErrorReason { _ = try SafetensorsCheckpoint(path: folder) } == .malformedJSON(message: "missing object 'weight_map'"))
    }

    @Test func emptyFolder() throws {
        let folder = try temporaryDirectory()
        #expect(formatErrorReason { _ = try SafetensorsCheckpoint(path: folder) }
            == .noCheckpointFound(looked: [SafetensorsCheckpoint.indexFileName, SafetensorsCheckpoint.singleFileName]))
    }
}
