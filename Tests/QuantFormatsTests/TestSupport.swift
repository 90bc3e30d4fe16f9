import Foundation
import Testing
@testable import QuantFormats
import TestScratch

func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

func writeBytes(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// The reason of the FormatError `body` throws; records an issue when it throws something else
/// or nothing.
func formatErrorReason(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> FormatError.Reason? {
    do {
        try body()
        Issue.record("expected a FormatError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as FormatError {
        return error.reason
    } catch {
        Issue.record("expected a FormatError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Builds GGUF images field by field, so tests can write both valid files and precisely broken
/// ones (lying counts, bad types) that our own writer would refuse to produce.
struct RawGGUF {
    var out = ByteWriter()

    init(version: UInt32 = 3, tensorCount: UInt64, kvCount: UInt64) {
        out.write(bytes: Array("GGUF".utf8))
        out.write(version)
        out.write(tensorCount)
        out.write(kvCount)
    }

    mutating func string(_ s: String) {
        out.write(UInt64(s.utf8.count))
        out.write(bytes: s.utf8)
    }

    mutating func kv(_ key: String, type: UInt32, _ payload: (inout ByteWriter) -> Void) {
        string(key)
        out.write(type)
        payload(&out)
    }

    mutating func tensor(_ name: String, shape: [UInt64], type: UInt32, offset: UInt64) {
        string(name)
        out.write(UInt32(shape.count))
        for ne in shape { out.write(ne) }
        out.write(type)
        out.write(offset)
    }

    /// Pads to `alignment` and appends `dataBytes` bytes of data.
    mutating func data(_ dataBytes: Int, alignment: Int = 32) {
        out.writeZeros((alignment - out.count % alignment) % alignment)
        out.writeZeros(dataBytes)
    }

    var bytes: [UInt8] { out.bytes }
}

func validateGGUF(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { try GGUFFile.validate($0) }
}

func parseSafetensors(_ bytes: [UInt8]) throws -> SafetensorsHeader {
    try bytes.withUnsafeBytes { try SafetensorsHeader($0, file: "<memory>") }
}

/// Little-endian bytes of a safetensors image with the given header JSON and data length.
func safetensorsImage(header: String, dataBytes: Int) -> [UInt8] {
    var out = ByteWriter()
    out.write(UInt64(header.utf8.count))
    out.write(bytes: header.utf8)
    out.writeZeros(dataBytes)
    return out.bytes
}

