import Foundation
import Inference
import QuantConversion
import QuantCore
import QuantFormats

/// Chooses each tensor's type from measured sensitivity instead of llama.cpp's fixed mix rules,
/// within the byte budget of the preset's own plan (so the file is no larger).
///
/// For every tensor the preset quantizes:
/// 1. each candidate type (`MixLadder`) is encoded with the converter's importance, and its
///    importance-weighted squared error E(type) = Σ_rows Σ_j imp_j (w − q)² is measured — the
///    expected squared error of the layer's output on the calibration activations;
/// 2. the model is run over the calibration corpus with only this tensor in the cheapest
///    candidate, and the KL divergence of its next-token distributions from the unquantized
///    model's is measured: the tensor's sensitivity is KLD / E(cheapest);
/// 3. every candidate's divergence is predicted as sensitivity × E(type) (KL divergence is
///    quadratic in small output errors), and `MixAllocator` spends the budget.
/// One model run per tensor, not one per candidate: on SmolLM2-135M, 211 runs of 512 tokens.
public enum MixSearch {
    public struct TensorReport: Encodable, Sendable {
        public let name: String
        public let planned: String
        public let chosen: String
        /// Measured KLD with only this tensor in `reference`.
        public let measuredDivergence: Double
        public let reference: String
        public let predictedDivergence: Double
        enum CodingKeys: String, CodingKey {
            case name, planned, chosen, reference
            case measuredDivergence = "measured_kld", predictedDivergence = "predicted_kld"
        }
    }

    public struct Result: Encodable, Sendable {
        public let assignments: [String: GGMLType]
        public let tensors: [TensorReport]
        /// Tensor bytes allowed, the tensors the search leaves alone included.
        public let budgetBytes: UInt64
        public let chosenBytes: UInt64
        /// Σ predicted divergence of the preset's plan and of the chosen one.
        public let plannedPredictedDivergence: Double
        public let chosenPredictedDivergence: Double
        public let corpus: String
        public let tokens: Int
        public let seconds: Double
        enum CodingKeys: String, CodingKey {
            case tensors, corpus, tokens, seconds
            case budgetBytes = "budget_bytes", chosenBytes = "chosen_bytes"
            case plannedPredictedDivergence = "planned_predicted_kld", chosenPredictedDivergence = "chosen_predicted_kld"
        }
    }

    public enum SearchError: Error, CustomStringConvertible {
        case quantizedSource(tensor: String, type: String)
        public var description: String {
            switch self {
            case let .quantizedSource(tensor, type):
                return "\(tensor): the mix search needs unquantized weights (F32/F16/BF16), found \(type)"
            }
        }
    }

    /// Measures and allocates with the preset's tensor bytes as the budget.
    public static func run(model: LlamaModel, converter: ModelConverter, corpus: CalibrationCorpus,
                           progress: (_ done: Int, _ total: Int, _ tensor: String) -> Void = { _, _, _ in }) throws -> Result {
        try measure(model: model, converter: converter, corpus: corpus, progress: progress).allocate()
    }

    /// What the model runs measured: every searched tensor's options with predicted divergence.
    /// Allocating is cheap, so a caller can allocate again with a tighter budget.
    public struct Measurement: Sendable {
        let planned: [ModelConverter.PlannedTensor]
        let choices: [MixAllocator.Choices]
        let measured: [String: (type: GGMLType, divergence: Double)]
        /// Tensor bytes of what the search leaves alone (norms, fixed tensors).
        let fixedBytes: UInt64
        let corpus: CalibrationCorpus
        let seconds: Double
        public var corpusDescription: String { corpus.description }
        public var tokens: Int { corpus.tokenCount }

        /// Bytes of the tensors the search chooses for, as the preset planned them.
        public var plannedTensorBytes: UInt64 { planned.reduce(UInt64(0)) { $0 + $1.bytes } }

