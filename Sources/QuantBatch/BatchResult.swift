import Foundation

/// One variant's row: what was made, how large, how good, how fast — or why it failed. Stored
/// beside the file as `<recipe>.result.json`, written last, so its presence marks a finished job.
public struct BatchResult: Codable, Equatable, Sendable {
    public enum Status: String, Codable, Sendable { case ok, failed }

    public struct Quality: Codable, Equatable, Sendable {
        public var perplexity: Double
        public var perplexityUncertainty: Double
        public var basePerplexity: Double?
        public var meanKLD: Double?
        public var kldUncertainty: Double?
        public var medianKLD: Double?
        public var p99KLD: Double?
        public var p999KLD: Double?
        /// Positions where the variant's most likely token is the base model's, in %.
        public var sameTopTokenPercent: Double?
        public var tokens: Int

        /// ΔPPL against the base model, in %.
        public var deltaPerplexityPercent: Double? { basePerplexity.map { 100 * (perplexity / $0 - 1) } }

        enum CodingKeys: String, CodingKey {
            case perplexity = "ppl", perplexityUncertainty = "ppl_uncertainty", basePerplexity = "base_ppl"
            case meanKLD = "mean_kld", kldUncertainty = "kld_uncertainty", medianKLD = "median_kld", p99KLD = "p99_kld"
            case p999KLD = "p99_9_kld", sameTopTokenPercent = "same_top_token_percent", tokens
        }
    }

    public struct Timings: Codable, Equatable, Sendable {
        public var convertSeconds: Double?
        public var evaluationTokensPerSecond: Double?
        public var generationTokensPerSecond: Double?

        enum CodingKeys: String, CodingKey {
            case convertSeconds = "convert_seconds", evaluationTokensPerSecond = "eval_tokens_per_second"
            case generationTokensPerSecond = "generation_tokens_per_second"
        }
    }

    public var model: String
    public var recipe: String
    public var status: Status
    public var error: String?
    /// The GGUF's path relative to the batch's output folder.
    public var file: String?
    public var bytes: UInt64?
    public var parameters: UInt64?
    /// Tensors per ggml type, the mix.
    public var tensorTypes: [String: Int]?
    public var quality: Quality?
    /// Per weight matrix: ‖W_variant − W_base‖ / ‖W_base‖ against the model's unquantized file
    /// (the report's heat map).
    public var tensorErrors: [String: Double]?
    /// The hot/cold neuron profile of the statistics the batch recorded for this recipe (`stats:
    /// calibrate`): per layer, the 10th, 50th and 90th percentile over the FFN neurons of the
    /// fraction of calibration tokens on which each is active (|x| > 0.1).
    public var neuronActivity: [[Double]]?
    public var timings: Timings
    public var provenance: JobProvenance?

    /// Bits per weight as llama.cpp prints it: file bits over parameters.
    public var bitsPerWeight: Double? {
        guard let bytes, let parameters, parameters > 0 else { return nil }
        return Double(bytes) * 8 / Double(parameters)
    }

    enum CodingKeys: String, CodingKey {
        case model, recipe, status, error, file, bytes, parameters, tensorTypes = "tensor_types", quality
        case tensorErrors = "tensor_errors", neuronActivity = "neuron_activity", timings, provenance
    }
}
