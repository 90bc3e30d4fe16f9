import Inference

/// The unquantized model over the corpus: logits at every position of every sequence, and
/// the residual stream entering each block, so a variant whose first change is in block l
/// only runs blocks l… (on average half the model). The mix search and SmoothQuant's tuning
/// judge their variants against it.
struct ReferenceRun {
    let corpus: CalibrationCorpus
    let logits: [Float]
    /// [sequence][layer]: T × d floats.
    let residuals: [[[Float]]]

    init(model: LlamaModel, corpus: CalibrationCorpus) throws {
        self.corpus = corpus
        var logits: [Float] = [], residuals: [[[Float]]] = []
        logits.reserveCapacity(corpus.tokenCount * model.configuration.vocabularySize)
        for sequence in corpus.sequences {
            var stream = [[Float]](repeating: [], count: model.weights.layers.count + 1)
            logits += try model.forwardAll(sequence, state: try model.makeState(contextLength: sequence.count)) { stream[$0] = $1 }
            residuals.append(stream)
        }
        self.logits = logits
        self.residuals = residuals
    }

    /// `variant`'s logits over the corpus, where it equals the base model before block `layer`.
    func logits(of variant: LlamaModel, changingFrom layer: Int) throws -> [Float] {
        var all: [Float] = []
        all.reserveCapacity(logits.count)
        for (i, sequence) in corpus.sequences.enumerated() {
            let state = try variant.makeState(contextLength: sequence.count)
            all += try variant.forwardAll(sequence, state: state, entry: layer > 0 ? (layer, residuals[i][layer]) : nil)
        }
        return all
    }
}
