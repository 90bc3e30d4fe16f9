import ArgumentParser
import Foundation
import Inference
import QuantCalibration
import QuantCore
import QuantFormats

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a GGUF or a Hugging Face llama checkpoint to a (quantized) GGUF.",
        discussion: """
        --type takes llama-quantize's names: \(QuantizationPreset.all.map(\.name).joined(separator: ", ")) \
        (Q3_K, Q4_K and Q5_K mean the _M mixes, as in llama-quantize). Unless --pure, the mix rules of \
        llama.cpp give sensitive tensors more bits (output and tied embeddings Q6_K, some attn_v and \
        ffn_down Q5_K/Q6_K). Tensors whose rows are not whole blocks fall back as llama-quantize does and \
        are listed in the summary. A Hugging Face folder (config.json, safetensors, tokenizer.json) keeps \
        its stored precision when --type is omitted. Writes atomically: the output appears complete or \
        not at all.
        """
    )

    @Argument(help: "The input: a GGUF file or a Hugging Face checkpoint folder.") var input: String
    @Option(name: .shortAndLong, help: "The output GGUF.") var output: String?
    @Option(help: "Target type or mix preset (default for Hugging Face input: the stored precision).") var type: String?
    @Flag(help: "Every quantizable tensor gets the --type's tensor type (no mix rules).") var pure = false
    @Option(name: .customLong("tensor-type"), help: "REGEX=TYPE: tensors whose name matches get TYPE (repeatable; first match wins).")
    var tensorTypes: [String] = []
    @Option(help: "A YAML file of {pattern, type} rules, checked after --tensor-type.") var rules: String?
    @Option(help: "Type of output.weight.") var outputTensorType: String?
    @Option(help: "Type of token_embd.weight.") var tokenEmbeddingType: String?
    @Option(help: "A llama.cpp importance matrix (legacy .dat or GGUF imatrix) for importance-weighted rounding.") var imatrix: String?
    @Option(help: "A QuantKit statistics file (quantkit calibrate) for importance-weighted rounding.") var stats: String?
    @Option(help: "SmoothQuant: a fixed α in [0, 1]; 'auto' to search α per layer and site on the W8A8 layer-output error; 'tuned' (experimental, ~18 min on the test bed) to choose it by the model's W8A8 KL divergence on --calib text (GGUF input). All need --stats.")
    var smoothquant: String?
    @Option(help: "SmoothQuant sites: 'all' (norms, ffn_up → ffn_down, attn_v → attn_output) or 'norms' (attn_norm, ffn_norm only, as in the paper).")
    var smoothquantSites = "all"
    @Flag(help: "Rotate the residual stream and V heads by randomized Hadamard matrices folded into the weights (QuaRot): the same function in float, no outlier channels for int8. Unties a tied output head. Statistics change with it: calibrate the rotated file before --stats/--smoothquant.")
    var rotate = false
    @Option(help: "Seed of --rotate's random signs (and of the random rotation where no Hadamard matrix of the order exists).")
    var rotationSeed: UInt64 = ResidualRotation.defaultSeed
    @Flag(help: "GPTQ-style error compensation: each block's rounding error is moved onto the columns not yet quantized (needs --stats from calibrate --hessian).")
    var gptq = false
    @Option(help: "GPTQ damping: this fraction of the mean Hessian diagonal is added to it.") var gptqDamping = 0.01
    @Flag(help: "Round the blocks' linear weights onto W8A8's per-channel int8 grid with GPTQ (float --type; for perplexity/kld --w8a8; needs --stats from calibrate --hessian).")
    var w8a8Gptq = false

    @Flag(help: "Choose each tensor's type by measured sensitivity (KL divergence on --calib text or data-free samples) within the size of the --type preset's plan (GGUF input).")
    var optimizeMix = false
    @Option(help: "File size --optimize-mix fills instead of the --type preset's: bytes, or with a unit (91.7MB, 87MiB) — to compare with another file at equal size.")
    var targetSize: ByteSize?
    @Option(help: "Text for --optimize-mix and --smoothquant tuned (default: data-free sequences sampled from the model).") var calib: String?
    @Option(help: "Tokens --optimize-mix and --smoothquant tuned run the model over, per variant tried.") var calibTokens = 512
    @Option(help: "Seed of the data-free sampler.") var seed: UInt64 = 1

    @Flag(help: "Allow converting tensors that are already quantized (compounds error).") var allowRequantize = false
    @Flag(help: "Fail instead of falling back when a tensor's rows do not fit the type.") var noFallback = false
    @Flag(help: "Keep NaN/Inf weights (by default a tensor holding any is an error).") var allowNonfinite = false
    @Flag(help: "Allow the output inside the Hugging Face checkpoint folder being converted (refused by default).")
    var allowOutputInInputFolder = false
    @Flag(help: "Print the per-tensor plan and totals without writing anything.") var dryRun = false
    @Flag(help: "No progress output.") var quiet = false
    @Flag(help: "Print the summary (and, with --dry-run, the plan) as JSON.") var json = false
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try reportingErrors {
            var source = try Self.openSource(input)
            if let output, !dryRun {
                // Checked again when writing; here so a bad path fails before minutes of planning.
                try OutputPathGuard.check(output: output, inputs: source.inputFiles, inputFolder: source.inputFolder,
                                          allowInInputFolder: allowOutputInInputFolder)
            }
            var smoothing: [SmoothingChoice] = []
            let preset = try resolvePreset(source: source)
            var options = ModelConverter.Options(preset: preset)
            guard imatrix == nil || stats == nil else { throw ValidationError("give either --imatrix or --stats, not both") }
            options.planning.pure = pure
            options.planning.outputType = try outputTensorType.map { try Self.tensorType($0, option: "--output-tensor-type") }
            options.planning.tokenEmbeddingType = try tokenEmbeddingType.map { try Self.tensorType($0, option: "--token-embedding-type") }
            options.planning.overrides = try tensorTypes.map(TensorTypeRules.parse(argument:)) + (rules.map(TensorTypeRules.load(file:)) ?? [])
            if let imatrix {
                let matrix = try ImportanceMatrix(path: imatrix)
                options.importance = matrix.entries
                options.planning.hasImportance = true
                options.extraMetadata = matrix.provenance
            }
            if let stats {
                let statistics = try ActivationStatisticsFile.read(path: stats)
                options.importance = statistics.importance
                options.planning.hasImportance = true
                options.extraMetadata = statistics.provenanceMetadata(path: stats)
                var smoothQuantPlan: SmoothQuantPlan?
                if let smoothquant {
                    guard ["all", "norms"].contains(smoothquantSites) else { throw ValidationError("--smoothquant-sites is 'all' or 'norms'") }
                    let sites = smoothquantSites == "all" ? SmoothingSite.allCases : SmoothingSite.norms
                    let plan = smoothquant == "tuned"
                        ? try tuneSmoothQuant(source: source, statistics: statistics, sites: sites, metadata: &options.extraMetadata)
                        : try SmoothQuant.plan(source: source, statistics: statistics, alpha: try Self.alpha(smoothquant), sites: sites, threads: threads.count)
                    if !quiet { Self.report(plan) }
                    smoothing = plan.sites.map { SmoothingChoice($0, criterion: plan.criterion) }
                    source = SmoothedSource(base: source, plan: plan)
                    smoothQuantPlan = plan
                    options.importance = plan.adjust(importance: options.importance)
                    options.extraMetadata += plan.metadata
                }
                if w8a8Gptq {
                    guard !gptq else { throw ValidationError("give --gptq or --w8a8-gptq, not both") }
                    guard TensorTypeChoice.floatTypes.contains(preset.defaultType) else { throw ValidationError("--w8a8-gptq stores int8-grid weights in a float type: use --type F16 or F32") }
                    let hessians = statistics.hessians
                    guard !hessians.isEmpty else { throw ValidationError("\(stats) has no Hessians: run quantkit calibrate --hessian") }
                    options.wholeTensorEncoder = Int8GridEncoder(hessians: smoothQuantPlan?.adjust(hessians: hessians) ?? hessians, damping: gptqDamping)
                    options.extraMetadata.append(.init("quantkit.calibration.w8a8_gptq", .bool(true)))
                }
                if gptq {
                    guard smoothquant == nil else { throw ValidationError("--gptq and --smoothquant cannot be combined yet (the Hessians are not rescaled)") }
                    let hessians = statistics.hessians
                    guard !hessians.isEmpty else { throw ValidationError("\(stats) has no Hessians: run quantkit calibrate --hessian") }
                    options.wholeTensorEncoder = ErrorCompensatingEncoder(hessians: hessians, damping: gptqDamping)
                    options.extraMetadata.append(.init("quantkit.calibration.gptq", .bool(true)))
                }
            } else if smoothquant != nil || gptq || w8a8Gptq {
                throw ValidationError("--smoothquant, --gptq and --w8a8-gptq need the activation statistics of --stats (from quantkit calibrate)")
            }
            if rotate {
                guard stats == nil, imatrix == nil, !optimizeMix else {
                    throw ValidationError("--rotate changes the channels that statistics describe: convert with --rotate --type F16 first, calibrate the rotated file, then quantize that with --stats or --smoothquant")
                }
                let rotated = try RotatedSource(base: source, seed: rotationSeed)
                source = rotated
                options.extraMetadata += rotated.rotation.metadata
                if !quiet {
                    let r = rotated.rotation
                    FileHandle.standardError.write(Data("rotation: residual stream \(r.residualKind.rawValue) \(r.width)×\(r.width), V heads \(r.headKind.rawValue) \(r.headDimension)×\(r.headDimension)\n".utf8))
                }
            }
            options.allowRequantize = allowRequantize
            options.noFallback = noFallback
            options.allowNonFinite = allowNonfinite
            options.allowOutputInInputFolder = allowOutputInInputFolder
            options.threads = threads.count
            var converter = try ModelConverter(source: source, options: options)
            var mixSearch: MixSearch.Result?
            if optimizeMix {
                let measurement = try measureMix(converter: converter, source: source, smoothed: smoothquant != nil || gptq || w8a8Gptq)
                (converter, mixSearch) = try allocateMix(measurement, preset: converter, source: source, options: &options)
                if !quiet { Self.report(mixSearch!) }
            } else if calib != nil && smoothquant != "tuned" {
                throw ValidationError("--calib is the text of --optimize-mix and --smoothquant tuned")
            } else if targetSize != nil {
                throw ValidationError("--target-size is the size --optimize-mix fills")
            }
            if converter.requantizes {
                FileHandle.standardError.write(Data("warning: requantizing already-quantized tensors compounds their error\n".utf8))
            }
            if dryRun {
                try printPlan(converter)
                return
            }
            guard let output else { throw ValidationError("give the output with -o (or use --dry-run)") }
            let progress = ProgressReporter(total: converter.plan.count, totalBytes: converter.plannedSummary.tensorBytes, quiet: quiet)
            let summary = try converter.write(to: output) { done, tensor in
                progress.step(done, bytes: tensor.bytes, label: "\(tensor.name) \(tensor.sourceType.name)→\(tensor.type.name)")
            }
            try printSummary(summary, written: output, smoothing: smoothing, mixSearch: mixSearch)
        }
    }

    /// Spends the file size (--target-size, or the preset's) on the measured options. The
    /// search's provenance keys and the tensors' alignment padding (and NF4_DQ's companions)
    /// also take bytes, so the tensor budget shrinks by whatever the whole file would exceed the
    /// size by, until it does not.
    private func allocateMix(_ measurement: MixSearch.Measurement, preset: ModelConverter, source: any ConversionSource,
                             options: inout ModelConverter.Options) throws -> (ModelConverter, MixSearch.Result) {
        options.extraMetadata += [.init("quantkit.mix_search.corpus", .string(measurement.corpusDescription)),
                                  .init("quantkit.mix_search.tokens", .uint32(UInt32(clamping: measurement.tokens)))]
        let limit = targetSize?.bytes ?? preset.plannedSummary.fileBytes
        var budget = Int64(measurement.plannedTensorBytes) + Int64(limit) - Int64(preset.plannedSummary.fileBytes)
        while true {
            let result = try measurement.allocate(tensorBudget: UInt64(max(0, budget)))
            options.planning.searchedTypes = result.assignments
            let converter = try ModelConverter(source: source, options: options)
            let size = converter.plannedSummary.fileBytes
            if size <= limit { return (converter, result) }
            budget -= Int64(size - limit)
        }
    }

    /// Runs the mix search's measurements on the input model.
    private func measureMix(converter: ModelConverter, source: any ConversionSource, smoothed: Bool) throws -> MixSearch.Measurement {
        guard source is GGUFSource else {
            throw ValidationError("--optimize-mix runs the model: give a GGUF input (convert the Hugging Face folder to F16 first)")
        }
        guard !smoothed else { throw ValidationError("--optimize-mix cannot be combined with --smoothquant, --gptq or --w8a8-gptq yet") }
        let (model, corpus) = try calibrationRun()
        var progress: ProgressReporter?
        return try MixSearch.measure(model: model, converter: converter, corpus: corpus) { done, total, name in
            if progress == nil { progress = ProgressReporter(total: total, totalBytes: UInt64(total), quiet: quiet, unit: .tensors) }
            progress?.step(done, bytes: 1, label: "mix search: \(name)")
        }
    }

    /// `--smoothquant tuned`: α per layer and site chosen by the model's measured W8A8 divergence.
    private func tuneSmoothQuant(source: any ConversionSource, statistics: ActivationStatistics, sites: [SmoothingSite],
                                 metadata: inout [GGUFKeyValue]) throws -> SmoothQuantPlan {
        guard source is GGUFSource else {
            throw ValidationError("--smoothquant tuned runs the model: give a GGUF input (convert the Hugging Face folder to F16 first)")
        }
        let (model, corpus) = try calibrationRun()
        var progress: ProgressReporter?
        let outcome = try SmoothQuantTuning.tune(source: source, statistics: statistics, model: model, corpus: corpus,
                                                 sites: sites, threads: threads.count) { done, total, label in
            if progress == nil { progress = ProgressReporter(total: total, totalBytes: UInt64(total), quiet: quiet, unit: .sites) }
            progress?.step(done, bytes: done > 0 ? 1 : 0, label: "SmoothQuant tuning: \(label)")
        }
        if !quiet {
            FileHandle.standardError.write(Data(String(format: "SmoothQuant tuning: %d model runs over %d tokens of %@, %.0f s; W8A8 KLD on them %.5f\n",
                                                       outcome.runs, corpus.tokenCount, corpus.description, outcome.seconds,
                                                       outcome.divergences.last ?? .nan).utf8))
        }
        metadata += [.init("quantkit.smoothquant.tuning_corpus", .string(corpus.description)),
                     .init("quantkit.smoothquant.tuning_tokens", .uint32(UInt32(clamping: corpus.tokenCount)))]
        return outcome.plan
    }

    /// The input model and the calibration sequences of --calib (or data-free ones) it runs over.
    private func calibrationRun() throws -> (LlamaModel, CalibrationCorpus) {
        guard calibTokens > 1 else { throw ValidationError("--calib-tokens must be at least 2") }
        let model = try LlamaModel(path: input)
        model.threads = threads.count
        let length = min(calibTokens, 512, model.configuration.contextLength)
        if let calib {
            return (model, try CalibrationCorpus.text(path: calib, tokenizer: model.tokenizer, context: length, maxTokens: calibTokens))
        }
        let sequenceLength = min(128, length)
        return (model, try CalibrationCorpus.sampled(from: model, sequences: max(1, calibTokens / sequenceLength), length: sequenceLength, seed: seed))
    }

    /// Which tensors the search moved, and the predicted divergence of both plans (stderr).
    static func report(_ result: MixSearch.Result) {
        var lines = [String(format: "mix search: %d tensors, %d calibration tokens, %.0f s; predicted KLD %.5f (preset) → %.5f, %.2f → %.2f MB",
                            result.tensors.count, result.tokens, result.seconds, result.plannedPredictedDivergence,
                            result.chosenPredictedDivergence, Double(result.budgetBytes) / 1e6, Double(result.chosenBytes) / 1e6)]
        let moved = Dictionary(grouping: result.tensors.filter { $0.planned != $0.chosen }) { "\($0.planned) → \($0.chosen)" }
        for (change, tensors) in moved.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(change): \(tensors.count) tensors (\(tensors.prefix(4).map(\.name).joined(separator: ", "))\(tensors.count > 4 ? ", …" : ""))")
        }
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }

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

    /// A GGUF file, or a Hugging Face folder (or a file inside one).
    static func openSource(_ path: String) throws -> any ConversionSource {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FormatError(file: path, .cannotOpen(errno: ENOENT))
        }
        if isDirectory.boolValue { return try HuggingFaceSource(folder: path) }
        if try ModelFileKind.detect(path: path) == .gguf { return GGUFSource(file: try GGUFFile(path: path)) }
        let folder = (path as NSString).deletingLastPathComponent
        return try HuggingFaceSource(folder: folder.isEmpty ? "." : folder)
    }

    static func alpha(_ text: String) throws -> SmoothQuant.Alpha {
        if text == "auto" { return .auto }
        guard let value = Float(text), (0...1).contains(value) else { throw ValidationError("--smoothquant takes a number in [0, 1], 'auto' or 'tuned', not '\(text)'") }
        return .fixed(value)
    }

    /// α per layer and site, with what it buys by the plan's criterion (stderr).
    static func report(_ plan: SmoothQuantPlan) {
        let measure = plan.criterion == .modelDivergence ? "W8A8 model KLD (calibration text)" : "W8A8 rel. error"
        var lines = ["SmoothQuant: layer  site         α     \(measure) without → with"]
        for site in plan.sites {
            let errors = site.errorWithout.map { before in String(format: "%.5f → %.5f", before, site.errorWith ?? .nan) } ?? "(no samples)"
            let kind = site.site.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
            lines.append(String(format: "             %5d  ", site.layer) + kind + (site.alpha.map { String(format: " %.2f  ", $0) } ?? " off   ") + errors)
        }
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    private func resolvePreset(source: any ConversionSource) throws -> QuantizationPreset {
        if let type {
            guard let preset = QuantizationPreset.named(type) else {
                throw ValidationError("unknown type '\(type)' (supported: \(QuantizationPreset.all.map(\.name).joined(separator: ", ")); aliases Q3_K, Q4_K, Q5_K)")
            }
            return preset
        }
        guard source is HuggingFaceSource else { throw ValidationError("give the target with --type (e.g. Q4_K_M, Q8_0)") }
        // Keep the stored precision: the type most 2-D weights have.
        let stored = Dictionary(grouping: source.tensors.filter { $0.shape.count >= 2 }, by: \.type).max { $0.value.count < $1.value.count }?.key ?? .F32
        return QuantizationPreset.named(stored.name) ?? QuantizationPreset.named("F32")!
    }

    private static func tensorType(_ name: String, option: String) throws -> GGMLType {
        guard let type = GGMLType(name: name), ModelConverter.encodableTypes.contains(type) else {
            throw ValidationError("\(option): unknown tensor type '\(name)' (supported: \(ModelConverter.encodableTypes.map(\.name).joined(separator: ", ")))")
        }
        return type
    }

    private struct PlanReport: Encodable {
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

    private func printPlan(_ converter: ModelConverter) throws {
        let summary = converter.plannedSummary
        if json {
            let rows = converter.plan.map {
                PlanReport.Row(name: $0.name, shape: $0.shape, source_type: $0.sourceType.name, type: $0.type.name,
                               reason: $0.decision.reason.rawValue, fallback_from: $0.decision.fellBackFrom?.name, bytes: $0.bytes)
            }
            try printJSON(PlanReport(plan: rows, summary: summary))
            return
        }
        let width = max(28, converter.plan.map(\.name.count).max() ?? 0)
        for tensor in converter.plan {
            let fallback = tensor.decision.fellBackFrom.map { ", fallback from \($0.name)" } ?? ""
            let shape = tensor.shape.map(String.init).joined(separator: "×")
            print("\(tensor.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(shape.padding(toLength: 12, withPad: " ", startingAt: 0)) "
                  + "\(tensor.sourceType.name.padding(toLength: 6, withPad: " ", startingAt: 0)) → \(tensor.type.name.padding(toLength: 6, withPad: " ", startingAt: 0)) "
                  + String(format: "%10.2f MB", Double(tensor.bytes) / 1e6) + "  (\(tensor.decision.reason.rawValue)\(fallback))")
        }
        try printSummary(summary, written: nil)
    }

    private func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    private func printSummary(_ summary: ConversionSummary, written: String?, smoothing: [SmoothingChoice] = [],
                              mixSearch: MixSearch.Result? = nil) throws {
        if json {
            if written != nil || !dryRun { try printJSON(SummaryReport(summary: summary, smoothquant: smoothing, mixSearch: mixSearch)) }
            return
        }
        let types = summary.typeCounts.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        print("\(written.map { "wrote \($0)" } ?? "plan") (\(summary.preset)): \(summary.tensors) tensors (\(types)), "
              + String(format: "%.1f MB, %.2f bits/weight", Double(summary.fileBytes) / 1e6, summary.bitsPerWeight)
              + (written != nil ? String(format: ", %.1f s", summary.seconds) : ""))
        if !summary.fallbacks.isEmpty {
            print("fallbacks: \(summary.fallbacks.count) tensors (\(Set(summary.fallbacks.values).sorted().joined(separator: ", ")))")
        }
    }
}
