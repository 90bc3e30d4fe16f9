import Foundation
import QuantCore

/// Switching a model's `arithmetic` to W8A8, and the forward pass's one call into it.
extension LlamaModel {
    /// Switches the transformer blocks' linear layers to W8A8: per-output-channel int8 weights
    /// (quantized once, here) and per-token dynamic int8 activations, multiplied in integer
    /// arithmetic. The token embedding and the output head stay as stored, as in SmoothQuant's
    /// W8A8 setting (only the blocks' GEMMs are int8).
    /// `only`: just these tensors (SmoothQuant's tuning measures one site's W8A8 cost at a time).
    /// `hadamardBeforeFFNDown`: ffn_down multiplies Hadamard-rotated activations by rotated
    /// weights (QuaRot's one online rotation): the same function, flatter int8 inputs, and a
    /// kernel llama.cpp does not have — so it measures a W8A8 runtime, not a GGUF.
    /// `outlierThreshold`: LLM.int8()'s mixed-precision decomposition in every int8 layer, as
    /// bitsandbytes' `Linear8bitLt(threshold:)` (see `OutlierDecomposition`).
    public func enableW8A8(only names: Set<String>? = nil, hadamardBeforeFFNDown: Bool = false, outlierThreshold: Float? = nil) {
        var converted: [String: Int8Matrix] = [:]
        var rotations: [Int: FactoredRotation] = [:]
        for layer in weights.layers {
            for w in [layer.query, layer.key, layer.value, layer.attentionOutput, layer.gate, layer.up, layer.down]
            where names?.contains(w.name) ?? true {
                var rotation: FactoredRotation?
                if hadamardBeforeFFNDown && w.name == layer.down.name {
                    rotation = rotations[w.columns] ?? OrthogonalMatrix.factoredRotation(order: w.columns, seed: Self.onlineRotationSeed)
                    rotations[w.columns] = rotation
                }
                converted[w.name] = Int8Matrix(w, inputRotation: rotation, outlierThreshold: outlierThreshold)
            }
        }
        arithmetic = W8A8Arithmetic(int8Weights: converted, otherwise: (arithmetic as? W8A8Arithmetic)?.otherwise ?? arithmetic)
    }

    /// With `enableW8A8(outlierThreshold:)`: see `W8A8Arithmetic.floatShare`.
    public var w8a8FloatShare: Double? { (arithmetic as? W8A8Arithmetic)?.floatShare }

    public var isW8A8: Bool { arithmetic is W8A8Arithmetic }

    /// Any seed works; a fixed one makes W8A8 runs repeatable.
    static let onlineRotationSeed: UInt64 = 0x0D0_77D

    @inline(__always)
    func linear(_ x: [Float], _ tokens: Int, _ w: WeightMatrix, _ out: inout [Float]) {
        arithmetic.multiply(x, tokens: tokens, by: w, into: &out, threads: threads)
    }

    @inline(__always)
    func observe(_ site: ActivationSite, _ layer: Int, _ values: [Float], _ tokens: Int, _ width: Int) {
        guard let observer else { return }
        values.withUnsafeBufferPointer { observer.observe(site, layer: layer, values: UnsafeBufferPointer(rebasing: $0[0 ..< tokens * width]), tokens: tokens, width: width) }
    }
}
