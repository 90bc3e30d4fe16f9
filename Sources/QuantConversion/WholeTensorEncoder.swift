import QuantCore
import QuantFormats

/// An encoder that needs a whole tensor at once rather than independent rows — e.g. GPTQ-style
/// error compensation, where rounding one block changes the columns after it. The converter
/// decodes such a tensor to f32 in full (one tensor's working set) and lets the encoder produce
/// the bytes of the target type; everything else about the output is unchanged.
public protocol WholeTensorEncoder: Sendable {
    /// True when the encoder wants tensor `name` converted to `type`.
    func handles(tensor name: String, type: GGMLType) -> Bool
    /// The bytes of `type` for `values` (rows of `rowLength`), the layout the row codecs write.
    func encode(tensor name: String, values: UnsafeMutableBufferPointer<Float>, rowLength: Int, type: GGMLType,
                importance: [Float]?, threads: Int) throws -> [UInt8]
}
