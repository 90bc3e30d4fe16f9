import Foundation
import Inference
import QuantFormats

/// Runs a model over a calibration corpus and returns what it observed at every linear layer's
/// input. Every position's activations are recorded (all rows, the output head's too).
public enum Calibrator {
    public static func run(model: LlamaModel, corpus: CalibrationCorpus, collector: ActivationCollector = ActivationCollector(),
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> ActivationStatistics {
        let longest = corpus.sequences.map(\.count).max() ?? 0
        guard longest > 0 else { throw InferenceError.textTooShort(tokens: 0, needed: 1) }
        let state = try model.makeState(contextLength: longest)
        model.observer = collector
        defer { model.observer = nil }
        var done = 0
        for sequence in corpus.sequences {
            state.reset()
            _ = try model.forward(sequence, state: state, outputs: 0 ..< sequence.count)
            done += sequence.count
            progress(done, corpus.tokenCount)
        }
        let modelHash = try MappedFile(path: model.file.path).withBytes { SHA256.hex($0) }
        let provenance = ActivationStatistics.Provenance(
            model: (model.file.path as NSString).lastPathComponent, modelSHA256: modelHash, corpus: corpus.description,
            corpusSHA256: corpus.sha256, tokens: collector.tokenCount, sequences: corpus.sequences.count,
            contextLength: longest, activeThreshold: collector.activeThreshold)
        return collector.statistics(provenance: provenance)
    }
}
