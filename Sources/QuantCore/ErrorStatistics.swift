/// Reconstruction error of a quantized tensor against its source, the numbers every later stage
/// reports: RMSE, relative RMSE (RMSE / RMS of the source), SQNR in dB, and max |error|.
/// Sums are in Double so that large tensors do not lose precision.
public struct ErrorStatistics: Sendable, Equatable, CustomStringConvertible {
    public var count: Int = 0
    public var sumSquaredError: Double = 0
    public var sumSquaredSignal: Double = 0
    public var maxAbsError: Double = 0

    public init() {}

    /// Statistics of `approximation` against `reference` (same length).
    public init(reference: UnsafeBufferPointer<Float>, approximation: UnsafeBufferPointer<Float>) {
        precondition(reference.count == approximation.count, "ErrorStatistics: lengths differ")
        for i in 0..<reference.count {
            let r = Double(reference[i]), e = Double(approximation[i]) - r
            sumSquaredError += e * e
            sumSquaredSignal += r * r
            maxAbsError = max(maxAbsError, abs(e))
        }
        count = reference.count
    }

    public init(reference: [Float], approximation: [Float]) {
        self = reference.withUnsafeBufferPointer { r in approximation.withUnsafeBufferPointer { ErrorStatistics(reference: r, approximation: $0) } }
    }

    /// Combines statistics of disjoint parts (rows into a tensor, tensors into a model).
    public mutating func merge(_ other: ErrorStatistics) {
        count += other.count
        sumSquaredError += other.sumSquaredError
        sumSquaredSignal += other.sumSquaredSignal
        maxAbsError = max(maxAbsError, other.maxAbsError)
    }

    public var rmse: Double { count == 0 ? 0 : (sumSquaredError / Double(count)).squareRoot() }
    /// RMSE divided by the RMS of the reference (0 when both are zero).
    public var relativeRMSE: Double { sumSquaredSignal == 0 ? (sumSquaredError == 0 ? 0 : .infinity) : (sumSquaredError / sumSquaredSignal).squareRoot() }
    /// Signal-to-quantization-noise ratio in dB (+∞ for an exact reconstruction).
    public var sqnr: Double { sumSquaredError == 0 ? .infinity : 10 * (sumSquaredSignal / sumSquaredError).log10() }

    /// Per-row statistics of a rows × rowLength tensor.
    public static func perRow(reference: [Float], approximation: [Float], rowLength: Int) -> [ErrorStatistics] {
        reference.withUnsafeBufferPointer { r in
            approximation.withUnsafeBufferPointer { a in
                stride(from: 0, to: r.count, by: rowLength).map { start in
                    let end = min(r.count, start + rowLength)
                    return ErrorStatistics(reference: UnsafeBufferPointer(rebasing: r[start..<end]),
                                           approximation: UnsafeBufferPointer(rebasing: a[start..<end]))
                }
            }
        }
    }

    public var description: String {
        "rmse \(rmse), relative \(relativeRMSE), sqnr \(sqnr) dB, max |err| \(maxAbsError)"
    }
}

private extension Double {
    func log10() -> Double { Foundation.log10(self) }
}

import Foundation
