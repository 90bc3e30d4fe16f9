import Foundation
import QuantCore
import QuantFormats

/// Converts a model (GGUF or Hugging Face checkpoint) to a GGUF of a preset's types, one tensor at
/// a time: each tensor is decoded to f32 (the only full-size working set), encoded by
/// `TensorCodec` on all cores, and streamed into an atomic writer, so peak memory is one tensor,
/// not the model, and a failure leaves no output.
public struct ModelConverter {
    public struct Options: Sendable {
        public var planning: TensorTypePlanner.Options
        public var allowRequantize = false
        public var noFallback = false
        /// Pass NaN/Inf weights through instead of refusing the tensor.
        public var allowNonFinite = false
        /// Write the output inside the Hugging Face checkpoint folder being read.
        public var allowOutputInInputFolder = false
        public var threads = ProcessInfo.activeCores
        /// Per-column importance (mean x²) by GGUF tensor name: llama.cpp's imatrix semantics.
        public var importance: [String: [Float]] = [:]
        /// Extra metadata written after the source's (provenance of importance data, …).
        public var extraMetadata: [GGUFKeyValue] = []
        /// Encodes the tensors it handles whole instead of row by row (GPTQ-style compensation).
        public var wholeTensorEncoder: (any WholeTensorEncoder)?
        public init(preset: QuantizationPreset) { planning = .init(preset: preset) }
    }

    public struct PlannedTensor: Sendable {
        public let name: String
        public let shape: [UInt64]
        public let sourceType: GGMLType
        public let decision: TensorTypePlanner.Decision
        public let bytes: UInt64
        public var type: GGMLType { decision.type }
    }

    public enum ConversionError: Error, Equatable, CustomStringConvertible {
        case requantizeNotAllowed(tensor: String, from: String, to: String)
        case fallbackNotAllowed(tensor: String, rowLength: UInt64, type: String)
        case nonFiniteValues(tensor: String, count: Int, first: Int)
        /// Finite weights that decode to Inf in the target type (F16 overflow, an fp16 block scale
        /// past 65504).
        case beyondTypeRange(tensor: String, type: String, count: Int)
        case importanceLength(tensor: String, expected: Int, found: Int)
        case notALlamaModel(path: String, architecture: String)

        public var description: String {
            switch self {
            case let .requantizeNotAllowed(tensor, from, to):
                return "tensor '\(tensor)' is already quantized (\(from)); converting it to \(to) compounds error — pass --allow-requantize to do it anyway"
            case let .fallbackNotAllowed(tensor, rowLength, type):
                return "tensor '\(tensor)': row length \(rowLength) is not a multiple of \(type)'s block size (--no-fallback)"
            case let .nonFiniteValues(tensor, count, first):
                return "tensor '\(tensor)' has \(count) NaN/Inf values (first at element \(first)); pass --allow-nonfinite to keep them"
            case let .beyondTypeRange(tensor, type, count):
                return "tensor '\(tensor)': \(count) values are beyond \(type)'s range (fp16 max 65504) and would decode to Inf, as llama.cpp writes them; pass --allow-nonfinite to write them anyway or choose F32/BF16"
            case let .importanceLength(tensor, expected, found):
                return "importance data for '\(tensor)' has \(found) values, the tensor's rows have \(expected)"
            case let .notALlamaModel(path, architecture):
                return "\(path): architecture '\(architecture)' is not supported (supported: \(HFArchitecture.ggufNames.joined(separator: ", ")))"
            }
        }
    }

    public let source: any ConversionSource
    public let options: Options
    /// The importance vectors used: `options.importance` minus a token_embd entry of the wrong
    /// length, which llama.cpp also ignores (its rows are looked up, not multiplied).
    public let importance: [String: [Float]]
    public let plan: [PlannedTensor]
    public let writer: GGUFWriter
    /// What each tensor of the output is: a planned tensor, or the companion (nested statistics)
    /// of the NF4_DQ tensor before it.
    private enum OutputTensor { case planned(Int), doubleQuantCompanion(of: Int) }
    private let outputs: [OutputTensor]

    /// Types `--type`/`--tensor-type` may name: every codec's, and NF4_DQ (a tensor-level encoder).
    public static var encodableTypes: [GGMLType] { CodecRegistry.supportedTypes + [.NF4_DQ] }

