import Foundation
import Dispatch
import QuantFormats

/// Quantizes and dequantizes whole tensors (rows × rowLength, row-major), checking shapes once
/// and spreading rows over threads. Each row is independent in every ggml quantizer, so the
/// result is identical for any thread count.
public struct TensorCodec: Sendable {
    public let type: GGMLType
    public let codec: any BlockCodec.Type
    /// Worker threads; rows are split into contiguous chunks.
    public var threads: Int
    public var path: CodecPath

    public init(type: GGMLType, tensor: String = "<tensor>", threads: Int = ProcessInfo.activeCores, path: CodecPath = .fast) throws {
        guard let codec = CodecRegistry.codec(for: type) else {
            throw CodecError.unsupportedType(tensor: tensor, type: type.name)
        }
        self.type = type
        self.codec = codec
        self.threads = max(1, threads)
        self.path = path
    }

    /// The fast implementation when one exists and `path` asks for it.
    private var fast: (any FastBlockCodec.Type)? { path == .fast ? codec as? any FastBlockCodec.Type : nil }

    /// Bytes one row of `rowLength` elements takes, or a typed error if it is not whole blocks.
    public func rowBytes(rowLength: Int, tensor: String = "<tensor>") throws -> Int {
        guard rowLength > 0, rowLength % codec.blockSize == 0 else {
            throw CodecError.rowNotBlockAligned(tensor: tensor, rowLength: rowLength, blockSize: codec.blockSize, type: type.name)
        }
        return rowLength / codec.blockSize * codec.blockBytes
    }

    /// Encodes `values` (a whole number of rows) into `output`; `importance` has one value per
    /// column (llama.cpp imatrix semantics) and selects the importance-weighted quantizer.
    public func quantize(_ values: UnsafeBufferPointer<Float>, rowLength: Int, importance: UnsafeBufferPointer<Float>? = nil,
                         into output: UnsafeMutableRawBufferPointer, tensor: String = "<tensor>") throws {
        let rowBytes = try rowBytes(rowLength: rowLength, tensor: tensor)
        guard values.count % rowLength == 0 else {
            throw CodecError.dataSizeMismatch(tensor: tensor, expected: (values.count / rowLength + 1) * rowLength, found: values.count)
        }
        let rows = values.count / rowLength
        guard output.count == rows * rowBytes else { throw CodecError.dataSizeMismatch(tensor: tensor, expected: rows * rowBytes, found: output.count) }
        if let importance, importance.count != rowLength {
            throw CodecError.importanceLengthMismatch(tensor: tensor, rowLength: rowLength, found: importance.count)
        }
        guard rows > 0, let source = values.baseAddress, let destination = output.baseAddress else { return }
        let codec = self.codec, fast = self.fast
        let weights = importance?.baseAddress
        parallelRows(rows) { row in
            let x = source + row * rowLength, out = destination + row * rowBytes
            if let weights {
                codec.quantizeRow(x, count: rowLength, importance: weights, into: out)
            } else if let fast {
                fast.fastQuantizeRow(x, count: rowLength, into: out)
            } else {
                codec.quantizeRow(x, count: rowLength, into: out)
            }
        }
    }

    /// Convenience returning a new byte array.
    public func quantize(_ values: [Float], rowLength: Int, importance: [Float]? = nil, tensor: String = "<tensor>") throws -> [UInt8] {
        let rowBytes = try rowBytes(rowLength: rowLength, tensor: tensor)
        var output = [UInt8](repeating: 0, count: values.count / rowLength * rowBytes)
        try values.withUnsafeBufferPointer { x in
            try output.withUnsafeMutableBytes { out in
                if let importance {
                    try importance.withUnsafeBufferPointer { try quantize(x, rowLength: rowLength, importance: $0, into: out, tensor: tensor) }
                } else {
                    try quantize(x, rowLength: rowLength, into: out, tensor: tensor)
                }
            }
        }
        return output
    }

    /// Decodes whole rows of blocks into `output`.
    public func dequantize(_ blocks: UnsafeRawBufferPointer, rowLength: Int, into output: UnsafeMutableBufferPointer<Float>,
                           tensor: String = "<tensor>") throws {
        let rowBytes = try rowBytes(rowLength: rowLength, tensor: tensor)
        guard blocks.count % rowBytes == 0 else { throw CodecError.dataSizeMismatch(tensor: tensor, expected: blocks.count / rowBytes * rowBytes, found: blocks.count) }
        let rows = blocks.count / rowBytes
        guard output.count == rows * rowLength else { throw CodecError.dataSizeMismatch(tensor: tensor, expected: rows * rowLength, found: output.count) }
        guard rows > 0, let source = blocks.baseAddress, let destination = output.baseAddress else { return }
        let codec = self.codec, fast = self.fast
        parallelRows(rows) { row in
            if let fast {
                fast.fastDequantizeRow(source + row * rowBytes, count: rowLength, into: destination + row * rowLength)
            } else {
                codec.dequantizeRow(source + row * rowBytes, count: rowLength, into: destination + row * rowLength)
            }
        }
    }

    public func dequantize(_ blocks: [UInt8], rowLength: Int, tensor: String = "<tensor>") throws -> [Float] {
        let rowBytes = try rowBytes(rowLength: rowLength, tensor: tensor)
        var output = [Float](repeating: 0, count: blocks.count / rowBytes * rowLength)
        try blocks.withUnsafeBytes { raw in
            try output.withUnsafeMutableBufferPointer { try dequantize(raw, rowLength: rowLength, into: $0, tensor: tensor) }
        }
        return output
    }

    /// Runs `body(row)` for every row, in `threads` contiguous chunks.
    private func parallelRows(_ rows: Int, _ body: (Int) -> Void) {
        let workers = min(threads, rows)
        if workers <= 1 {
            for row in 0..<rows { body(row) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let task = UnsafeSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let start = rows * worker / workers, end = rows * (worker + 1) / workers
                for row in start..<end { task.value(row) }
            }
        }
    }
}

/// Wraps a value that is safe to share across the threads of one `concurrentPerform` (each
/// thread writes disjoint rows); Swift cannot prove that, hence unchecked.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

extension ProcessInfo {
    /// Cores available to this process.
    public static var activeCores: Int { ProcessInfo.processInfo.activeProcessorCount }
}
