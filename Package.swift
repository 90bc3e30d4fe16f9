// swift-tools-version:6.0
// QuantKit — post-training quantization toolchain for LLMs.
// Dependencies point one way: QuantFormats ← QuantCore ← QuantConversion, Inference ← QuantCalibration ← quantkit.
// (DESIGN.md has Calibration beside Inference; it sits above it because calibrating means running
// the model: the corpus sampler and the activation collector drive the forward pass.)
import Foundation
import PackageDescription

// Code generation for the machine that builds (as llama.cpp's GGML_NATIVE does): on x86-64 with
// AVX2, FMA and F16C the kernels compile for Haswell-class CPUs, which doubles to triples the
// fused matrix-vector kernels (`quantkit-bench rowdot`: Q8_0 2.5 → 11 GB/s per core) over
// baseline x86-64 (SSE2). Swift never contracts a·b + c into an FMA on its own, so codec bytes
// are the same either way (the golden tests run in this configuration). QUANTKIT_PORTABLE=1
// builds for baseline x86-64, for binaries that must run on older CPUs.
//
// `-target-cpu` is an unsafe flag, which SwiftPM refuses in a package that another package
// depends on by version. Such a dependency is checked out at its version tag in a `checkouts`
// folder; there QuantKit builds without the flag (portable code, same results, slower kernels).
// Built as the root package, or depended on by path or branch, it keeps native code generation.
let cpuFlags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
    .split(separator: "\n").first { $0.hasPrefix("flags") }.map { Set($0.split(separator: " ").map(String.init)) } ?? []
let dependedOnByVersion = Context.packageDirectory.split(separator: "/").contains("checkouts") && Context.gitInformation?.currentTag != nil
let nativeCodegen = ProcessInfo.processInfo.environment["QUANTKIT_PORTABLE"] == nil && !dependedOnByVersion
    && ["avx2", "fma", "f16c"].allSatisfy(cpuFlags.contains)
let targetCPU = ProcessInfo.processInfo.environment["QUANTKIT_TARGET_CPU"] ?? "haswell"
let codegen: [SwiftSetting] = nativeCodegen ? [.unsafeFlags(["-target-cpu", targetCPU]), .define("F16C"), .define("FMA"), .define("AVX2")] : []

