import QuantFormats

/// Reading the golden safetensors files of `../shared/testdata` (located by `TestData.shared`).
enum SharedTestData {
    static func floats(_ file: SafetensorsFile, _ name: String) throws -> [Float] {
        let raw = try file.data(named: name)
        return (0..<raw.count / 4).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) }
    }
}
