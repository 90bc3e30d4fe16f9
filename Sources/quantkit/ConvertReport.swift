import Foundation
import QuantCalibration
import QuantConversion
import QuantCore

/// What `convert` prints: progress and the pipeline's decisions on stderr, the plan or the
/// summary on stdout (text, or JSON with --json).
final class ConvertReport {
    let json: Bool
    let quiet: Bool
    private var progress: ProgressReporter?

    init(json: Bool, quiet: Bool) {
        self.json = json
        self.quiet = quiet
    }

    func show(_ event: ConversionPipeline.Event) {
        switch event {
        case .requantizing:
            stderr("warning: requantizing already-quantized tensors compounds their error")
        case let .writing(tensors, bytes):
            progress = ProgressReporter(total: tensors, totalBytes: bytes, quiet: quiet)
        case let .progress(stage, done, total, label):
            if progress == nil || done == 0 {
                progress = ProgressReporter(total: total, totalBytes: UInt64(total), quiet: quiet, unit: stage == .mixSearch ? .tensors : .sites)
            }
            progress?.step(done, bytes: done > 0 ? 1 : 0, label: (stage == .mixSearch ? "mix search: " : "SmoothQuant tuning: ") + label)
        case _ where quiet:
            return
        case let .smoothQuant(plan):
            stderr(Self.describe(plan))
        case let .smoothQuantTuning(outcome, corpus):
            stderr(String(format: "SmoothQuant tuning: %d model runs over %d tokens of %@, %.0f s; W8A8 KLD on them %.5f",
                          outcome.runs, corpus.tokenCount, corpus.description, outcome.seconds, outcome.divergences.last ?? .nan))
        case let .rotation(r):
            stderr("rotation: residual stream \(r.residualKind.rawValue) \(r.width)×\(r.width), V heads \(r.headKind.rawValue) \(r.headDimension)×\(r.headDimension)")
        case let .mixSearch(result):
            stderr(Self.describe(result))
        }
    }

    func tensorWritten(_ done: Int, _ tensor: ModelConverter.PlannedTensor) {
        progress?.step(done, bytes: tensor.bytes, label: "\(tensor.name) \(tensor.sourceType.name)→\(tensor.type.name)")
    }

    /// Which tensors the search moved, and the predicted divergence of both plans.
    static func describe(_ result: MixSearch.Result) -> String {
        var lines = [String(format: "mix search: %d tensors, %d calibration tokens, %.0f s; predicted KLD %.5f (preset) → %.5f, %.2f → %.2f MB",
                            result.tensors.count, result.tokens, result.seconds, result.plannedPredictedDivergence,
                            result.chosenPredictedDivergence, Double(result.budgetBytes) / 1e6, Double(result.chosenBytes) / 1e6)]
        let moved = Dictionary(grouping: result.tensors.filter { $0.planned != $0.chosen }) { "\($0.planned) → \($0.chosen)" }
        for (change, tensors) in moved.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(change): \(tensors.count) tensors (\(tensors.prefix(4).map(\.name).joined(separator: ", "))\(tensors.count > 4 ? ", …" : ""))")
        }
        return lines.joined(separator: "\n")
    }

    /// α per layer and site, with what it buys by the plan's criterion.
    static func describe(_ plan: SmoothQuantPlan) -> String {
        let measure = plan.criterion == .modelDivergence ? "W8A8 model KLD (calibration text)" : "W8A8 rel. error"
        var lines = ["SmoothQuant: layer  site         α     \(measure) without → with"]
        for site in plan.sites {
            let errors = site.errorWithout.map { before in String(format: "%.5f → %.5f", before, site.errorWith ?? .nan) } ?? "(no samples)"
            let kind = site.site.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
            lines.append(String(format: "             %5d  ", site.layer) + kind + (site.alpha.map { String(format: " %.2f  ", $0) } ?? " off   ") + errors)
        }
        return lines.joined(separator: "\n")
    }

    func printPlan(_ converter: ModelConverter) throws {
        let summary = converter.plannedSummary
        if json {
            let rows = converter.plan.map {
                PlanReport.Row(name: $0.name, shape: $0.shape, source_type: $0.sourceType.name, type: $0.type.name,
                               reason: $0.decision.reason.rawValue, fallback_from: $0.decision.fellBackFrom?.name, bytes: $0.bytes)
            }
            return try printJSON(PlanReport(plan: rows, summary: summary))
        }
        let width = max(28, converter.plan.map(\.name.count).max() ?? 0)
        for tensor in converter.plan {
            let fallback = tensor.decision.fellBackFrom.map { ", fallback from \($0.name)" } ?? ""
            let shape = tensor.shape.map(String.init).joined(separator: "×")
            print("\(tensor.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(shape.padding(toLength: 12, withPad: " ", startingAt: 0)) "
                  + "\(tensor.sourceType.name.padding(toLength: 6, withPad: " ", startingAt: 0)) → \(tensor.type.name.padding(toLength: 6, withPad: " ", startingAt: 0)) "
                  + String(format: "%10.2f MB", Double(tensor.bytes) / 1e6) + "  (\(tensor.decision.reason.rawValue)\(fallback))")
        }
        printText(summary, written: nil)
    }

    func printSummary(_ summary: ConversionSummary, written: String?, outcome: ConversionPipeline.Outcome) throws {
        guard json else { return printText(summary, written: written) }
        let smoothing = outcome.smoothQuant.map { plan in plan.sites.map { SmoothingChoice($0, criterion: plan.criterion) } } ?? []
        try printJSON(SummaryReport(summary: summary, smoothquant: smoothing, mixSearch: outcome.mixSearch))
    }

    private func printText(_ summary: ConversionSummary, written: String?) {
        let types = summary.typeCounts.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        print("\(written.map { "wrote \($0)" } ?? "plan") (\(summary.preset)): \(summary.tensors) tensors (\(types)), "
              + String(format: "%.1f MB, %.2f bits/weight", Double(summary.fileBytes) / 1e6, summary.bitsPerWeight)
              + (written != nil ? String(format: ", %.1f s", summary.seconds) : ""))
        if !summary.fallbacks.isEmpty {
            print("fallbacks: \(summary.fallbacks.count) tensors (\(Set(summary.fallbacks.values).sorted().joined(separator: ", ")))")
        }
    }

    private func printJSON<T: Encodable>(_ value: T) throws {
        try JSONOutput.print(value)
    }

    private func stderr(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }
}
