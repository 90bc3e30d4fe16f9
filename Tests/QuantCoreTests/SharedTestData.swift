import Foundation
import QuantFormats

/// `../shared/testdata` beside the repository (where CI puts it), or `QUANTKIT_SHARED_TESTDATA`.
enum SharedTestData {
    static let root: String = {
        if let path = ProcessInfo.processInfo.environment["QUANTKIT_SHARED_TESTDATA"] { return path }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../shared/testdata").standardized.path
    }()

    static func path(_ relative: String) -> String { root + "/" + relative }
    static var isPresent: Bool { FileManager.default.fileExists(atPath: root) }
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] != nil }
    /// Golden tests run when the data is there, and must run in CI.
    static var shouldRun: Bool { isPresent || isCI }

    static func floats(_ file: SafetensorsFile, _ name: String) throws -> [Float] {
        let raw = try file.data(named: name)
        return (0..<raw.count / 4).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) }
    }
}
