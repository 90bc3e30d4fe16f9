// Open a Hugging Face checkpoint, convert it to F16 (the reference) and Q4_K_M, and measure the
// KL divergence of Q4_K_M from the reference on a text, as `llama-perplexity --kl-divergence` does.
// Usage: QuantizeAndMeasure CHECKPOINT_FOLDER TEXT_FILE OUTPUT_FOLDER
import Foundation
import Inference
import QuantConversion

let arguments = CommandLine.arguments
guard arguments.count == 4 else { fatalError("usage: QuantizeAndMeasure CHECKPOINT TEXT OUTPUT_FOLDER") }
let (checkpoint, textFile, output) = (arguments[1], arguments[2], arguments[3])

let source = try HuggingFaceSource(folder: checkpoint)
for preset in ["F16", "Q4_K_M"] {
    let options = ModelConverter.Options(preset: QuantizationPreset.named(preset)!)
    let summary = try ModelConverter(source: source, options: options).write(to: "\(output)/\(preset).gguf")
    print("\(preset): \(summary.fileBytes) bytes")
}
let text = try String(contentsOfFile: textFile, encoding: .utf8)
let result = try KLDivergence.evaluate(base: LlamaModel(path: "\(output)/F16.gguf"), model: LlamaModel(path: "\(output)/Q4_K_M.gguf"),
                                       text: text, context: 512, maxChunks: 2)
print(String(format: "Q4_K_M vs F16: mean KLD %.5f ± %.5f, same top token %.1f %%",
             result.meanKLD.value, result.meanKLD.uncertainty, 100 * result.sameTopToken.value))