let package = Package(
    name: "QuantKit",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "quantkit", targets: ["quantkit"]),
        .executable(name: "quantkit-bench", targets: ["quantkit-bench"]),
        // Libraries, one per layer (see docs/ARCHITECTURE.md), and all of them as `QuantKit`.
        .library(name: "QuantFormats", targets: ["QuantFormats"]),
        .library(name: "QuantCore", targets: ["QuantCore"]),
        .library(name: "QuantConversion", targets: ["QuantConversion"]),
        .library(name: "QuantInference", targets: ["Inference"]),
        .library(name: "QuantCalibration", targets: ["QuantCalibration"]),
        .library(name: "QuantBatch", targets: ["QuantBatch"]),
        .library(name: "QuantKit", targets: ["QuantFormats", "QuantCore", "QuantConversion", "Inference", "QuantCalibration", "QuantBatch"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // YAML for `convert --rules` and batch manifests.
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // System libraries, found through pkg-config (Debian: libopenblas-dev, libzstd-dev).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),

        // Bytes in, validated views out; no math.
        .target(name: "QuantFormats", path: "Formats", swiftSettings: codegen),
        // Codecs and numeric building blocks.
        .target(name: "QuantCore", dependencies: ["QuantFormats"], path: "Sources/QuantCore", swiftSettings: codegen),
        // Model sources (HF folder, GGUF, bnb-4bit), llama-quantize's planner, the converter, the
        // recipe, and export back to Hugging Face.
        .target(name: "QuantConversion", dependencies: ["QuantCore", "QuantFormats"], path: "Sources/QuantConversion", swiftSettings: codegen),
        // Llama forward pass, tokenizers, perplexity (filled by the inference-core issue).
        .target(name: "Inference", dependencies: ["QuantCore", "QuantFormats", "CBLAS"],
                path: "Sources/Inference", swiftSettings: codegen),
        // Activation statistics, calibration runs and weight transforms (SmoothQuant).
        .target(name: "QuantCalibration", dependencies: ["QuantCore", "QuantConversion", "QuantFormats", "Inference", "CBLAS", "CZstd"],
                path: "Calibration", swiftSettings: codegen),
        // Batch conversions: a manifest of models × recipes, resumable and shardable, one report.
        .target(name: "QuantBatch", dependencies: ["QuantConversion", "QuantCalibration", "Inference", "QuantCore", "QuantFormats",
                                                   .product(name: "Yams", package: "Yams")],
                path: "Sources/QuantBatch", swiftSettings: codegen),

        .executableTarget(name: "quantkit", dependencies: [
            "QuantFormats", "QuantCore", "QuantConversion", "Inference", "QuantCalibration", "QuantBatch",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Yams", package: "Yams"),
        ], path: "Sources/quantkit", swiftSettings: codegen),
        .executableTarget(name: "quantkit-bench", dependencies: [
            "QuantFormats", "QuantCore", "Inference",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/quantkit-bench", swiftSettings: codegen),

        // Scratch folders for every test target, removed when the test process exits.
        .target(name: "TestScratch", dependencies: ["QuantFormats"], path: "Tests/Scratch", swiftSettings: codegen),
        // Generated test inputs shared by several test targets (a tiny random llama GGUF).
        .target(name: "TestSupport", dependencies: ["Inference", "QuantCore", "QuantFormats", "TestScratch"], path: "Tests/Support", swiftSettings: codegen),
        // The malformed-file corpus under Fixtures is read in place (found via #filePath).
        .testTarget(name: "QuantFormatsTests", dependencies: ["QuantFormats", "TestScratch"],
                    path: "Tests/QuantFormatsTests", exclude: ["Fixtures"], swiftSettings: codegen),
        .testTarget(name: "QuantCoreTests", dependencies: ["QuantCore", "QuantFormats", "TestScratch"],
                    path: "Tests/QuantCoreTests", swiftSettings: codegen),
        .testTarget(name: "QuantConversionTests", dependencies: ["QuantConversion", "QuantCore", "QuantFormats", "TestScratch"],
                    path: "Tests/QuantConversionTests", swiftSettings: codegen),
        .testTarget(name: "QuantCalibrationTests", dependencies: ["QuantCalibration", "QuantConversion", "QuantCore", "QuantFormats", "Inference", "TestSupport", "TestScratch"],
                    path: "Tests/QuantCalibrationTests", swiftSettings: codegen),
        .testTarget(name: "InferenceTests", dependencies: ["Inference", "QuantConversion", "QuantCore", "QuantFormats", "TestSupport", "TestScratch"],
                    path: "Tests/InferenceTests", swiftSettings: codegen),
        .testTarget(name: "SystemLibraryTests", dependencies: ["CBLAS", "CZstd", "TestScratch"],
                    path: "Tests/SystemLibraryTests", swiftSettings: codegen),
        // Oracle scripts under Tests/InteropTests/Scripts are run in place (found via #filePath).
        .testTarget(name: "InteropTests", dependencies: ["QuantFormats", "QuantCore", "QuantConversion", "Inference", "QuantCalibration", "TestScratch"],
                    path: "Tests/InteropTests", exclude: ["Scripts"], swiftSettings: codegen),
        .testTarget(name: "QuantBatchTests", dependencies: ["QuantBatch", "QuantConversion", "Inference", "QuantFormats", "TestSupport", "TestScratch"],
                    path: "Tests/QuantBatchTests", swiftSettings: codegen),
        .testTarget(name: "CLITests", dependencies: ["QuantFormats", "QuantConversion", "quantkit", "TestSupport", "TestScratch"], path: "Tests/CLITests", swiftSettings: codegen),
    ]
)
