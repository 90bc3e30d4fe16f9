// swift-tools-version:6.0
// An application that uses QuantKit as a library, depended on by version as any package would.
// QUANTKIT_URL points it at another copy (scripts/check-example.sh: a local clone tagged 0.1.0).
import Foundation
import PackageDescription

let quantKit = ProcessInfo.processInfo.environment["QUANTKIT_URL"] ?? "https://github.com/quantkit/quantkit.git"

let package = Package(
    name: "QuantizeAndMeasure",
    dependencies: [.package(url: quantKit, from: "0.1.0")],
    targets: [
        .executableTarget(name: "QuantizeAndMeasure", dependencies: [.product(name: "QuantKit", package: "quantkit")]),
    ]
)
