import Foundation
import Inference
import QuantConversion
import QuantCore
import QuantFormats

/// Runs a `ConversionRecipe`: validates it whole before opening anything, opens the input, wraps
/// it in the recipe's source decorators (SmoothQuant, rotation), gathers importance and
/// provenance, runs the mix search and its size loop, then plans (dry run) or writes. What the
/// steps decide is reported through `events`, so a command only prints.
public struct ConversionPipeline {
    /// Something a step decided or is doing, for the caller to show.
    public enum Event {
        case smoothQuant(SmoothQuantPlan)
        case smoothQuantTuning(SmoothQuantTuning.Outcome, corpus: CalibrationCorpus)
        case rotation(ResidualRotation)
        case mixSearch(MixSearch.Result)
        case requantizing
        /// Writing starts: this many tensors, this many bytes of tensor data.
        case writing(tensors: Int, bytes: UInt64)
        /// Long work: `done` of `total` units of `stage` (tensor, site, …) finished.
        case progress(stage: Stage, done: Int, total: Int, label: String)
    }
    public enum Stage: Sendable { case mixSearch, smoothQuantTuning }

    /// A failure that depends on the input (its kind or the statistics file's contents).
    public enum InputError: Error, Equatable, CustomStringConvertible {
        case modelRunNeedsGGUF(what: String)
        case noHessians(stats: String)
        case noTypeForCheckpoint
        case noOutput

        public var description: String {
            switch self {
            case let .modelRunNeedsGGUF(what): return "\(what) runs the model: give a GGUF input (convert the Hugging Face folder to F16 first)"
            case let .noHessians(stats): return "\(stats) has no Hessians: run quantkit calibrate --hessian"
            case .noTypeForCheckpoint: return "give the target with --type (e.g. Q4_K_M, Q8_0)"
            case .noOutput: return "give the output with -o (or use --dry-run)"
            }
        }
    }

    /// What a run produced: the plan (dry run) or the written file's summary, and what
    /// calibration decided.
    public struct Outcome {
        public let converter: ModelConverter
        public let summary: ConversionSummary?
        public let smoothQuant: SmoothQuantPlan?
        public let mixSearch: MixSearch.Result?
    }

    public let recipe: ConversionRecipe
    public let input: String
    public var threads = ProcessInfo.processInfo.activeProcessorCount

