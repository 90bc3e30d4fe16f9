import Foundation
import QuantFormats

/// Converts a GGUF to another type, one tensor at a time: each tensor is decoded to f32 (the
/// only full-size working set), encoded by `TensorCodec` on all cores, and streamed into an
/// atomic writer, so peak memory is one tensor, not the model, and a failure leaves no output.
public struct GGUFRequantizer {
    public struct Options: Sendable {
        public var target: GGMLType
        public var allowRequantize = false
        public var noFallback = false
        /// Pass NaN/Inf weights through instead of refusing the tensor.
        public var allowNonFinite = false
        public var threads = ProcessInfo.activeCores
        public init(target: GGMLType) { self.target = target }
    }

    public struct PlannedTensor: Sendable {
        public let name: String
        public let shape: [UInt64]
        public let sourceType: GGMLType
        public let choice: TensorTypeChoice.Choice
        public let bytes: UInt64
    }

    public struct Summary: Codable, Sendable {
        public var tensors = 0
        public var parameters: UInt64 = 0
        public var fileBytes: UInt64 = 0
        public var bitsPerWeight = 0.0
        public var typeCounts: [String: Int] = [:]
        public var fallbacks: [String: String] = [:]
        public var seconds = 0.0
        enum CodingKeys: String, CodingKey {
            case tensors, parameters, fileBytes = "file_bytes", bitsPerWeight = "bits_per_weight", typeCounts = "type_counts"
            case fallbacks, seconds
        }
    }

    public enum ConversionError: Error, Equatable, CustomStringConvertible {
        case requantizeNotAllowed(tensor: String, type: String)
        case fallbackNotAllowed(tensor: String, rowLength: UInt64, type: String)
        case sameFile(String)
        case nonFiniteValues(tensor: String, count: Int, first: Int)

        public var description: String {
            switch self {
            case let .requantizeNotAllowed(tensor, type):
                return "tensor '\(tensor)' is already quantized (\(type)); requantizing compounds error — pass --allow-requantize to do it anyway"
            case let .fallbackNotAllowed(tensor, rowLength, type):
                return "tensor '\(tensor)': row length \(rowLength) is not a multiple of \(type)'s block size (--no-fallback)"
            case let .sameFile(path): return "output '\(path)' is the input file"
            case let .nonFiniteValues(tensor, count, first):
                return "tensor '\(tensor)' has \(count) NaN/Inf values (first at element \(first)); pass --allow-nonfinite to keep them"
            }
        }
    }

    public let source: GGUFFile
    public let options: Options
    public let plan: [PlannedTensor]
    public let writer: GGUFWriter

    public init(source: GGUFFile, options: Options) throws {
        self.source = source
        self.options = options
        var plan: [PlannedTensor] = []
        for info in source.tensors {
            if !options.allowRequantize && !TensorTypeChoice.floatTypes.contains(info.type) && info.shape.count >= 2 {
                throw ConversionError.requantizeNotAllowed(tensor: info.name, type: info.type.name)
            }
            let choice = TensorTypeChoice.choose(target: options.target, shape: info.shape)
            if options.noFallback, choice.fellBackFrom != nil {
                throw ConversionError.fallbackNotAllowed(tensor: info.name, rowLength: info.shape[0], type: options.target.name)
            }
            let bytes = choice.type.traits!.rowBytes(elements: info.rowLength)! * info.rowCount
            plan.append(PlannedTensor(name: info.name, shape: info.shape, sourceType: info.type, choice: choice, bytes: bytes))
        }
        self.plan = plan
        var metadata = source.metadata
        metadata[GGUFKey.fileType] = .uint32(TensorTypeChoice.fileType[options.target] ?? 0)
        metadata[GGUFKey.quantizationVersion] = .uint32(2)
        writer = try GGUFWriter(metadata: metadata,
                                tensors: plan.map { GGUFTensorDescriptor(name: $0.name, shape: $0.shape, type: $0.choice.type) })
    }

    /// The summary a dry run reports (no data touched).
    public var plannedSummary: Summary {
        var summary = Summary()
        summary.tensors = plan.count
        summary.parameters = source.tensors.reduce(0) { $0 + $1.elementCount }
        summary.fileBytes = writer.fileSize
        summary.bitsPerWeight = Double(plan.reduce(0) { $0 + $1.bytes }) * 8 / Double(max(1, summary.parameters))
        for tensor in plan {
            summary.typeCounts[tensor.choice.type.name, default: 0] += 1
            if let from = tensor.choice.fellBackFrom { summary.fallbacks[tensor.name] = "\(from.name) → \(tensor.choice.type.name)" }
        }
        return summary
    }

    /// Converts and writes `output` atomically; `progress(i, n, tensor)` after each tensor.
    public func write(to output: String, progress: (Int, Int, PlannedTensor) -> Void = { _, _, _ in }) throws -> Summary {
        let start = Date()
        guard (output as NSString).standardizingPath != (source.path as NSString).standardizingPath else {
            throw ConversionError.sameFile(output)
        }
        AtomicFileWriter.removeStaleTemporaries(for: output)
        try writer.write(to: output) { i, sink in
            let info = source.tensors[i], planned = plan[i]
            source.prefetch(info)
            let rowLength = Int(info.rowLength)
            if info.type == planned.choice.type {
                try sink.write(source.data(for: info))
            } else {
                let decoder = try TensorCodec(type: info.type, tensor: info.name, threads: options.threads)
                var values = [Float](repeating: 0, count: Int(info.elementCount))
                try values.withUnsafeMutableBufferPointer {
                    try decoder.dequantize(source.data(for: info), rowLength: rowLength, into: $0, tensor: info.name)
                }
                if !options.allowNonFinite, let first = values.firstIndex(where: { !$0.isFinite }) {
                    throw ConversionError.nonFiniteValues(tensor: info.name, count: values.lazy.filter { !$0.isFinite }.count, first: first)
                }
                let encoder = try TensorCodec(type: planned.choice.type, tensor: info.name, threads: options.threads)
                try sink.write(try encoder.quantize(values, rowLength: rowLength, tensor: info.name))
            }
            progress(i + 1, plan.count, planned)
        }
        var summary = plannedSummary
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }
}