    public init(source: any ConversionSource, options: Options) throws {
        self.source = source
        self.options = options
        let metadata = source.metadata
        let architecture = metadata.architecture ?? "(none)"
        guard HFArchitecture.ggufNames.contains(architecture) else {
            throw ConversionError.notALlamaModel(path: source.path, architecture: architecture)
        }
        func hyper(_ key: GGUFKey.LLM) -> Int { Int(metadata.integer(key.key(architecture)) ?? 0) }
        let facts = TensorTypePlanner.ModelFacts(blockCount: hyper(.blockCount), headCount: hyper(.headCount),
                                                 headCountKV: hyper(.headCountKV) == 0 ? hyper(.headCount) : hyper(.headCountKV))
        var planning = options.planning
        planning.hasImportance = planning.hasImportance || !options.importance.isEmpty
        let decisions = TensorTypePlanner(options: planning, model: facts)
            .plan(source.tensors)

        var plan: [PlannedTensor] = []
        var importance = options.importance
        for (tensor, decision) in zip(source.tensors, decisions) {
            if decision.type != tensor.type && tensor.type.traits!.isQuantized && !options.allowRequantize {
                throw ConversionError.requantizeNotAllowed(tensor: tensor.name, from: tensor.type.name, to: decision.type.name)
            }
            if options.noFallback, let wanted = decision.fellBackFrom {
                throw ConversionError.fallbackNotAllowed(tensor: tensor.name, rowLength: tensor.rowLength, type: wanted.name)
            }
            if let vector = importance[tensor.name], vector.count != Int(tensor.rowLength) {
                guard TensorCategory(tensorName: tensor.name) == .tokenEmbedding else {
                    throw ConversionError.importanceLength(tensor: tensor.name, expected: Int(tensor.rowLength), found: vector.count)
                }
                importance[tensor.name] = nil
            }
            let bytes = decision.type.traits!.rowBytes(elements: tensor.rowLength)! * tensor.rowCount
            plan.append(PlannedTensor(name: tensor.name, shape: tensor.shape, sourceType: tensor.type, decision: decision, bytes: bytes))
        }
        self.plan = plan
        self.importance = importance
        var outputMetadata = metadata
        outputMetadata[GGUFKey.fileType] = .uint32(options.planning.preset.fileType)
        outputMetadata[GGUFKey.quantizationVersion] = .uint32(2)
        for entry in options.extraMetadata { outputMetadata[entry.key] = entry.value }
        var descriptors: [GGUFTensorDescriptor] = [], outputs: [OutputTensor] = []
        for (i, tensor) in plan.enumerated() {
            descriptors.append(GGUFTensorDescriptor(name: tensor.name, shape: tensor.shape, type: tensor.type))
            outputs.append(.planned(i))
            if tensor.type == .NF4_DQ {
                let length = GGMLType.doubleQuantCompanionLength(elements: tensor.shape.reduce(1, *))
                descriptors.append(GGUFTensorDescriptor(name: GGMLType.doubleQuantCompanionName(of: tensor.name), shape: [length], type: .F32))
                outputs.append(.doubleQuantCompanion(of: i))
            }
        }
        self.outputs = outputs
        writer = try GGUFWriter(metadata: outputMetadata, tensors: descriptors)
    }

    /// True when some tensor keeps a quantized source type it is converted away from.
    public var requantizes: Bool { plan.contains { $0.sourceType.traits!.isQuantized && $0.sourceType != $0.type } }

    /// The summary a dry run reports (no data touched).
    public var plannedSummary: ConversionSummary {
        var summary = ConversionSummary()
        summary.preset = options.planning.preset.name
        summary.tensors = plan.count
        summary.parameters = plan.reduce(0) { $0 + $1.shape.reduce(1, *) }
        summary.fileBytes = writer.fileSize
        summary.tensorBytes = plan.reduce(0) { $0 + $1.bytes }
        summary.bitsPerWeight = Double(summary.tensorBytes) * 8 / Double(max(1, summary.parameters))
        for tensor in plan {
            summary.typeCounts[tensor.type.name, default: 0] += 1
            if let from = tensor.decision.fellBackFrom { summary.fallbacks[tensor.name] = "\(from.name) → \(tensor.type.name)" }
        }
        return summary
    }

