import Foundation
import Inference
import QuantCalibration
import QuantConversion
import QuantFormats

/// The work one model's recipes share, each piece done at most once and only when a job needs it:
/// the input's hash, an unquantized GGUF of a Hugging Face folder (for recipes that run the model
/// and for the base side of KLD), calibration statistics per (text, tokens, seed), and the base
/// model's logits over the evaluation text (kept in memory for the model's jobs).
final class ModelWork {
    let model: BatchManifest.Model
    let manifest: BatchManifest
    let threads: Int
    private let events: (BatchEvent) -> Void
    private var inputHash: String?
    private var fileHashes: [String: String] = [:]
    private var baseGGUFPath: String?
    private var statisticsFiles: [String: String] = [:]
    private var base: BaseLogits?

    init(model: BatchManifest.Model, manifest: BatchManifest, threads: Int, events: @escaping (BatchEvent) -> Void) {
        self.model = model
        self.manifest = manifest
        self.threads = threads
        self.events = events
    }

    var folder: String { (manifest.output as NSString).appendingPathComponent(model.name) }
    var cacheFolder: String { (folder as NSString).appendingPathComponent(".shared") }

    func hash(_ path: String) throws -> String {
        if let known = fileHashes[path] { return known }
        let hash = try Fingerprint.of(path)
        fileHashes[path] = hash
        return hash
    }