    public init(recipe: ConversionRecipe, input: String) throws {
        try recipe.validate()
        self.recipe = recipe
        self.input = input
        var isDirectory: ObjCBool = false
        if recipe.runsModel, FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory), isDirectory.boolValue {
            throw InputError.modelRunNeedsGGUF(what: recipe.optimizeMix ? "--optimize-mix" : "--smoothquant tuned")
        }
    }

    /// Plans (`output` nil) or converts into `output`.
    public func run(output: String?, events: (Event) -> Void = { _ in },
                    progress: (Int, ModelConverter.PlannedTensor) -> Void = { _, _ in }) throws -> Outcome {
        var source = try ConversionSources.open(input)
        if let output {
            // Checked again when writing; here so a bad path fails before minutes of planning.
            try OutputPathGuard.check(output: output, inputs: source.inputFiles, inputFolder: source.inputFolder,
                                      allowInInputFolder: recipe.allowOutputInInputFolder)
        }
        if recipe.runsModel && !(source is GGUFSource) {
            throw InputError.modelRunNeedsGGUF(what: recipe.optimizeMix ? "--optimize-mix" : "--smoothquant tuned")
        }
        let preset = try recipe.preset() ?? Self.storedPrecision(of: source)
        var options = ModelConverter.Options(preset: preset)
        options.planning.pure = recipe.pure
        options.planning.outputType = try recipe.outputTensorType.map { try ConversionRecipe.tensorType($0, key: "--output-tensor-type") }
        options.planning.tokenEmbeddingType = try recipe.tokenEmbeddingType.map { try ConversionRecipe.tensorType($0, key: "--token-embedding-type") }
        options.planning.overrides = try recipe.overrides()
        if let path = recipe.imatrix {
            let matrix = try ImportanceMatrix(path: path)
            options.importance = matrix.entries
            options.planning.hasImportance = true
            options.extraMetadata = matrix.provenance
        }
        var smoothQuantPlan: SmoothQuantPlan?
        if let path = recipe.stats {
            let statistics = try ActivationStatisticsFile.read(path: path)
            options.importance = statistics.importance
            options.planning.hasImportance = true
            options.extraMetadata = statistics.provenanceMetadata(path: path)
            if let smoothquant = recipe.smoothquant {
                let sites = recipe.smoothquantSites == "all" ? SmoothingSite.allCases : SmoothingSite.norms
                let plan = smoothquant == "tuned"
                    ? try tuneSmoothQuant(source: source, statistics: statistics, sites: sites, metadata: &options.extraMetadata, events: events)
                    : try SmoothQuant.plan(source: source, statistics: statistics, alpha: Float(smoothquant).map { .fixed($0) } ?? .auto,
                                           sites: sites, threads: threads)
                events(.smoothQuant(plan))
                source = SmoothedSource(base: source, plan: plan)
                smoothQuantPlan = plan
                options.importance = plan.adjust(importance: options.importance)
                options.extraMetadata += plan.metadata
            }
            if recipe.gptq || recipe.w8a8Gptq {
                let hessians = statistics.hessians
                guard !hessians.isEmpty else { throw InputError.noHessians(stats: path) }
                if recipe.w8a8Gptq {
                    options.wholeTensorEncoder = Int8GridEncoder(hessians: smoothQuantPlan?.adjust(hessians: hessians) ?? hessians, damping: recipe.gptqDamping)
                } else {
                    options.wholeTensorEncoder = ErrorCompensatingEncoder(hessians: hessians, damping: recipe.gptqDamping)
                }
                options.extraMetadata.append(.init(recipe.w8a8Gptq ? "quantkit.calibration.w8a8_gptq" : "quantkit.calibration.gptq", .bool(true)))
            }
        }
        if recipe.rotate {
            let rotated = try RotatedSource(base: source, seed: recipe.rotationSeed ?? ResidualRotation.defaultSeed)
            source = rotated
            options.extraMetadata += rotated.rotation.metadata
            events(.rotation(rotated.rotation))
        }
        options.allowRequantize = recipe.allowRequantize
        options.noFallback = recipe.noFallback
        options.allowNonFinite = recipe.allowNonfinite
        options.allowOutputInInputFolder = recipe.allowOutputInInputFolder
        options.threads = threads
        var converter = try ModelConverter(source: source, options: options)
        var mixSearch: MixSearch.Result?
        if recipe.optimizeMix {
            let (model, corpus) = try calibrationRun()
            let measurement = try MixSearch.measure(model: model, converter: converter, corpus: corpus) { done, total, name in
                events(.progress(stage: .mixSearch, done: done, total: total, label: name))
            }
            (converter, mixSearch) = try allocateMix(measurement, preset: converter, source: source, options: &options)
            events(.mixSearch(mixSearch!))
        }
        if converter.requantizes { events(.requantizing) }
        guard let output else { return Outcome(converter: converter, summary: nil, smoothQuant: smoothQuantPlan, mixSearch: mixSearch) }
        events(.writing(tensors: converter.plan.count, bytes: converter.plannedSummary.tensorBytes))
        let summary = try converter.write(to: output, progress: progress)
        return Outcome(converter: converter, summary: summary, smoothQuant: smoothQuantPlan, mixSearch: mixSearch)
    }

    /// A Hugging Face checkpoint keeps its stored precision: the type most 2-D weights have.
    static func storedPrecision(of source: any ConversionSource) throws -> QuantizationPreset {
        guard source is HuggingFaceSource else { throw InputError.noTypeForCheckpoint }
        let stored = Dictionary(grouping: source.tensors.filter { $0.shape.count >= 2 }, by: \.type).max { $0.value.count < $1.value.count }?.key ?? .F32
        return QuantizationPreset.named(stored.name) ?? QuantizationPreset.named("F32")!
    }

    /// Spends the file size (the recipe's target, or the preset's) on the measured options. The
    /// search's provenance keys and the tensors' alignment padding (and NF4_DQ's companions)
    /// also take bytes, so the tensor budget shrinks by whatever the whole file would exceed the
    /// size by, until it does not.
    private func allocateMix(_ measurement: MixSearch.Measurement, preset: ModelConverter, source: any ConversionSource,
                             options: inout ModelConverter.Options) throws -> (ModelConverter, MixSearch.Result) {
        options.extraMetadata += [.init("quantkit.mix_search.corpus", .string(measurement.corpusDescription)),
                                  .init("quantkit.mix_search.tokens", .uint32(UInt32(clamping: measurement.tokens)))]
        let limit = recipe.targetSize ?? preset.plannedSummary.fileBytes
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

    /// Tuned SmoothQuant: α per layer and site chosen by the model's measured W8A8 divergence.
    private func tuneSmoothQuant(source: any ConversionSource, statistics: ActivationStatistics, sites: [SmoothingSite],
                                 metadata: inout [GGUFKeyValue], events: (Event) -> Void) throws -> SmoothQuantPlan {
        let (model, corpus) = try calibrationRun()
        let outcome = try SmoothQuantTuning.tune(source: source, statistics: statistics, model: model, corpus: corpus,
                                                 sites: sites, threads: threads) { done, total, label in
            events(.progress(stage: .smoothQuantTuning, done: done, total: total, label: label))
        }
        events(.smoothQuantTuning(outcome, corpus: corpus))
        metadata += [.init("quantkit.smoothquant.tuning_corpus", .string(corpus.description)),
                     .init("quantkit.smoothquant.tuning_tokens", .uint32(UInt32(clamping: corpus.tokenCount)))]
        return outcome.plan
    }

    /// The input model and the calibration sequences it runs over (the recipe's text, or data-free).
    private func calibrationRun() throws -> (LlamaModel, CalibrationCorpus) {
        let calibration = recipe.calibration ?? .init()
        let model = try LlamaModel(path: input)
        model.threads = threads
        let context = min(calibration.tokens, 512, model.configuration.contextLength)
        return (model, try CalibrationCorpus.forRun(model: model, text: calibration.text, tokens: calibration.tokens, context: context,
                                                    seed: calibration.seed))
    }
}

/// Opening a conversion input by path.
public enum ConversionSources {
    /// A GGUF file, or a Hugging Face folder (or a file inside one).
    public static func open(_ path: String) throws -> any ConversionSource {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FormatError(file: path, .cannotOpen(errno: ENOENT))
        }
        if isDirectory.boolValue { return try HuggingFaceSource(folder: path) }
        if try ModelFileKind.detect(path: path) == .gguf { return GGUFSource(file: try GGUFFile(path: path)) }
        let folder = (path as NSString).deletingLastPathComponent
        return try HuggingFaceSource(folder: folder.isEmpty ? "." : folder)
    }
}
