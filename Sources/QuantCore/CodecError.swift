import QuantFormats

/// Why a tensor could not be encoded or decoded, naming the tensor.
public enum CodecError: Error, Equatable, CustomStringConvertible {
    /// The row length is not a whole number of the type's blocks (the conversion layer decides
    /// fallbacks; the codecs refuse).
    case rowNotBlockAligned(tensor: String, rowLength: Int, blockSize: Int, type: String)
    case unsupportedType(tensor: String, type: String)
    case importanceLengthMismatch(tensor: String, rowLength: Int, found: Int)
    case dataSizeMismatch(tensor: String, expected: Int, found: Int)
    /// GPTQ-style compensation: the Hessian does not belong to rows of this length.
    case hessianSizeMismatch(tensor: String, rowLength: Int, found: Int)
    /// GPTQ-style compensation: no damping made the Hessian factorizable.
    case hessianNotPositiveDefinite(tensor: String)

    public var description: String {
        switch self {
        case let .rowNotBlockAligned(tensor, rowLength, blockSize, type):
            return "tensor '\(tensor)': row length \(rowLength) is not a multiple of \(type)'s block size \(blockSize)"
        case let .unsupportedType(tensor, type):
            return "tensor '\(tensor)': no codec for type \(type) (supported: \(CodecRegistry.supportedTypes.map(\.name).joined(separator: ", ")))"
        case let .importanceLengthMismatch(tensor, rowLength, found):
            return "tensor '\(tensor)': importance vector has \(found) values, rows have \(rowLength)"
        case let .dataSizeMismatch(tensor, expected, found):
            return "tensor '\(tensor)': expected \(expected) elements or bytes, found \(found)"
        case let .hessianSizeMismatch(tensor, rowLength, found):
            return "tensor '\(tensor)': the Hessian has \(found) values, rows of \(rowLength) need \(rowLength * (rowLength + 1) / 2)"
        case let .hessianNotPositiveDefinite(tensor):
            return "tensor '\(tensor)': its Hessian is not positive definite even with heavy damping"
        }
    }
}