    func provenance(of job: BatchJob) throws -> JobProvenance {
        if inputHash == nil {
            events(.progress(model: model.name, job: nil, stage: .hashing, done: 0, total: 1))
            inputHash = try hash(model.path)
        }
        let recipe = job.recipe.recipe
        var files: [String: String] = [:]
        for path in [recipe.imatrix, recipe.calibration?.text, job.recipe.calibratesStatistics ? nil : recipe.stats].compactMap({ $0 }) {
            files[path] = try hash(path)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let recipeText = String(decoding: try encoder.encode(recipe), as: UTF8.self)
            + (job.recipe.calibratesStatistics ? " statistics_tokens=\(job.recipe.statisticsTokens)" : "")
        let conversion = JobProvenance.Conversion(inputSHA256: inputHash!, recipe: recipeText,
                                                  files: files, toolVersion: QuantKitVersion.current)
        let evaluation = try manifest.evaluation.map {
            JobProvenance.Evaluation(textSHA256: try hash($0.text), chunks: $0.chunks, context: $0.context, kld: $0.kld,
                                     generationTokens: $0.generationTokens)
        }
        return JobProvenance(conversion: conversion, evaluation: evaluation)
    }

    /// Converts `job` into its output (atomically); returns the wall time.
    func convert(_ job: BatchJob) throws -> Double {
        var recipe = job.recipe.recipe
        if job.recipe.calibratesStatistics {
            recipe = job.recipe.resolved(statistics: try statistics(recipe.calibration ?? .init(), tokens: job.recipe.statisticsTokens))
        }
        let input = recipe.runsModel ? try ggufInput() : model.path
        var pipeline = try ConversionPipeline(recipe: recipe, input: input)
        pipeline.threads = threads
        let start = Date()
        var tensors = 0
        _ = try pipeline.run(output: job.outputPath, events: { event in
            switch event {
            case let .writing(count, _): tensors = count
            case let .progress(stage, done, total, _):
                self.events(.progress(model: self.model.name, job: job.id, stage: stage == .mixSearch ? .mixSearch : .smoothQuantTuning,
                                      done: done, total: total))
            default: break
            }
        }, progress: { index, _ in
            self.events(.progress(model: self.model.name, job: job.id, stage: .converting, done: index + 1, total: max(tensors, index + 1)))
        })
        return Date().timeIntervalSince(start)
    }

    /// Perplexity (and KLD against the base) of the job's file, and its generation speed.
    func evaluate(_ job: BatchJob, into result: inout BatchResult) throws {
        guard let evaluation = manifest.evaluation else { return }
        let variant = try LlamaModel(path: job.outputPath)
        variant.threads = threads
        let report: (Int, Int) -> Void = { done, total in
            self.events(.progress(model: self.model.name, job: job.id, stage: .evaluating, done: done, total: total))
        }
        if evaluation.kld {
            let base = try baseLogits(evaluation)
            let kld = try KLDivergence.evaluate(base: base, model: variant) { done, total, _ in report(done, total) }
            result.quality = VariantEvaluation.quality(kld)
            result.timings.evaluationTokensPerSecond = Double(base.windows.count * base.context) / max(kld.seconds, 1e-9)
        } else {
            let text = try MappedFile.readText(path: evaluation.text)
            let ppl = try Perplexity.evaluate(model: variant, text: text, context: evaluation.context, maxChunks: evaluation.chunks) {
                chunk, total in report(chunk.index + 1, total)
            }
            result.quality = VariantEvaluation.quality(ppl)
            result.timings.evaluationTokensPerSecond = ppl.tokensPerSecond
        }
        result.tensorErrors = try VariantEvaluation.tensorErrors(file: job.outputPath, base: try ggufInput(), threads: threads)
        if evaluation.generationTokens > 0 {
            events(.progress(model: model.name, job: job.id, stage: .generating, done: 0, total: evaluation.generationTokens))
            result.timings.generationTokensPerSecond = try VariantEvaluation.generationSpeed(variant, tokens: evaluation.generationTokens)
        }
    }

    /// The hot/cold profile of the statistics `job` was made with (`BatchResult.neuronActivity`),
    /// nil unless the batch recorded them.
    func neuronActivity(_ job: BatchJob) throws -> [[Double]]? {
        guard job.recipe.calibratesStatistics else { return nil }
        let statistics = try ActivationStatisticsFile.read(path: try statistics(job.recipe.recipe.calibration ?? .init(), tokens: job.recipe.statisticsTokens))
        var profile: [[Double]] = []
        for layer in 0... {
            guard let active = statistics.entry(.ffnDownInput, layer: layer)?.activeFraction, !active.isEmpty else { break }
            let sorted = active.sorted()
            profile.append([0.1, 0.5, 0.9].map { Double(sorted[Int($0 * Double(sorted.count - 1))]) })
        }
        return profile
    }

    /// The input as a GGUF: itself, or the Hugging Face folder converted once at its stored precision.
    func ggufInput() throws -> String {
        if try ModelFileKind.detect(path: model.path) == .gguf { return model.path }
        if let baseGGUFPath { return baseGGUFPath }
        let path = (cacheFolder as NSString).appendingPathComponent("base.gguf")
        if !FileManager.default.fileExists(atPath: path) {
            events(.progress(model: model.name, job: nil, stage: .preparingBase, done: 0, total: 1))
            try FileManager.default.createDirectory(atPath: cacheFolder, withIntermediateDirectories: true)
            var pipeline = try ConversionPipeline(recipe: ConversionRecipe(), input: model.path)
            pipeline.threads = threads
            _ = try pipeline.run(output: path)
        }
        baseGGUFPath = path
        return path
    }

    /// `stats: calibrate`: statistics recorded over the calibration text once per model and
    /// settings, kept under `.shared/` (named by the input, text, tokens and seed).
    func statistics(_ calibration: ConversionRecipe.Calibration, tokens: Int) throws -> String {
        let key = Fingerprint.of(text: "\(inputHash ?? "")|\(try calibration.text.map(hash) ?? "data-free")|\(tokens)|\(calibration.seed)")
        if let known = statisticsFiles[key] { return known }
        let path = (cacheFolder as NSString).appendingPathComponent("statistics-\(key.prefix(16)).qkstats")
        if !FileManager.default.fileExists(atPath: path) {
            let llama = try LlamaModel(path: try ggufInput())
            llama.threads = threads
            let corpus = try CalibrationCorpus.forRun(model: llama, text: calibration.text, tokens: tokens,
                                                      context: min(512, llama.configuration.contextLength), seed: calibration.seed)
            let statistics = try Calibrator.run(model: llama, corpus: corpus) { done, total in
                self.events(.progress(model: self.model.name, job: nil, stage: .calibrating, done: done, total: total))
            }
            try FileManager.default.createDirectory(atPath: cacheFolder, withIntermediateDirectories: true)
            try ActivationStatisticsFile.write(statistics, to: path)
        }
        statisticsFiles[key] = path
        return path
    }

    /// The base model's logits over the evaluation text, computed once for all of the model's jobs
    /// and cached zstd-compressed under `.shared/base-logits-KEY/` (KEY: input, text, windows,
    /// version), so a resumed batch or another shard on the same folder reads them back instead.
    /// The cached floats are the computed ones bit for bit, so the KLD is the streaming `kld`'s.
    func baseLogits(_ evaluation: BatchManifest.Evaluation) throws -> BaseLogits {
        if let base { return base }
        let model = try LlamaModel(path: try ggufInput())
        model.threads = threads
        let text = try MappedFile.readText(path: evaluation.text)
        let made = try BaseLogits(model: model, text: text, context: evaluation.context, maxChunks: evaluation.chunks, keepingLogits: true)
        let key = Fingerprint.of(text: "\(try hash(model.file.path))|\(try hash(evaluation.text))|\(evaluation.context)|\(evaluation.chunks)|\(QuantKitVersion.current)")
        let cache = (cacheFolder as NSString).appendingPathComponent("base-logits-\(key.prefix(16))")
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let state = try model.makeState(contextLength: made.context)
        let rowFloats = made.scored.count * model.configuration.vocabularySize
        for index in made.windows.indices {
            events(.progress(model: self.model.name, job: nil, stage: .baseLogits, done: index, total: made.windows.count))
            let path = (cache as NSString).appendingPathComponent("\(index).f32.zst")
            if let bytes = try? MappedFile(path: path).withBytes({ try Zstd.decompress($0, file: path) }), bytes.count == 4 * rowFloats {
                made.keep(bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }, window: index)
                continue
            }
            let logits = try made.logits(window: index, state: state)
            let writer = try AtomicFileWriter(destination: path)
            try writer.write(Zstd.compress(logits.withUnsafeBytes { Array($0) }, level: 1))
            try writer.commit()
        }
        base = made
        return made
    }
}
