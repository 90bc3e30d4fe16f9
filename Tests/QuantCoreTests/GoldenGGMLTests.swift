import Foundation
import QuantCore
import QuantFormats
import Testing
import TestScratch

/// Bit-exactness against llama.cpp's own libggml (`golden/ggml-golden.safetensors`): for every
/// type and input case, our quantizer's bytes (plain and importance-weighted) and our
/// dequantizer's floats must equal libggml's exactly. A mismatch reports the differing blocks and
/// which block fields differ.
@Suite(TestData.needs(.shared("golden"), .shared("stories260K")), .tags(.golden))
struct GoldenGGMLTests {
    static let file = (try? SafetensorsFile(path: TestData.shared("golden/ggml-golden.safetensors")))
    static let cases = ["cos", "gauss", "edge", "attn_q", "ffn_down", "token_embd"]
    static let types = ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"]

    struct Mismatch: CustomStringConvertible {
        var blocks = 0
        var total = 0
        var fields: [String: Int] = [:]
        var firstBlock: Int?
        var description: String {
            "\(blocks)/\(total) blocks differ (first: \(firstBlock.map(String.init) ?? "-")); fields: "
                + fields.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        }
    }

    static func compare(_ ours: [UInt8], _ theirs: UnsafeRawBufferPointer, codec: any BlockCodec.Type) -> Mismatch? {
        var mismatch = Mismatch()
        let size = codec.blockBytes
        mismatch.total = ours.count / size
        for block in 0..<mismatch.total {
            var differs = false
            for field in codec.fields {
                let base = block * size + field.offset
                let count = field.count == 4 && codec.fields.count == 1 ? size : field.count
                if (0..<count).contains(where: { ours[base + $0] != theirs[base + $0] }) {
                    mismatch.fields[field.name, default: 0] += 1
                    differs = true
                }
                if codec.fields.count == 1 { break }
            }
            if differs {
                mismatch.blocks += 1
                if mismatch.firstBlock == nil { mismatch.firstBlock = block }
            }
        }
        return mismatch.blocks == 0 && ours.count == theirs.count ? nil : mismatch
    }

    /// Quantizes every row of `input` (rows × cols) with `codec`.
    static func quantize(_ input: [Float], cols: Int, codec: any BlockCodec.Type, importance: [Float]?) -> [UInt8] {
        let rows = input.count / cols
        let rowBytes = cols / codec.blockSize * codec.blockBytes
        var out = [UInt8](repeating: 0xAA, count: rows * rowBytes)
        input.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBytes { raw in
                for r in 0..<rows {
                    if let importance {
                        importance.withUnsafeBufferPointer { w in
                            codec.quantizeRow(x.baseAddress! + r * cols, count: cols, importance: w.baseAddress!, into: raw.baseAddress! + r * rowBytes)
                        }
                    } else {
                        codec.quantizeRow(x.baseAddress! + r * cols, count: cols, into: raw.baseAddress! + r * rowBytes)
                    }
                }
            }
        }
        return out
    }

    @Test(arguments: types)
    func matchesLibggml(_ typeName: String) throws {
        let golden = try #require(Self.file, "golden file unreadable")
        let type = try #require(GGMLType(name: typeName))
        let codec = try #require(CodecRegistry.codec(for: type), "no codec for \(typeName)")
        var checked = 0
        for name in Self.cases {
            guard let bytesInfo = golden.tensor(named: "\(typeName).\(name)") else { continue }
            let inputInfo = try #require(golden.tensor(named: "input.\(name)"))
            let input = try TestData.floats(golden, "input.\(name)")
            let cols = Int(inputInfo.shape[1])
            let importance = try TestData.floats(golden, "imatrix.\(name)")

            let plain = Self.quantize(input, cols: cols, codec: codec, importance: nil)
            let plainMismatch = Self.compare(plain, golden.data(for: bytesInfo), codec: codec)
            #expect(plainMismatch == nil, "\(typeName).\(name) plain: \(plainMismatch!)")

            let weightedInfo = try #require(golden.tensor(named: "\(typeName).\(name).imatrix"))
            let weighted = Self.quantize(input, cols: cols, codec: codec, importance: importance)
            let weightedMismatch = Self.compare(weighted, golden.data(for: weightedInfo), codec: codec)
            #expect(weightedMismatch == nil, "\(typeName).\(name) imatrix: \(weightedMismatch!)")

            let expected = try TestData.floats(golden, "\(typeName).\(name).dequant")
            var decoded = [Float](repeating: .nan, count: input.count)
            let source = golden.data(for: bytesInfo)
            let rowBytes = cols / codec.blockSize * codec.blockBytes
            decoded.withUnsafeMutableBufferPointer { y in
                for r in 0..<input.count / cols {
                    codec.dequantizeRow(source.baseAddress! + r * rowBytes, count: cols, into: y.baseAddress! + r * cols)
                }
            }
            let differing = zip(decoded, expected).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(typeName).\(name) dequant: \(differing) of \(expected.count) floats differ")
            checked += 1
        }
        #expect(checked >= 3, "\(typeName): only \(checked) golden cases found")
    }
}
