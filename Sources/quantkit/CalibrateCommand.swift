import ArgumentParser
import Foundation
import Inference
import QuantCalibration
import QuantFormats

struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Record activation statistics of a model over a calibration corpus (for convert --stats, --smoothquant).",
        discussion: """
        For every linear layer's input, per channel: mean x², max |x|; for every FFN neuron: the fraction of \
        tokens on which |activation| exceeds --active-threshold (a hot/cold neuron profile); and a uniform \
        sample of activation rows for SmoothQuant's α search. Without --calib, the corpus is data-free: \
        sequences the model samples itself, so calibration needs no download and never sees evaluation text. \
        The output is a zstd-compressed QuantKit statistics file with provenance (model and corpus SHA-256, tokens).
        """
    )

    @Argument(help: "A GGUF model (llama architecture), normally the F16/BF16 one you will convert.") var model: String
    @Option(name: .shortAndLong, help: "The statistics file to write.") var output: String
    @Option(help: "A calibration text file (default: data-free sequences sampled from the model).") var calib: String?
    @Option(help: "Tokens to calibrate on (default: 16384 from a text, 2048 data-free).") var tokens: Int?
    @Option(help: "Window length when reading a text.") var ctx = 512
    @Option(help: "Length of each data-free sequence.") var sampleLength = 128
    @Option(help: "Seed of the data-free sampler and of the row sample.") var seed: UInt64 = 1
    @Option(help: "Activation rows kept per SmoothQuant site (for --smoothquant auto).") var sampleRows = 128
    @Option(help: "|activation| above which an FFN neuron counts as active.") var activeThreshold: Float = 0.1
    @Flag(help: "Also record each layer input's mean xxᵀ, for convert --gptq (about 400 MB for SmolLM2-135M).") var hessian = false
    @Flag(help: "No progress output.") var quiet = false
    @Flag(help: "Print a summary as JSON.") var json = false
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try reportingErrors {
            guard tokens.map({ $0 > 0 }) ?? true, ctx > 1, sampleLength > 1, sampleRows >= 0 else {
                throw ValidationError("--tokens, --ctx and --sample-length must be positive")
            }
            try OutputPathGuard.check(output: output, inputs: [model] + [calib].compactMap { $0 })
            let llama = try LlamaModel(path: model)
            llama.threads = threads.count
            let start = Date()
            let corpus: CalibrationCorpus
            if let calib {
                corpus = try CalibrationCorpus.text(path: calib, tokenizer: llama.tokenizer, context: ctx, maxTokens: tokens ?? 16384)
            } else {
                let count = max(1, ((tokens ?? 2048) + sampleLength - 1) / sampleLength)
                var sampling: ProgressReporter?
                var previous = 0
                corpus = try CalibrationCorpus.sampled(from: llama, sequences: count, length: min(sampleLength, llama.configuration.contextLength),
                                                       seed: seed) { done, total in
                    if sampling == nil { sampling = ProgressReporter(total: total, totalBytes: UInt64(total), quiet: quiet, unit: .tokens) }
                    sampling?.step(done, bytes: UInt64(done - previous), label: "sampling the data-free corpus")
                    previous = done
                }
            }
            let collector = ActivationCollector(activeThreshold: activeThreshold, sampleRows: sampleRows,
                                                hessianSites: hessian ? [.attentionInput, .attentionOutputInput, .ffnInput, .ffnDownInput] : [],
                                                seed: seed)
            let progress = ProgressReporter(total: corpus.tokenCount, totalBytes: UInt64(corpus.tokenCount), quiet: quiet, unit: .tokens)
            var previous = 0
            let statistics = try Calibrator.run(model: llama, corpus: corpus, collector: collector) { done, _ in
                progress.step(done, bytes: UInt64(done - previous), label: "calibrating")
                previous = done
            }
            try ActivationStatisticsFile.write(statistics, to: output)
            let summary = Summary(output: output, entries: statistics.entries.count, seconds: Date().timeIntervalSince(start),
                                  provenance: statistics.provenance, coldNeuronFraction: Self.coldFraction(statistics))
            if json {
                try JSONOutput.print(summary)
            } else {
                print("wrote \(output): \(statistics.entries.count) sites, \(statistics.provenance.tokens) tokens in "
                      + "\(statistics.provenance.sequences) sequences (\(statistics.provenance.corpus)), "
                      + String(format: "%.1f s; FFN neurons active on < 1%% of tokens: %.1f%%", summary.seconds, 100 * summary.coldNeuronFraction))
            }
        }
    }

    struct Summary: Encodable {
        let output: String
        let entries: Int
        let seconds: Double
        let provenance: ActivationStatistics.Provenance
        /// Fraction of FFN neurons active on fewer than 1 % of tokens.
        let coldNeuronFraction: Double
        enum CodingKeys: String, CodingKey { case output, entries, seconds, provenance, coldNeuronFraction = "cold_neuron_fraction" }
    }

    static func coldFraction(_ statistics: ActivationStatistics) -> Double {
        let fractions = statistics.entries.values.compactMap(\.activeFraction).flatMap { $0 }
        return fractions.isEmpty ? 0 : Double(fractions.filter { $0 < 0.01 }.count) / Double(fractions.count)
    }
}
