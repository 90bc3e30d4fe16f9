import Foundation
import Testing
@testable import QuantFormats
import TestScratch

/// "Truncate or flip every byte: must throw, never crash." A crash (trap, overflow, out-of-bounds)
/// kills the test process, so reaching the end of these loops is the assertion that matters; each
/// outcome must also be either success or a FormatError.
@Suite(.tags(.unit)) struct CorruptionTests {
    func smallGGUF() throws -> [UInt8] {
        let metadata = try GGUFMetadata([
            GGUFKeyValue("general.architecture", .string("llama")),
            GGUFKeyValue("llama.block_count", .uint32(2)),
            GGUFKeyValue("tokens", .array(.string(["a", "bb", "ccc"]))),
            GGUFKeyValue("nested", .array(.array([.int32([1, 2]), .float32([3])]))),
        ])
        let writer = try GGUFWriter(metadata: metadata, tensors: [
            GGUFTensorDescriptor(name: "w", shape: [32, 2], type: .Q8_0),
            GGUFTensorDescriptor(name: "n", shape: [4], type: .F32),
        ])
        let folder = try temporaryDirectory()
        try writer.write(to: folder + "/s.gguf") { i, sink in
            try sink.write([UInt8](repeating: 1, count: Int(writer.tensorByteCounts[i])))
        }
        return try readBytes(folder + "/s.gguf")
    }

    func smallSafetensors() throws -> [UInt8] {
        let writer = try SafetensorsWriter(tensors: [
            SafetensorsTensorDescriptor(name: "a", dtype: .F32, shape: [2, 3]),
            SafetensorsTensorDescriptor(name: "b", dtype: .BF16, shape: [4]),
        ], metadata: [("format", "pt")])
        let folder = try temporaryDirectory()
        try writer.write(to: folder + "/s.safetensors", tensorData: [[UInt8](repeating: 0, count: 24), [UInt8](repeating: 0, count: 8)])
        return try readBytes(folder + "/s.safetensors")
    }

    func expectOnlyFormatErrors(_ body: () throws -> Void) {
        do { try body() } catch is FormatError {} catch { Issue.record("unexpected error type: \(error)") }
    }

    @Test func ggufTruncatedAtEveryOffset() throws {
        let bytes = try smallGGUF()
        for length in 0..<bytes.count {
            let prefix = Array(bytes.prefix(length))
            #expect(throws: FormatError.self, "length \(length)") { try validateGGUF(prefix) }
        }
        try validateGGUF(bytes)
    }

    @Test func ggufFlippedHeaderBytes() throws {
        let bytes = try smallGGUF()
        let headerEnd = bytes.count - 96  // the data section is the last 96 bytes (68 + 16 padded to 32)
        for offset in 0..<headerEnd {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var flipped = bytes
                flipped[offset] ^= mask
                expectOnlyFormatErrors { try validateGGUF(flipped) }
            }
        }
    }

    @Test func safetensorsTruncatedAtEveryOffset() throws {
        let bytes = try smallSafetensors()
        for length in 0..<bytes.count {
            let prefix = Array(bytes.prefix(length))
            #expect(throws: FormatError.self, "length \(length)") { _ = try parseSafetensors(prefix) }
        }
        _ = try parseSafetensors(bytes)
    }

    @Test func safetensorsFlippedHeaderBytes() throws {
        let bytes = try smallSafetensors()
        for offset in 0..<(bytes.count - 32) {
            for mask: UInt8 in [0x01, 0x20, 0x80, 0xFF] {
                var flipped = bytes
                flipped[offset] ^= mask
                expectOnlyFormatErrors { _ = try parseSafetensors(flipped) }
            }
        }
    }
}
