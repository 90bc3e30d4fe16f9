import Foundation
import QuantFormats
import Testing
import TestScratch

@Suite(TestData.needs(.python(["gguf", "safetensors", "numpy"])), .tags(.interop))
struct SafetensorsInteropTests {
    @Test func readsFilesWrittenBySafetensorsPackage() throws {
        let path = try temporaryDirectory() + "/py.safetensors"
        let manifest = try PythonOracle.json("safetensors_write.py", path)
        let file = try SafetensorsFile(path: path)
        let metadata = Dictionary(uniqueKeysWithValues: file.metadata.map { ($0.key, $0.value) })
        #expect(metadata == ["format": "np", "note": "ü"])
        let expected = try #require(manifest["tensors"]?.members)
        #expect(Set(file.tensors.map(\.name)) == Set(expected.map(\.key)))
        for (name, entry) in expected {
            let info = try #require(file.tensor(named: name))
            #expect(info.dtype.rawValue == entry["dtype"]?.string, "\(name)")
            #expect(info.shape == entry["shape"]?.array?.compactMap(\.uint64), "\(name)")
            #expect(hex(file.data(for: info)) == entry["data"]?.string, "\(name)")
        }
    }

    @Test func safetensorsPackageLoadsFilesWeWrite() throws {
        // BF16 is left out: numpy has no bfloat16, so the package's numpy API cannot load it.
        let dtypes: [SafetensorsDType] = [.F64, .F32, .F16, .I64, .I32, .I16, .I8, .U8, .BOOL]
        let descriptors = dtypes.enumerated().map { i, d in
            SafetensorsTensorDescriptor(name: "t.\(d)", dtype: d, shape: i % 2 == 0 ? [2, 3] : [4])
        }
        let data = descriptors.map { d in
            (0..<(d.dtype.size * Int(d.shape.reduce(1, *)))).map { d.dtype == .BOOL ? UInt8($0 % 2) : UInt8(truncatingIfNeeded: $0 * 5 + 1) }
        }
        let writer = try SafetensorsWriter(tensors: descriptors, metadata: [("format", "pt"), ("source", "quantkit")])
        let path = try temporaryDirectory() + "/ours.safetensors"
        try writer.write(to: path, tensorData: data)

        let report = try PythonOracle.json("safetensors_read.py", path)
        #expect(report["metadata"]?["format"]?.string == "pt")
        #expect(report["metadata"]?["source"]?.string == "quantkit")
        for (i, d) in descriptors.enumerated() {
            let entry = try #require(report["tensors"]?[d.name], "missing \(d.name)")
            #expect(entry["dtype"]?.string == d.dtype.rawValue)
            #expect(entry["shape"]?.array?.compactMap(\.uint64) == d.shape)
            #expect(entry["data"]?.string == data[i].withUnsafeBytes(hex))
        }
    }
}
