import Foundation
import QuantConversion
import QuantCore
import Testing
import TestScratch

/// The conversion recipe: decoded from the snake_case keys a manifest uses (missing keys take the
/// defaults), and every conflicting combination refused by `validate()` with its own case.
@Suite(.tags(.unit))
struct ConversionRecipeTests {
    @Test func decodesManifestKeysWithDefaults() throws {
        let json = #"{"type": "Q4_K_M", "optimize_mix": true, "calibration": {"text": "/data/calib.txt", "tokens": 5120},"#
            + #" "tensor_types": [{"pattern": "ffn_down", "type": "Q6_K"}], "target_size": 105000000}"#
        let recipe = try JSONDecoder().decode(ConversionRecipe.self, from: Data(json.utf8))
        #expect(recipe.type == "Q4_K_M" && recipe.optimizeMix && recipe.targetSize == 105_000_000)
        #expect(recipe.calibration == .init(text: "/data/calib.txt", tokens: 5120, seed: 1))
        #expect(recipe.tensorTypes == [.init(pattern: "ffn_down", type: "Q6_K")])
        #expect(!recipe.pure && recipe.smoothquantSites == "all" && recipe.gptqDamping == 0.01)
        try recipe.validate()
        // Round trip through its own encoding.
        #expect(try JSONDecoder().decode(ConversionRecipe.self, from: JSONEncoder().encode(recipe)) == recipe)
    }

    @Test func everyConflictHasItsCase() {
        func conflict(_ change: (inout ConversionRecipe) -> Void) -> ConversionRecipe.Conflict? {
            var recipe = ConversionRecipe()
            recipe.type = "Q4_0"
            change(&recipe)
            do { try recipe.validate(); return nil } catch { return error }
        }
        #expect(conflict { _ in } == nil)
        #expect(conflict { $0.type = "Q9_X" } == .unknownType("Q9_X"))
        #expect(conflict { $0.outputTensorType = "nope" } == .unknownTensorType(key: "--output-tensor-type", name: "nope"))
        #expect(conflict { $0.tensorTypes = [.init(pattern: "(", type: "Q8_0")] } == .invalidPattern("("))
        #expect(conflict { $0.imatrix = "a"; $0.stats = "b" } == .imatrixAndStats)
        #expect(conflict { $0.stats = "s"; $0.smoothquant = "1.5" } == .smoothQuantAlpha("1.5"))
        #expect(conflict { $0.smoothquantSites = "some" } == .smoothQuantSites("some"))
        #expect(conflict { $0.gptq = true } == .needsStatistics)
        #expect(conflict { $0.stats = "s"; $0.gptq = true; $0.w8a8Gptq = true } == .gptqAndW8A8Gptq)
        #expect(conflict { $0.stats = "s"; $0.gptq = true; $0.smoothquant = "auto" } == .gptqAndSmoothQuant)
        #expect(conflict { $0.stats = "s"; $0.w8a8Gptq = true } == .w8a8GptqNeedsFloatType("Q4_0"))
        #expect(conflict { $0.rotate = true; $0.stats = "s" } == .rotationWithStatistics)
        #expect(conflict { $0.optimizeMix = true; $0.stats = "s"; $0.smoothquant = "0.5" } == .mixWithTransforms)
        #expect(conflict { $0.calibration = .init(text: "t") } == .calibrationTextUnused)
        #expect(conflict { $0.targetSize = 1 } == .targetSizeWithoutMix)
        #expect(conflict { $0.optimizeMix = true; $0.calibration = .init(tokens: 1) } == .calibrationTokens(1))
    }
}
