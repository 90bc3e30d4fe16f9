import Foundation

/// The results as a CSV (one row per variant, for other tools) and as the Markdown report.
enum ResultsTable {
    static let csvColumns = [
        "model", "recipe", "status", "bytes", "bpw", "ppl", "ppl_uncertainty", "delta_ppl_percent", "mean_kld", "kld_uncertainty",
        "median_kld", "p99_kld", "p99_9_kld", "same_top_token_percent", "eval_tokens_per_second", "generation_tokens_per_second",
        "convert_seconds", "tensor_types", "error",
    ]

    static func csv(_ results: [BatchResult]) -> String {
        func field(_ value: Double?) -> String { value.map { String($0) } ?? "" }
        func quoted(_ text: String) -> String {
            text.contains(where: { ",\"\n".contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        var lines = [csvColumns.joined(separator: ",")]
        for r in results {
            let q = r.quality
            let row: [String] = [
                r.model, r.recipe, r.status.rawValue, r.bytes.map(String.init) ?? "", field(r.bitsPerWeight),
                field(q?.perplexity), field(q?.perplexityUncertainty), field(q?.deltaPerplexityPercent), field(q?.meanKLD),
                field(q?.kldUncertainty), field(q?.medianKLD), field(q?.p99KLD), field(q?.p999KLD), field(q?.sameTopTokenPercent),
                field(r.timings.evaluationTokensPerSecond), field(r.timings.generationTokensPerSecond), field(r.timings.convertSeconds),
                mix(r), r.error ?? "",
            ]
            lines.append(row.map(quoted).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// "Q4_K:120 Q6_K:20 F32:61": tensors per type, most first.
    static func mix(_ result: BatchResult) -> String {
        (result.tensorTypes ?? [:]).sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key):\($0.value)" }.joined(separator: " ")
    }

    static func markdown(_ results: [BatchResult], plots: [String]) -> String {
        func number(_ value: Double?, _ format: String) -> String { value.map { String(format: format, $0) } ?? "–" }
        var text = "# Quantization report\n\n"
        let ok = results.filter { $0.status == .ok }, failed = results.filter { $0.status == .failed }
        text += "\(results.count) variants of \(Set(results.map(\.model)).count) model(s); \(ok.count) made, \(failed.count) failed. "
        text += "KLD is against each model's own unquantized file on the evaluation text (QuantKit's evaluator, f32 activations); "
        text += "ΔPPL is relative to that file's perplexity.\n\n"
        for model in Array(Set(ok.map(\.model))).sorted() {
            text += "## \(model)\n\n"
            text += "| recipe | size | bpw | PPL | ΔPPL | mean KLD | median | p99 | p99.9 | same top | eval t/s | gen t/s | convert s |\n"
            text += "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n"
            for r in ok where r.model == model {
                let q = r.quality
                text += "| \(r.recipe) | \(number(r.bytes.map { Double($0) / 1e6 }, "%.1f MB")) | \(number(r.bitsPerWeight, "%.2f")) "
                text += "| \(q.map { String(format: "%.3f ± %.3f", $0.perplexity, $0.perplexityUncertainty) } ?? "–") "
                text += "| \(number(q?.deltaPerplexityPercent, "%+.2f %%")) "
                text += "| \(q?.meanKLD.map { String(format: "%.5f ± %.5f", $0, q?.kldUncertainty ?? 0) } ?? "–") "
                text += "| \(number(q?.medianKLD, "%.5f")) | \(number(q?.p99KLD, "%.4f")) | \(number(q?.p999KLD, "%.4f")) "
                text += "| \(number(q?.sameTopTokenPercent, "%.2f %%")) | \(number(r.timings.evaluationTokensPerSecond, "%.0f")) "
                text += "| \(number(r.timings.generationTokensPerSecond, "%.1f")) | \(number(r.timings.convertSeconds, "%.1f")) |\n"
            }
            text += "\n| recipe | tensor types |\n|---|---|\n"
            for r in ok where r.model == model { text += "| \(r.recipe) | \(mix(r)) |\n" }
            text += "\n"
        }
        if !failed.isEmpty {
            text += "## Failed\n\n"
            for r in failed { text += "- **\(r.model)/\(r.recipe)**: \(r.error ?? "unknown error")\n" }
            text += "\n"
        }
        if !plots.isEmpty {
            text += "## Plots\n\n" + plots.map { "![\($0)](\($0))\n" }.joined(separator: "\n") + "\n"
        }
        text += "## How each file was made\n\n"
        for r in results {
            guard let recipe = r.provenance?.conversion.recipe else { continue }
            text += "- `\(r.model)/\(r.recipe)`: `\(recipe)` (QuantKit \(r.provenance!.conversion.toolVersion))\n"
        }
        return text
    }
}