        /// The best plan whose searched tensors take at most `tensorBudget` bytes (default: the
        /// preset's own, so the file is no larger; a caller lowers it to leave room for metadata
        /// the search adds, or sets it to reach another file size).
        public func allocate(tensorBudget: UInt64? = nil) throws -> Result {
            let budget = tensorBudget ?? plannedTensorBytes
            let chosen = try MixAllocator.allocate(choices, budget: budget)
            let plannedOption = Dictionary(uniqueKeysWithValues: zip(planned, choices).map { tensor, choice in
                (tensor.name, choice.options.first { $0.type == tensor.type }!)
            })
            let reports = planned.map { tensor in
                TensorReport(name: tensor.name, planned: tensor.type.name, chosen: chosen[tensor.name]!.type.name,
                             measuredDivergence: measured[tensor.name]!.divergence, reference: measured[tensor.name]!.type.name,
                             predictedDivergence: chosen[tensor.name]!.predictedDivergence)
            }
            return Result(assignments: chosen.mapValues(\.type), tensors: reports,
                          budgetBytes: fixedBytes + budget,
                          chosenBytes: fixedBytes + chosen.values.reduce(0) { $0 + $1.bytes },
                          plannedPredictedDivergence: plannedOption.values.reduce(0) { $0 + $1.predictedDivergence },
                          chosenPredictedDivergence: chosen.values.reduce(0) { $0 + $1.predictedDivergence },
                          corpus: corpus.description, tokens: corpus.tokenCount, seconds: seconds)
        }
    }

    /// `model` is the source as the inference core runs it; `converter` the preset's plan for
    /// the same file. Tensors the user fixed (options, overrides) are left as planned.
    public static func measure(model: LlamaModel, converter: ModelConverter, corpus: CalibrationCorpus,
                               progress: (_ done: Int, _ total: Int, _ tensor: String) -> Void = { _, _, _ in }) throws -> Measurement {
        let start = Date()
        let threads = model.threads
        let searchable: Set<TensorTypePlanner.Reason> = [.defaultType, .mixRule, .outputRule]
        let indices = converter.plan.indices.filter { i in
            let tensor = converter.plan[i]
            return searchable.contains(tensor.decision.reason) && tensor.type.traits!.isQuantized && tensor.shape.count == 2
        }
        let base = try ReferenceRun(model: model, corpus: corpus)
        let reference = ReferenceDistribution(logits: base.logits, vocabulary: model.configuration.vocabularySize, threads: threads)
        var choices: [MixAllocator.Choices] = [], measured: [String: (type: GGMLType, divergence: Double)] = [:]
        for (done, i) in indices.enumerated() {
            let tensor = converter.plan[i]
            defer { progress(done + 1, indices.count, tensor.name) }
            let candidates = MixLadder.candidates(rowLength: tensor.shape[0], planned: tensor.type,
                                                  preset: converter.options.planning.preset.defaultType)
            let rows = tensor.shape.dropFirst().reduce(1, *)
            func option(_ type: GGMLType, _ divergence: Double) -> MixAllocator.Option {
                MixAllocator.Option(type: type, bytes: type.traits!.rowBytes(elements: tensor.shape[0])! * rows, predictedDivergence: divergence)
            }
            guard candidates.count > 1 else {
                // Nothing to choose (rows of no block size): no model run.
                measured[tensor.name] = (tensor.type, 0)
                choices.append(.init(name: tensor.name, options: [option(tensor.type, 0)]))
                continue
            }
            let (errors, cheapest) = try encodingErrors(converter: converter, index: i, types: candidates, threads: threads)
            let variant = try model.replacingWeight(named: tensor.name, type: cheapest.type, bytes: cheapest.bytes)
            let layer = TensorCategory.layerIndex(of: tensor.name) ?? (TensorCategory(tensorName: tensor.name) == .output ? model.weights.layers.count : 0)
            let divergence = reference.meanDivergence(of: try base.logits(of: variant, changingFrom: layer), threads: threads)
            measured[tensor.name] = (candidates[0], divergence)
            let sensitivity = errors[0] > 0 ? divergence / errors[0] : 0
            choices.append(.init(name: tensor.name, options: zip(candidates, errors).map { option($0, sensitivity * $1) }))
        }
        let fixedBytes = converter.plan.indices.filter { !indices.contains($0) }.reduce(UInt64(0)) { $0 + converter.plan[$1].bytes }
        return Measurement(planned: indices.map { converter.plan[$0] }, choices: choices, measured: measured, fixedBytes: fixedBytes,
                           corpus: corpus, seconds: Date().timeIntervalSince(start))
    }

