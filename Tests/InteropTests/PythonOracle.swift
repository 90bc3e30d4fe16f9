import Foundation
import QuantFormats
import Testing
import TestScratch

/// Runs the oracle scripts in `Scripts/` (PyPI `gguf`, `safetensors`, `numpy`) and parses their
/// JSON output. Suites that use it declare the modules they need with `TestData.needs(.python(…))`.
enum PythonOracle {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts").path


    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs python3 with `arguments`; returns stdout, throws with stderr on a non-zero exit.
    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "python3 \(arguments.joined(separator: " ")) failed: \(String(decoding: stderr, as: UTF8.self))")
        }
        return String(decoding: stdout, as: UTF8.self)
    }

    /// Runs `Scripts/<name>` and parses its JSON stdout.
    static func json(_ name: String, _ arguments: String...) throws -> JSONValue {
        try JSONParser.parse(run([scripts + "/" + name] + arguments))
    }
}

func hex(_ bytes: UnsafeRawBufferPointer) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 15)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// Whether a metadata value equals what a Python script printed for it (numbers compared by value).
func matches(_ value: GGUFValue, _ json: JSONValue) -> Bool {
    switch value {
    case let .float32(v): return json.double == Double(v)
    case let .float64(v): return json.double == v
    case let .bool(v): return json.bool == v
    case let .string(v): return json.string == v
    case let .uint64(v): return json.uint64 == v
    case let .array(a):
        guard let elements = json.array, elements.count == a.count else { return false }
        return (0..<a.count).allSatisfy { matches(a.element($0), elements[$0]) }
    default: return json.int64 == value.integer
    }
}
