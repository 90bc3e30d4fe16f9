import Foundation
import QuantCore

/// How a linear layer multiplies its input with a weight matrix: out[T × rows] = x[T × columns] · Wᵀ.
/// The forward pass hands every product to its model's `arithmetic` and never sees which one it
/// is — the stored weights as QuantKit or llama.cpp runs them (`StoredWeightArithmetic`, the
/// default) or an experiment (`W8A8Arithmetic`). A new arithmetic is one conforming type here.
public protocol LinearArithmetic: Sendable {
    func multiply(_ x: UnsafePointer<Float>, tokens: Int, by w: WeightMatrix, into out: UnsafeMutablePointer<Float>, threads: Int)
}

/// The stored encoding multiplied as it is (`MatMul`): what a GGUF file computes.
public struct StoredWeightArithmetic: LinearArithmetic {
    /// Single-token products of quantized weights use int8 activations and integer kernels
    /// (llama.cpp's method, 2–3× faster); false keeps activations f32.
    public var integerActivations: Bool
    /// Every product rounds its activations as llama.cpp's CPU backend does for the weight type
    /// (q8_0, q8_K, f16 — `LlamaCppActivations`), so logits follow llama.cpp's own arithmetic;
    /// overrides `integerActivations`.
    public var llamaCppRounding: Bool
    /// True unless `QUANTKIT_F32_ACTIVATIONS=1` (see `MatMul.integerActivationsByDefault`).
    public static var integerActivationsByDefault: Bool { MatMul.integerActivationsByDefault }

    public init(integerActivations: Bool = Self.integerActivationsByDefault, llamaCppRounding: Bool = false) {
        self.integerActivations = integerActivations
        self.llamaCppRounding = llamaCppRounding
    }

    public func multiply(_ x: UnsafePointer<Float>, tokens: Int, by w: WeightMatrix, into out: UnsafeMutablePointer<Float>, threads: Int) {
        MatMul.multiply(x, tokens: tokens, by: w, into: out, threads: threads, integerActivations: integerActivations,
                        llamaCppRounding: llamaCppRounding)
    }
}

/// W8A8: the blocks' linear layers as per-output-channel int8 weights times per-token dynamic
/// int8 activations, in integer arithmetic (`Int8MatMul`); every other matrix (embedding, output
/// head) goes to `otherwise`, as in SmoothQuant's W8A8 setting.
public struct W8A8Arithmetic: LinearArithmetic {
    let int8Weights: [String: Int8Matrix]
    let otherwise: any LinearArithmetic

    public func multiply(_ x: UnsafePointer<Float>, tokens: Int, by w: WeightMatrix, into out: UnsafeMutablePointer<Float>, threads: Int) {
        if let int8 = int8Weights[w.name] {
            Int8MatMul.multiply(x, tokens: tokens, by: int8, into: out, threads: threads)
        } else {
            otherwise.multiply(x, tokens: tokens, by: w, into: out, threads: threads)
        }
    }

    /// With an outlier threshold: the share of the int8 layers' input values the decomposition
    /// has multiplied in float so far (nil without one or before any product).
    public var floatShare: Double? {
        let totals = int8Weights.values.compactMap { $0.outlierTally?.totals }
        let total = totals.map(\.total).reduce(0, +)
        return total > 0 ? Double(totals.map(\.outliers).reduce(0, +)) / Double(total) : nil
    }
}
