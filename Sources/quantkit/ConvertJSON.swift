import Foundation
import QuantCalibration
import QuantConversion
import QuantCore

// `convert --json` (schema documented in docs/CLI.md): the summary plus what calibration decided,
// and with --dry-run the per-tensor plan.

/// One SmoothQuant decision in the JSON summary (the scales themselves stay in the model).
struct SmoothingChoice: Encodable {
    let layer: Int
    let site: String
    /// nil: left unsmoothed.
    let alpha: Float?
    /// What the two errors measure (`layer_output_error` or `model_kld`).
    let criterion: String
    let w8a8ErrorWithout: Double?
    let w8a8ErrorWith: Double?
    init(_ site: SmoothQuantPlan.Site, criterion: SmoothQuantPlan.Criterion) {
        self.criterion = criterion.rawValue
        layer = site.layer
        self.site = site.site.rawValue
        alpha = site.alpha
        w8a8ErrorWithout = site.errorWithout
        w8a8ErrorWith = site.errorWith
    }
    enum CodingKeys: String, CodingKey {
        case layer, site, alpha, criterion, w8a8ErrorWithout = "w8a8_error_without", w8a8ErrorWith = "w8a8_error_with"
    }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(layer, forKey: .layer)
        try container.encode(site, forKey: .site)
        try container.encode(alpha, forKey: .alpha)   // null when unsmoothed, not omitted
        try container.encode(criterion, forKey: .criterion)
        try container.encodeIfPresent(w8a8ErrorWithout, forKey: .w8a8ErrorWithout)
        try container.encodeIfPresent(w8a8ErrorWith, forKey: .w8a8ErrorWith)
    }
}

/// The summary plus what calibration decided, for `--json`.
struct SummaryReport: Encodable {
    let summary: ConversionSummary
    let smoothquant: [SmoothingChoice]
    let mixSearch: MixSearch.Result?
    func encode(to encoder: any Encoder) throws {
        try summary.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        if !smoothquant.isEmpty { try container.encode(smoothquant, forKey: Key(stringValue: "smoothquant")!) }
        if let mixSearch { try container.encode(mixSearch, forKey: Key(stringValue: "mix_search")!) }
    }
    struct Key: CodingKey {
        let stringValue: String
        init?(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }
}

struct PlanReport: Encodable {
    struct Row: Encodable {
        let name: String
        let shape: [UInt64]
        let source_type: String
        let type: String
        let reason: String
        let fallback_from: String?
        let bytes: UInt64
    }
    let plan: [Row]
    let summary: ConversionSummary
}