    /// The importance-weighted squared error of tensor `index` encoded in each of `types` (with
    /// the converter's importance, as the conversion will encode it), and the first encoding as
    /// the inference core runs it.
    static func encodingErrors(converter: ModelConverter, index: Int, types: [GGMLType],
                               threads: Int) throws -> (errors: [Double], first: RunnableEncoding) {
        let tensor = converter.source.tensors[index], rowLength = Int(tensor.rowLength)
        let values = try sourceValues(converter: converter, index: index)
        let importance = converter.importance[tensor.name].flatMap { $0.count == rowLength ? $0 : nil }
        var errors: [Double] = [], first: RunnableEncoding?
        for type in types {
            let encoding = try RunnableEncoding(values, type: type, rowLength: rowLength, importance: importance, tensor: tensor.name, threads: threads)
            let decoded = try TensorCodec(type: encoding.type, tensor: tensor.name, threads: threads)
                .dequantize(encoding.bytes, rowLength: rowLength, tensor: tensor.name)
            errors.append(weightedSquaredError(values, decoded, rowLength: rowLength, importance: importance))
            if first == nil { first = encoding }
        }
        return (errors, first!)
    }

    /// A tensor encoded as the converter will write it, in a type the row codecs (and so the
    /// inference core) run: NF4_DQ's double-quantized statistics span the whole tensor, so it is
    /// encoded whole and expanded to the NF4 blocks its file decodes to.
    struct RunnableEncoding {
        let type: GGMLType
        let bytes: [UInt8]

        init(_ values: [Float], type: GGMLType, rowLength: Int, importance: [Float]?, tensor: String, threads: Int) throws {
            guard type == .NF4_DQ else {
                self.type = type
                bytes = try TensorCodec(type: type, tensor: tensor, threads: threads)
                    .quantize(values, rowLength: rowLength, importance: importance, tensor: tensor)
                return
            }
            let encoded = try NF4DoubleQuant.encode(values, rowLength: rowLength, importance: importance, threads: threads, tensor: tensor)
            self.type = .NF4
            bytes = try encoded.blocks.withUnsafeBytes { blocks in
                try encoded.companion.withUnsafeBufferPointer { try NF4DoubleQuant.expand(blocks, companion: $0, tensor: tensor) }
            }
        }
    }

    /// Σ_rows Σ_j imp_j (a − b)², with imp_j = 1 without importance.
    static func weightedSquaredError(_ a: [Float], _ b: [Float], rowLength: Int, importance: [Float]?) -> Double {
        var total = 0.0
        for row in stride(from: 0, to: a.count, by: rowLength) {
            for j in 0 ..< rowLength {
                let difference = Double(a[row + j] - b[row + j])
                total += (importance.map { Double($0[j]) } ?? 1) * difference * difference
            }
        }
        return total
    }

    private static func sourceValues(converter: ModelConverter, index: Int) throws -> [Float] {
        let tensor = converter.source.tensors[index]
        guard TensorTypeChoice.floatTypes.contains(tensor.type) else {
            throw SearchError.quantizedSource(tensor: tensor.name, type: tensor.type.name)
        }
        return try converter.source.floats(index)
    }
}
