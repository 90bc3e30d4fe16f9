import Foundation
import Inference
import QuantCore
import QuantFormats

/// Turning a written file and its measurements into a result row.
enum VariantEvaluation {
    /// Size, parameter count (every tensor's elements, as llama.cpp counts for bits per weight)
    /// and the tensor-type mix of a GGUF.
    static func describe(file path: String, into result: inout BatchResult, relativeTo folder: String) throws {
        let file = try GGUFFile(path: path)
        result.file = path.hasPrefix(folder + "/") ? String(path.dropFirst(folder.count + 1)) : path
        result.bytes = file.fileSize
        result.parameters = file.tensors.reduce(0) { $0 + $1.elementCount }
        result.tensorTypes = Dictionary(grouping: file.tensors, by: \.type.name).mapValues(\.count)
    }

    /// ‖W − W_base‖ / ‖W_base‖ of every weight matrix both files hold (decoded one at a time;
    /// types without a codec here, such as NF4_DQ, are left out).
    static func tensorErrors(file path: String, base basePath: String, threads: Int) throws -> [String: Double] {
        let file = try GGUFFile(path: path), base = try GGUFFile(path: basePath)
        var errors: [String: Double] = [:]
        for tensor in file.tensors where tensor.shape.count == 2 {
            guard let reference = base.tensor(named: tensor.name), reference.shape == tensor.shape,
                  CodecRegistry.codec(for: tensor.type) != nil, CodecRegistry.codec(for: reference.type) != nil else { continue }
            let rowLength = Int(tensor.rowLength)
            let values = try TensorCodec(type: tensor.type, tensor: tensor.name, threads: threads)
                .dequantize(Array(file.data(for: tensor)), rowLength: rowLength, tensor: tensor.name)
            let expected = try TensorCodec(type: reference.type, tensor: reference.name, threads: threads)
                .dequantize(Array(base.data(for: reference)), rowLength: rowLength, tensor: reference.name)
            var difference = 0.0, norm = 0.0
            for i in values.indices {
                let d = Double(values[i]) - Double(expected[i])
                difference += d * d
                norm += Double(expected[i]) * Double(expected[i])
            }
            errors[tensor.name] = norm > 0 ? (difference / norm).squareRoot() : 0
        }
        return errors
    }

    static func quality(_ kld: KLDivergenceResult) -> BatchResult.Quality {
        .init(perplexity: kld.perplexity.value, perplexityUncertainty: kld.perplexity.uncertainty,
              basePerplexity: kld.basePerplexity.value, meanKLD: kld.meanKLD.value, kldUncertainty: kld.meanKLD.uncertainty,
              medianKLD: kld.kldPercentiles["median"], p99KLD: kld.kldPercentiles["99"], p999KLD: kld.kldPercentiles["99.9"],
              sameTopTokenPercent: 100 * kld.sameTopToken.value, tokens: kld.tokens)
    }

    static func quality(_ ppl: PerplexityResult) -> BatchResult.Quality {
        .init(perplexity: ppl.perplexity, perplexityUncertainty: ppl.uncertainty, tokens: ppl.scoredTokens)
    }

    /// Greedy generation speed: `tokens` new tokens after a one-token prompt (BOS, or token 0),
    /// prompt time excluded.
    static func generationSpeed(_ model: LlamaModel, tokens: Int) throws -> Double {
        var sampler = Sampler(temperature: 0, topK: 1, topP: 1, seed: 1)
        let prompt = [model.tokenizer.bosToken ?? 0]
        let state = try model.makeState(contextLength: min(model.configuration.contextLength, tokens + 1))
        var logits = try model.forward(prompt, state: state)
        let start = Date()
        var produced = 0
        while produced < min(tokens, state.contextLength - 1) {
            let token = logits.withUnsafeBufferPointer { sampler.next($0) }
            logits = try model.forward([token], state: state)
            produced += 1
        }
        return Double(produced) / max(Date().timeIntervalSince(start), 1e-9)
    }
}
