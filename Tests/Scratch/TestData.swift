import Foundation
import QuantFormats
import Testing

/// Something a test reads beyond the code it tests.
public enum TestNeed: Sendable, CustomStringConvertible {
    /// A file or folder under the team's test data (`../shared/testdata`, CI's copy).
    case shared(String)
    /// Python modules (the oracles `scripts/bootstrap.sh --tests` installs).
    case python([String])
    /// The SmolLM2 test bed, built by `scripts/bootstrap.sh --tests` from `../shared/testdata`.
    case testBed
    /// The fetched sample model (`scripts/bootstrap.sh`).
    case sampleModel

    public var isMet: Bool {
        switch self {
        case let .shared(relative): FileManager.default.fileExists(atPath: TestData.shared(relative))
        case let .python(modules): TestData.pythonHas(modules)
        case .testBed: FileManager.default.fileExists(atPath: TestData.testBed) && FileManager.default.fileExists(atPath: TestData.testBedHF)
        case .sampleModel: FileManager.default.fileExists(atPath: TestData.sampleModel)
        }
    }

    public var description: String {
        switch self {
        case let .shared(relative): "../shared/testdata/\(relative) (the team's test data, beside the repository in CI)"
        case let .python(modules): "python3 modules \(modules.joined(separator: ", ")) (bash scripts/bootstrap.sh --tests)"
        case .testBed: "the SmolLM2 test bed (bash scripts/bootstrap.sh --tests, with ../shared/testdata)"
        case .sampleModel: "the sample model (bash scripts/bootstrap.sh)"
        }
    }
}

/// Where test data lives, and the one gate for tests that need it: with `CI=true` every test
/// runs (missing data fails it); elsewhere a test whose data is missing is skipped with one line
/// naming what is missing.
public enum TestData {
    public static let isCI = ProcessInfo.processInfo.environment["CI"] != nil

    /// `../shared/testdata` beside the repository, or `QUANTKIT_SHARED_TESTDATA`.
    public static let sharedRoot: String = {
        if let path = ProcessInfo.processInfo.environment["QUANTKIT_SHARED_TESTDATA"] { return path }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../shared/testdata").standardized.path
    }()

    public static func shared(_ relative: String) -> String { sharedRoot + "/" + relative }

    /// The download cache `scripts/bootstrap.sh` fills (`QUANTKIT_TESTDATA` moves it).
    public static var cache: String {
        ProcessInfo.processInfo.environment["QUANTKIT_TESTDATA"] ?? (NSHomeDirectory() + "/.cache/quantkit-testdata")
    }
    public static var sampleModel: String { cache + "/SmolLM2-135M-Instruct.Q4_1.gguf" }
    public static var testBed: String { cache + "/testbed/smollm2-135m-f16.gguf" }
    public static var testBedHF: String { cache + "/testbed/smollm2-135m-hf" }

    /// The trait for a test or suite that needs `needs`.
    public static func needs(_ needs: TestNeed...) -> ConditionTrait {
        let missing = isCI ? [] : needs.filter { !$0.isMet }
        return .enabled(if: missing.isEmpty, Comment(rawValue: "missing " + missing.map(\.description).joined(separator: "; ")))
    }

    /// An F32 tensor of a golden safetensors file.
    public static func floats(_ file: SafetensorsFile, _ name: String) throws -> [Float] {
        let raw = try file.data(named: name)
        return (0..<raw.count / 4).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) }
    }

    static func pythonHas(_ modules: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import " + modules.joined(separator: ", ")]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