    /// Converts and writes `output` atomically; `progress(done, tensor, bytesRead)` after each tensor.
    public func write(to output: String, progress: (Int, PlannedTensor) -> Void = { _, _ in }) throws -> ConversionSummary {
        let start = Date()
        try OutputPathGuard.check(output: output, inputs: source.inputFiles, inputFolder: source.inputFolder,
                                  allowInInputFolder: options.allowOutputInInputFolder)
        AtomicFileWriter.removeStaleTemporaries(for: output)
        // The nested statistics of the NF4_DQ tensor just written, for its companion (next).
        var companion: [Float] = []
        try writer.write(to: output) { k, sink in
            guard case let .planned(i) = outputs[k] else {
                try companion.withUnsafeBytes { try sink.write($0) }
                return
            }
            let tensor = source.tensors[i], planned = plan[i]
            if i + 1 < plan.count { source.prefetch(i + 1) }
            try source.withData(i) { data in
                // A float tensor kept in its type still goes through a whole-tensor encoder that
                // wants it (W8A8 grid rounding stores its result as floats).
                let encoder = options.wholeTensorEncoder.flatMap { $0.handles(tensor: tensor.name, type: planned.type) ? $0 : nil }
                if tensor.type == planned.type && (encoder == nil || !TensorTypeChoice.floatTypes.contains(tensor.type)) {
                    try sink.write(data)
                } else if planned.type == .NF4_DQ {
                    companion = try convertDoubleQuantized(data, tensor: tensor, into: sink)
                } else if let encoder {
                    var values = try decodedWhole(data, tensor: tensor)
                    let largest = values.withUnsafeBufferPointer(MagnitudeScan.largestMagnitudeBits)   // before the encoder edits them
                    let bytes = try values.withUnsafeMutableBufferPointer {
                        try encoder.encode(tensor: tensor.name, values: $0, rowLength: Int(tensor.rowLength), type: planned.type,
                                           importance: importance[tensor.name], threads: options.threads)
                    }
                    // `values` is spent once encoded: it serves as the range check's scratch.
                    let overflowed = try bytes.withUnsafeBytes { encoded in
                        try values.withUnsafeMutableBufferPointer { scratch in
                            try overflowCount(encoded, largest: largest, decoder: TensorCodec(type: planned.type, tensor: tensor.name),
                                              rowLength: Int(tensor.rowLength), scratch: scratch, tensor: tensor.name)
                        }
                    }
                    if overflowed > 0 { throw ConversionError.beyondTypeRange(tensor: tensor.name, type: planned.type.name, count: overflowed) }
                    try bytes.withUnsafeBytes { try sink.write($0) }
                } else {
                    try convert(data, tensor: tensor, to: planned.type, into: sink)
                }
            }
            source.release(i)
            progress(i + 1, planned)
        }
        var summary = plannedSummary
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }

    /// NF4_DQ's statistics span the whole tensor, so it is decoded whole (one tensor's f32, the
    /// working set bound the converter promises) and encoded at once; returns the companion.
    private func convertDoubleQuantized(_ data: UnsafeRawBufferPointer, tensor: SourceTensor, into sink: TensorDataSink) throws -> [Float] {
        let rowLength = Int(tensor.rowLength)
        let values = try decodedWhole(data, tensor: tensor)
        let encoded = try NF4DoubleQuant.encode(values, rowLength: rowLength, importance: importance[tensor.name], threads: options.threads, tensor: tensor.name)
        try encoded.blocks.withUnsafeBytes { try sink.write($0) }
        return encoded.companion
    }

    /// The whole tensor as f32, non-finite values refused unless allowed.
    private func decodedWhole(_ data: UnsafeRawBufferPointer, tensor: SourceTensor) throws -> [Float] {
        let decoder = try TensorCodec(type: tensor.type, tensor: tensor.name, threads: options.threads)
        var values = [Float](repeating: 0, count: Int(tensor.elementCount))
        try values.withUnsafeMutableBufferPointer { try decoder.dequantize(data, rowLength: Int(tensor.rowLength), into: $0, tensor: tensor.name) }
        if !options.allowNonFinite, let first = values.firstIndex(where: { !$0.isFinite }) {
            throw ConversionError.nonFiniteValues(tensor: tensor.name, count: values.lazy.filter { !$0.isFinite }.count, first: first)
        }
        return values
    }

    /// How many values of `encoded` decode to NaN/Inf although the source was finite: beyond F16's
    /// range an fp16 value or block scale becomes Inf, exactly as in llama.cpp, which is refused
    /// like NaN/Inf input unless --allow-nonfinite. Decodes only when the source's largest |x|
    /// (`largest`, bit pattern) passes 65504; `scratch` holds the decoded values.
    private func overflowCount(_ encoded: UnsafeRawBufferPointer, largest: UInt32, decoder: TensorCodec, rowLength: Int,
                               scratch: UnsafeMutableBufferPointer<Float>, tensor: String) throws -> Int {
        guard !options.allowNonFinite, largest > MagnitudeScan.halfMaximumBits else { return 0 }
        try decoder.dequantize(encoded, rowLength: rowLength, into: scratch, tensor: tensor)
        return MagnitudeScan.nonFinite(UnsafeBufferPointer(scratch)).count
    }

