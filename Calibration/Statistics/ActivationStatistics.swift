import Inference
import QuantFormats

/// What `quantkit calibrate` measured: for every linear layer's input (an `ActivationSite` of a
/// layer), per channel, the mean of x², the max |x|, for FFN neurons the fraction of tokens on
/// which they were active, and a sample of whole activation rows (SmoothQuant's α search
/// replays them). Keys are `ActivationSite.key(layer:)`.
public struct ActivationStatistics: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var columns: Int
        /// Mean of x² per column over the observed tokens (llama.cpp imatrix semantics).
        public var meanSquare: [Float]
        public var maxAbs: [Float]
        /// Fraction of tokens with |x| above the activity threshold, per column (FFN neurons only).
        public var activeFraction: [Float]?
        /// `sampleRows` activation rows (row-major, `columns` each), chosen uniformly over the corpus.
        public var samples: [Float]
        public var sampleRows: Int { columns == 0 ? 0 : samples.count / columns }
        /// Mean xxᵀ over the observed tokens (the layer-output Hessian up to a factor 2), upper
        /// triangle packed row by row: columns·(columns+1)/2 values. Only with `calibrate --hessian`.
        public var hessian: [Float]?

        public init(columns: Int, meanSquare: [Float], maxAbs: [Float], activeFraction: [Float]?, samples: [Float]) {
            self.columns = columns
            self.meanSquare = meanSquare
            self.maxAbs = maxAbs
            self.activeFraction = activeFraction
            self.samples = samples
        }
    }

    /// Where the numbers came from, written into the file and into converted models.
    public struct Provenance: Sendable, Equatable, Codable {
        public var model: String
        public var modelSHA256: String
        /// The corpus file, or "data-free: …" when sequences were sampled from the model.
        public var corpus: String
        public var corpusSHA256: String
        public var tokens: Int
        public var sequences: Int
        public var contextLength: Int
        /// |x| above which an FFN neuron counts as active.
        public var activeThreshold: Float
        public var tool: String

        public init(model: String, modelSHA256: String, corpus: String, corpusSHA256: String, tokens: Int, sequences: Int,
                    contextLength: Int, activeThreshold: Float, tool: String = "quantkit calibrate") {
            self.model = model
            self.modelSHA256 = modelSHA256
            self.corpus = corpus
            self.corpusSHA256 = corpusSHA256
            self.tokens = tokens
            self.sequences = sequences
            self.contextLength = contextLength
            self.activeThreshold = activeThreshold
            self.tool = tool
        }

        enum CodingKeys: String, CodingKey {
            case model, modelSHA256 = "model_sha256", corpus, corpusSHA256 = "corpus_sha256", tokens, sequences
            case contextLength = "ctx", activeThreshold = "active_threshold", tool
        }
    }

    public var provenance: Provenance
    public var entries: [String: Entry]

    public init(provenance: Provenance, entries: [String: Entry]) {
        self.provenance = provenance
        self.entries = entries
    }

    public func entry(_ site: ActivationSite, layer: Int) -> Entry? { entries[site.key(layer: layer)] }

    /// Per GGUF weight tensor, the mean x² of its input columns: what `quantize(weights:)` and
    /// llama.cpp's imatrix use to weigh rounding errors.
    public var importance: [String: [Float]] {
        var result: [String: [Float]] = [:]
        for (key, entry) in entries {
            guard let (site, layer) = Self.parse(key: key) else { continue }
            for name in site.tensorNames(layer: layer) { result[name] = entry.meanSquare }
        }
        return result
    }

    /// Per GGUF weight tensor, its input's mean xxᵀ (packed upper triangle), where calibrated.
    public var hessians: [String: [Float]] {
        var result: [String: [Float]] = [:]
        for (key, entry) in entries {
            guard let hessian = entry.hessian, let (site, layer) = Self.parse(key: key) else { continue }
            for name in site.tensorNames(layer: layer) { result[name] = hessian }
        }
        return result
    }

    /// The site and layer of a key written by `ActivationSite.key(layer:)`.
    static func parse(key: String) -> (ActivationSite, Int)? {
        if key == ActivationSite.outputInput.rawValue { return (.outputInput, 0) }
        let parts = key.split(separator: ".", maxSplits: 2)
        guard parts.count == 3, parts[0] == "blk", let layer = Int(parts[1]), layer >= 0,
              let site = ActivationSite(rawValue: String(parts[2])), site != .outputInput else { return nil }
        return (site, layer)
    }
}

extension ActivationStatistics {
    /// Keys written into a GGUF quantized with these statistics: llama-quantize's imatrix
    /// provenance keys (so tools that read them see where the importance came from) plus
    /// QuantKit's hashes of the model and corpus.
    public func provenanceMetadata(path: String) -> [GGUFKeyValue] {
        [
            .init("quantize.imatrix.file", .string(path)),
            .init("quantize.imatrix.dataset", .string(provenance.corpus)),
            .init("quantize.imatrix.entries_count", .uint32(UInt32(importance.count))),
            .init("quantize.imatrix.chunks_count", .uint32(UInt32(provenance.sequences))),
            .init("quantkit.calibration.model_sha256", .string(provenance.modelSHA256)),
            .init("quantkit.calibration.corpus_sha256", .string(provenance.corpusSHA256)),
            .init("quantkit.calibration.tokens", .uint32(UInt32(clamping: provenance.tokens))),
        ]
    }
}
