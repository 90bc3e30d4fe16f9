import Foundation

/// The KV cache of one sequence: per layer, keys and values for each position (f32).
public final class LlamaState: @unchecked Sendable {
    public let contextLength: Int
    /// Positions already evaluated.
    public internal(set) var length = 0
    let kvDimension: Int
    var keys: [[Float]]
    var values: [[Float]]

    init(configuration: LlamaConfiguration, contextLength: Int) {
        self.contextLength = contextLength
        kvDimension = configuration.kvDimension
        keys = Array(repeating: [Float](repeating: 0, count: contextLength * configuration.kvDimension), count: configuration.blockCount)
        values = keys
    }

    /// Forgets all positions (a new sequence).
    public func reset() { length = 0 }

    func store(layer: Int, keys newKeys: UnsafePointer<Float>, values newValues: UnsafePointer<Float>, tokens: Int) {
        let offset = length * kvDimension
        keys[layer].withUnsafeMutableBufferPointer { (($0.baseAddress! + offset).update(from: newKeys, count: tokens * kvDimension)) }
        values[layer].withUnsafeMutableBufferPointer { (($0.baseAddress! + offset).update(from: newValues, count: tokens * kvDimension)) }
    }
}
