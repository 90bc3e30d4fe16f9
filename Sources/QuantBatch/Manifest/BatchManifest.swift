import Foundation
import QuantConversion

/// A batch: models × recipes, converted and evaluated into one report. Written in YAML (or JSON);
/// recipes use `ConversionRecipe`'s keys — the same schema as `quantkit convert`'s options — plus
/// a `name`. Relative paths are relative to the manifest's folder.
///
///     output: out/
///     models:
///       - {name: smollm2, path: /models/smollm2-135m-f16.gguf}
///     recipes:
///       - {name: q8_0, type: Q8_0}
///       - name: q4_k_m-cal
///         type: Q4_K_M
///         stats: calibrate                      # statistics recorded once per model from 5120 tokens …
///         calibration: {text: calib.txt}        # … of this text (512 tokens for the mix search)
///         optimize_mix: true
///     evaluation: {text: wiki.test.raw, chunks: 8, kld: true}
public struct BatchManifest: Decodable, Sendable {
    public struct Model: Decodable, Sendable, Equatable {
        public var name: String
        /// A GGUF file or a Hugging Face folder.
        public var path: String
    }

    public struct Recipe: Decodable, Sendable, Equatable {
        public var name: String
        public var recipe: ConversionRecipe
        /// Tokens `stats: calibrate` records statistics over (the README's `calibrate --tokens
        /// 5120`); `calibration.tokens` stays the mix search's (default 512), which costs ten times
        /// more per token.
        public var statisticsTokens: Int

        public init(name: String, recipe: ConversionRecipe, statisticsTokens: Int = Self.defaultStatisticsTokens) {
            self.name = name
            self.recipe = recipe
            self.statisticsTokens = statisticsTokens
        }

        public static let defaultStatisticsTokens = 5120

        enum CodingKeys: String, CodingKey { case name, statisticsTokens = "statistics_tokens" }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            statisticsTokens = try c.decodeIfPresent(Int.self, forKey: .statisticsTokens) ?? Self.defaultStatisticsTokens
            recipe = try ConversionRecipe(from: decoder)
        }

        /// `stats: calibrate`: QuantKit statistics the batch records itself, once per model, over
        /// `statistics_tokens` tokens of the recipe's calibration text (data-free samples without one).
        public static let calibrateKeyword = "calibrate"
        public var calibratesStatistics: Bool { recipe.stats == Self.calibrateKeyword }

        /// The recipe `convert` runs: `stats: calibrate` replaced by the recorded file, and the
        /// calibration text dropped where only the statistics read it (no mix search, no tuning).
        public func resolved(statistics path: String) -> ConversionRecipe {
            var resolved = recipe
            if calibratesStatistics {
                resolved.stats = path
                if !resolved.runsModel { resolved.calibration = nil }
            }
            return resolved
        }

        /// `convert`'s rules, on the recipe as it will run.
        public func validate() throws(ConversionRecipe.Conflict) {
            try resolved(statistics: "statistics recorded by the batch").validate()
        }
    }

    public struct Evaluation: Decodable, Sendable, Equatable {
        public var text: String
        public var chunks: Int = 8
        public var context: Int = 512
        /// KL divergence against the model's own unquantized file (its input).
        public var kld: Bool = true
        /// Tokens generated greedily to measure generation speed (0: not measured).
        public var generationTokens: Int = 64

        enum CodingKeys: String, CodingKey {
            case text, chunks, context, kld
            case generationTokens = "generation_tokens"
        }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            text = try c.decode(String.self, forKey: .text)
            chunks = try c.decodeIfPresent(Int.self, forKey: .chunks) ?? 8
            context = try c.decodeIfPresent(Int.self, forKey: .context) ?? 512
            kld = try c.decodeIfPresent(Bool.self, forKey: .kld) ?? true
            generationTokens = try c.decodeIfPresent(Int.self, forKey: .generationTokens) ?? 64
        }
    }

    public var output: String
    public var models: [Model]
    public var recipes: [Recipe]
    public var evaluation: Evaluation?

    /// Keys each level accepts; anything else is a typo and an error, not silently ignored.
    static let topKeys: Set<String> = ["output", "models", "recipes", "evaluation"]
    static let modelKeys: Set<String> = ["name", "path"]
    static let recipeKeys: Set<String> = Set(ConversionRecipe.keys).union(["name", "statistics_tokens"])
    static let calibrationKeys: Set<String> = ["text", "tokens", "seed"]
    static let tensorRuleKeys: Set<String> = ["pattern", "type"]
    static let evaluationKeys: Set<String> = ["text", "chunks", "context", "kld", "generation_tokens"]
}