    /// Rows are converted in slabs of about `slabBytes` of f32, so the working set stays small
    /// however large the tensor (llama.cpp does the same with its 8 GiB-capped buffers).
    static let slabBytes = 16 << 20

    private func convert(_ data: UnsafeRawBufferPointer, tensor: SourceTensor, to type: GGMLType, into sink: TensorDataSink) throws {
        let rowLength = Int(tensor.rowLength), rowCount = Int(tensor.rowCount)
        let sourceRowBytes = data.count / max(1, rowCount)
        let decoder = try TensorCodec(type: tensor.type, tensor: tensor.name, threads: options.threads)
        let encoder = try TensorCodec(type: type, tensor: tensor.name, threads: options.threads)
        let importance = self.importance[tensor.name]
        let slabRows = max(1, Self.slabBytes / (4 * max(1, rowLength)))
        let targetRowBytes = try encoder.rowBytes(rowLength: rowLength, tensor: tensor.name)
        var values = [Float](repeating: 0, count: min(rowCount, slabRows) * rowLength)
        var encoded = [UInt8](repeating: 0, count: min(rowCount, slabRows) * targetRowBytes)
        var nonFinite = 0, firstNonFinite = -1, overflowed = 0
        for firstRow in stride(from: 0, to: rowCount, by: slabRows) {
            let rows = min(slabRows, rowCount - firstRow), count = rows * rowLength
            let slab = UnsafeRawBufferPointer(rebasing: data[(firstRow * sourceRowBytes)..<((firstRow + rows) * sourceRowBytes)])
            let largest = try values.withUnsafeMutableBufferPointer { buffer in
                let output = UnsafeMutableBufferPointer(rebasing: buffer[0..<count])
                try decoder.dequantize(slab, rowLength: rowLength, into: output, tensor: tensor.name)
                let largest = MagnitudeScan.largestMagnitudeBits(UnsafeBufferPointer(output))
                if !options.allowNonFinite, largest >= MagnitudeScan.infinityBits {
                    let found = MagnitudeScan.nonFinite(UnsafeBufferPointer(output))
                    if firstNonFinite < 0 { firstNonFinite = firstRow * rowLength + found.first }
                    nonFinite += found.count
                }
                return largest
            }
            guard nonFinite == 0 else { continue }
            try values.withUnsafeMutableBufferPointer { buffer in
                try encoded.withUnsafeMutableBytes { out in
                    let input = UnsafeBufferPointer(rebasing: buffer[0..<count])
                    let output = UnsafeMutableRawBufferPointer(rebasing: out[0..<(rows * targetRowBytes)])
                    if let importance {
                        try importance.withUnsafeBufferPointer {
                            try encoder.quantize(input, rowLength: rowLength, importance: $0, into: output, tensor: tensor.name)
                        }
                    } else {
                        try encoder.quantize(input, rowLength: rowLength, into: output, tensor: tensor.name)
                    }
                    overflowed += try overflowCount(UnsafeRawBufferPointer(output), largest: largest, decoder: encoder, rowLength: rowLength,
                                                    scratch: UnsafeMutableBufferPointer(rebasing: buffer[0..<count]), tensor: tensor.name)
                    if overflowed == 0 { try sink.write(UnsafeRawBufferPointer(output)) }
                }
            }
        }
        if nonFinite > 0 {
            throw ConversionError.nonFiniteValues(tensor: tensor.name, count: nonFinite, first: firstNonFinite)
        }
        if overflowed > 0 {
            throw ConversionError.beyondTypeRange(tensor: tensor.name, type: type.name, count: overflowed)
        }
    }
}

/// What a conversion did (or, for a dry run, would do).
public struct ConversionSummary: Codable, Sendable {
    public var preset = ""
    public var tensors = 0
    public var parameters: UInt64 = 0
    public var fileBytes: UInt64 = 0
    public var tensorBytes: UInt64 = 0
    public var bitsPerWeight = 0.0
    public var typeCounts: [String: Int] = [:]
    public var fallbacks: [String: String] = [:]
    public var seconds = 0.0
    enum CodingKeys: String, CodingKey {
        case preset, tensors, parameters, fileBytes = "file_bytes", tensorBytes = "tensor_bytes", bitsPerWeight = "bits_per_weight"
        case typeCounts = "type_counts", fallbacks, seconds
    }
}
