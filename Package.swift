// swift-tools-version:6.0
// QuantKit — post-training quantization toolchain for LLMs.
// Dependencies point one way: QuantFormats ← QuantCore ← Inference ← QuantCalibration ← quantkit.
// (DESIGN.md has Calibration beside Inference; it sits above it because calibrating means running
// the model: the corpus sampler and the activation collector drive the forward pass.)
import PackageDescription

let package = Package(
    name: "QuantKit",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "quantkit", targets: ["quantkit"]),
        .executable(name: "quantkit-bench", targets: ["quantkit-bench"]),
        .library(name: "QuantFormats", targets: ["QuantFormats"]),
        .library(name: "QuantCore", targets: ["QuantCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // YAML for `convert --rules`.
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // System libraries, found through pkg-config (Debian: libopenblas-dev, libzstd-dev).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),

        // Bytes in, validated views out; no math.
        .target(name: "QuantFormats", path: "Formats"),
        // Codecs and numeric building blocks.
        .target(name: "QuantCore", dependencies: ["QuantFormats"], path: "Sources/QuantCore"),
        // Llama forward pass, tokenizers, perplexity (filled by the inference-core issue).
        .target(name: "Inference", dependencies: ["QuantCore", "QuantFormats", "CBLAS"],
                path: "Sources/Inference"),
        // Activation statistics, calibration runs and weight transforms (SmoothQuant).
        .target(name: "QuantCalibration", dependencies: ["QuantCore", "QuantFormats", "Inference", "CBLAS", "CZstd"],
                path: "Calibration"),

        .executableTarget(name: "quantkit", dependencies: [
            "QuantFormats", "QuantCore", "Inference", "QuantCalibration",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Yams", package: "Yams"),
        ], path: "Sources/quantkit"),
        .executableTarget(name: "quantkit-bench", dependencies: [
            "QuantFormats", "QuantCore", "Inference",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/quantkit-bench"),

        // Generated test inputs shared by several test targets (a tiny random llama GGUF).
        .target(name: "TestSupport", dependencies: ["Inference", "QuantCore", "QuantFormats"], path: "Tests/Support"),
        .testTarget(name: "QuantFormatsTests", dependencies: ["QuantFormats"],
                    path: "Tests/QuantFormatsTests"),
        .testTarget(name: "QuantCoreTests", dependencies: ["QuantCore", "QuantFormats"],
                    path: "Tests/QuantCoreTests"),
        .testTarget(name: "QuantCalibrationTests", dependencies: ["QuantCalibration", "QuantCore", "QuantFormats", "Inference", "TestSupport"],
                    path: "Tests/QuantCalibrationTests"),
        .testTarget(name: "InferenceTests", dependencies: ["Inference", "QuantCore", "QuantFormats", "TestSupport"],
                    path: "Tests/InferenceTests"),
        .testTarget(name: "SystemLibraryTests", dependencies: ["CBLAS", "CZstd"],
                    path: "Tests/SystemLibraryTests"),
        // Oracle scripts under Tests/InteropTests/Scripts are run in place (found via #filePath).
        .testTarget(name: "InteropTests", dependencies: ["QuantFormats", "QuantCore", "Inference", "QuantCalibration"],
                    path: "Tests/InteropTests", exclude: ["Scripts"]),
        .testTarget(name: "CLITests", dependencies: ["QuantFormats", "quantkit", "TestSupport"], path: "Tests/CLITests"),
    ]
)
