import QuantCore
import QuantFormats

/// Everything that decides how a model is converted, as a value: what `quantkit convert`'s
/// options say and what a batch manifest's recipe says (the same snake_case keys). `validate()`
/// checks every combination before any input is opened; what depends on the input (its kind,
/// the statistics file's contents) is checked by the pipeline that runs the recipe.
public struct ConversionRecipe: Codable, Equatable, Sendable {
    /// One tensor-type override: tensors whose name contains a match of `pattern` get `type`.
    public struct TensorRule: Codable, Equatable, Sendable {
        public var pattern: String
        public var type: String
        public init(pattern: String, type: String) { self.pattern = pattern; self.type = type }
    }

    /// The text the mix search and tuned SmoothQuant run the model over (nil: data-free samples).
    public struct Calibration: Codable, Equatable, Sendable {
        public var text: String?
        public var tokens: Int = 512
        public var seed: UInt64 = 1
        public init(text: String? = nil, tokens: Int = 512, seed: UInt64 = 1) { self.text = text; self.tokens = tokens; self.seed = seed }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            text = try c.decodeIfPresent(String.self, forKey: .text)
            tokens = try c.decodeIfPresent(Int.self, forKey: .tokens) ?? 512
            seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 1
        }
    }

    /// Preset name (llama-quantize's); nil keeps a Hugging Face checkpoint's stored precision.
    public var type: String?
    public var pure = false
    public var tensorTypes: [TensorRule] = []
    public var outputTensorType: String?
    public var tokenEmbeddingType: String?
    /// A llama.cpp importance matrix file.
    public var imatrix: String?
    /// A QuantKit statistics file (`quantkit calibrate`).
    public var stats: String?
    /// SmoothQuant α: a number in [0, 1], "auto" or "tuned".
    public var smoothquant: String?
    public var smoothquantSites = "all"
    public var rotate = false
    public var rotationSeed: UInt64?
    public var gptq = false
    public var gptqDamping = 0.01
    public var w8a8Gptq = false
    public var optimizeMix = false
    /// Bytes the mix search fills instead of the preset's file size.
    public var targetSize: UInt64?
    public var calibration: Calibration?
    public var allowRequantize = false
    public var noFallback = false
    public var allowNonfinite = false
    public var allowOutputInInputFolder = false

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, pure, imatrix, stats, smoothquant, rotate, gptq, calibration
        case tensorTypes = "tensor_types", outputTensorType = "output_tensor_type", tokenEmbeddingType = "token_embedding_type"
        case smoothquantSites = "smoothquant_sites", rotationSeed = "rotation_seed", gptqDamping = "gptq_damping"
        case w8a8Gptq = "w8a8_gptq", optimizeMix = "optimize_mix", targetSize = "target_size"
        case allowRequantize = "allow_requantize", noFallback = "no_fallback", allowNonfinite = "allow_nonfinite"
        case allowOutputInInputFolder = "allow_output_in_input_folder"
    }

    /// Every key a recipe may have (a manifest's recipes are checked against them).
    public static var keys: [String] { CodingKeys.allCases.map(\.stringValue) }

    /// Missing keys take the defaults above (a manifest names only what it changes).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T { try c.decodeIfPresent(T.self, forKey: key) ?? fallback }
        type = try c.decodeIfPresent(String.self, forKey: .type)
        pure = try value(.pure, false)
        tensorTypes = try value(.tensorTypes, [])
        outputTensorType = try c.decodeIfPresent(String.self, forKey: .outputTensorType)
        tokenEmbeddingType = try c.decodeIfPresent(String.self, forKey: .tokenEmbeddingType)
        imatrix = try c.decodeIfPresent(String.self, forKey: .imatrix)
        stats = try c.decodeIfPresent(String.self, forKey: .stats)
        smoothquant = try c.decodeIfPresent(String.self, forKey: .smoothquant)
        smoothquantSites = try value(.smoothquantSites, "all")
        rotate = try value(.rotate, false)
        rotationSeed = try c.decodeIfPresent(UInt64.self, forKey: .rotationSeed)
        gptq = try value(.gptq, false)
        gptqDamping = try value(.gptqDamping, 0.01)
        w8a8Gptq = try value(.w8a8Gptq, false)
        optimizeMix = try value(.optimizeMix, false)
        targetSize = try c.decodeIfPresent(UInt64.self, forKey: .targetSize)
        calibration = try c.decodeIfPresent(Calibration.self, forKey: .calibration)
        allowRequantize = try value(.allowRequantize, false)
        noFallback = try value(.noFallback, false)
        allowNonfinite = try value(.allowNonfinite, false)
        allowOutputInInputFolder = try value(.allowOutputInInputFolder, false)
    }

    /// A combination of settings that cannot run, found before any input is opened.
    public enum Conflict: Error, Equatable, CustomStringConvertible {
        case unknownType(String)
        case unknownTensorType(key: String, name: String)
        case invalidPattern(String)
        case imatrixAndStats
        case smoothQuantAlpha(String)
        case smoothQuantSites(String)
        case needsStatistics
        case gptqAndW8A8Gptq
        case gptqAndSmoothQuant
        case w8a8GptqNeedsFloatType(String)
        case rotationWithStatistics
        case mixWithTransforms
        case calibrationTextUnused
        case targetSizeWithoutMix
        case calibrationTokens(Int)

        public var description: String {
            switch self {
            case let .unknownType(name):
                return "unknown type '\(name)' (supported: \(QuantizationPreset.all.map(\.name).joined(separator: ", ")); aliases Q3_K, Q4_K, Q5_K)"
            case let .unknownTensorType(key, name):
                return "\(key): unknown tensor type '\(name)' (supported: \(ModelConverter.encodableTypes.map(\.name).joined(separator: ", ")))"
            case let .invalidPattern(pattern): return "invalid regular expression '\(pattern)'"
            case .imatrixAndStats: return "give either --imatrix or --stats, not both"
            case let .smoothQuantAlpha(text): return "--smoothquant takes a number in [0, 1], 'auto' or 'tuned', not '\(text)'"
            case let .smoothQuantSites(text): return "--smoothquant-sites is 'all' or 'norms', not '\(text)'"
            case .needsStatistics: return "--smoothquant, --gptq and --w8a8-gptq need the activation statistics of --stats (from quantkit calibrate)"
            case .gptqAndW8A8Gptq: return "give --gptq or --w8a8-gptq, not both"
            case .gptqAndSmoothQuant: return "--gptq and --smoothquant cannot be combined yet (the Hessians are not rescaled)"
            case let .w8a8GptqNeedsFloatType(type): return "--w8a8-gptq stores int8-grid weights in a float type, not \(type): use --type F16 or F32"
            case .rotationWithStatistics:
                return "--rotate changes the channels that statistics describe: convert with --rotate --type F16 first, calibrate the rotated file, then quantize that with --stats or --smoothquant"
            case .mixWithTransforms: return "--optimize-mix cannot be combined with --smoothquant, --gptq or --w8a8-gptq yet"
            case .calibrationTextUnused: return "--calib is the text of --optimize-mix and --smoothquant tuned"
            case .targetSizeWithoutMix: return "--target-size is the size --optimize-mix fills"
            case let .calibrationTokens(n): return "--calib-tokens must be at least 2, not \(n)"
            }
        }
    }

    /// The preset `type` names (nil when the recipe keeps the stored precision).
    public func preset() throws(Conflict) -> QuantizationPreset? {
        guard let type else { return nil }
        guard let preset = QuantizationPreset.named(type) else { throw .unknownType(type) }
        return preset
    }

    /// Tensor type names resolved, with the key that named them for errors.
    public static func tensorType(_ name: String, key: String) throws(Conflict) -> GGMLType {
        guard let type = GGMLType(name: name), ModelConverter.encodableTypes.contains(type) else { throw .unknownTensorType(key: key, name: name) }
        return type
    }

    /// The planner's overrides, in order.
    public func overrides() throws(Conflict) -> [TensorTypeOverride] {
        var result: [TensorTypeOverride] = []
        for rule in tensorTypes {
            let type = try Self.tensorType(rule.type, key: "tensor type rule '\(rule.pattern)'")
            guard let override = try? TensorTypeOverride(pattern: rule.pattern, type: type) else { throw .invalidPattern(rule.pattern) }
            result.append(override)
        }
        return result
    }

    /// Every rule on which settings combine, checked at once.
    public func validate() throws(Conflict) {
        let preset = try preset()
        _ = try overrides()
        if let name = outputTensorType { _ = try Self.tensorType(name, key: "--output-tensor-type") }
        if let name = tokenEmbeddingType { _ = try Self.tensorType(name, key: "--token-embedding-type") }
        if imatrix != nil && stats != nil { throw .imatrixAndStats }
        if let smoothquant, smoothquant != "auto", smoothquant != "tuned" {
            guard let alpha = Float(smoothquant), (0...1).contains(alpha) else { throw .smoothQuantAlpha(smoothquant) }
        }
        guard ["all", "norms"].contains(smoothquantSites) else { throw .smoothQuantSites(smoothquantSites) }
        if stats == nil && (smoothquant != nil || gptq || w8a8Gptq) { throw .needsStatistics }
        if w8a8Gptq && gptq { throw .gptqAndW8A8Gptq }
        if gptq && smoothquant != nil { throw .gptqAndSmoothQuant }
        if w8a8Gptq, let preset, !TensorTypeChoice.floatTypes.contains(preset.defaultType) { throw .w8a8GptqNeedsFloatType(preset.name) }
        if rotate && (stats != nil || imatrix != nil || optimizeMix) { throw .rotationWithStatistics }
        if optimizeMix && (smoothquant != nil || gptq || w8a8Gptq) { throw .mixWithTransforms }
        if !optimizeMix {
            if calibration?.text != nil && smoothquant != "tuned" { throw .calibrationTextUnused }
            if targetSize != nil { throw .targetSizeWithoutMix }
        }
        if let tokens = calibration?.tokens, tokens < 2 { throw .calibrationTokens(tokens) }
    }

    /// Whether running it runs the model (and so needs a GGUF input).
    public var runsModel: Bool { optimizeMix || smoothquant == "tuned" }
}
