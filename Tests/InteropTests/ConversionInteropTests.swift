import Foundation
import QuantCore
import QuantFormats
import Testing

/// `quantkit convert` (GGUFRequantizer) against llama.cpp's own quantizer on the test bed: the same
/// tensor types (fallbacks included) and identical tensor bytes.
@Suite(.enabled(if: LlamaOracle.shouldRun, "llama-cpp-python or the test bed missing (scripts/bootstrap.sh)"), .serialized)
struct ConversionInteropTests {
    @Test(arguments: [GGMLType.Q8_0, .Q4_0, .Q5_1, .Q4_K, .Q6_K, .IQ4_NL])
    func pureConversionMatchesLlamaQuantize(_ type: GGMLType) throws {
        let folder = try temporaryDirectory()
        let ours = folder + "/ours.gguf", theirs = folder + "/llama.gguf"
        let converter = try GGUFRequantizer(source: try GGUFFile(path: LlamaOracle.testBed), options: .init(target: type))
        _ = try converter.write(to: ours)
        try PythonOracle.run([PythonOracle.scripts + "/llama_quantize.py", LlamaOracle.testBed, theirs,
                              "\(TensorTypeChoice.fileType[type]!)"])
        let a = try GGUFFile(path: ours), b = try GGUFFile(path: theirs)
        #expect(a.tensors.map(\.name).sorted() == b.tensors.map(\.name).sorted())
        var typeMismatches: [String] = [], byteMismatches: [String] = []
        for tensor in b.tensors {
            guard let mine = a.tensor(named: tensor.name) else { continue }
            if mine.type != tensor.type {
                typeMismatches.append("\(tensor.name): \(mine.type) vs \(tensor.type)")
            } else if !a.data(for: mine).elementsEqual(b.data(for: tensor)) {
                byteMismatches.append(tensor.name)
            }
        }
        #expect(typeMismatches.isEmpty, "\(type): \(typeMismatches.count) type choices differ, e.g. \(typeMismatches.prefix(3))")
        #expect(byteMismatches.isEmpty, "\(type): \(byteMismatches.count) tensors differ, e.g. \(byteMismatches.prefix(3))")
        #expect(a.metadata.integer(GGUFKey.fileType) == b.metadata.integer(GGUFKey.fileType))
    }
}
