import CBLAS
import Inference

/// Accumulates `ActivationStatistics` while the model runs over a calibration corpus (it is the
/// model's `ActivationObserver`). Sums are kept in Double; sample rows are a reservoir sample
/// (Algorithm R, seeded) so they are spread uniformly over the whole corpus. At `hessianSites`
/// it also accumulates Σ xxᵀ over every token (OpenBLAS `ssyrk`, upper triangle): the second
/// moment GPTQ-style error compensation needs.
public final class ActivationCollector: ActivationObserver {
    public let activeThreshold: Float
    public let sampleRows: Int
    /// Sites whose rows are sampled (SmoothQuant's α search replays them).
    public let sampledSites: Set<ActivationSite>
    /// Sites whose full second moment is accumulated.
    public let hessianSites: Set<ActivationSite>

    private struct Accumulator {
        var columns: Int
        var tokens = 0
        var sumSquares: [Double]
        var maxAbs: [Float]
        var activeCounts: [Int]?
        var samples: [Float] = []
        var seen = 0
        /// Σ xxᵀ, row-major columns × columns, upper triangle valid.
        var secondMoment: [Float]?
    }
    private var accumulators: [String: Accumulator] = [:]
    private var random: SplitMix64

    public init(activeThreshold: Float = 0.1, sampleRows: Int = 128,
                sampledSites: Set<ActivationSite> = [.attentionInput, .ffnInput, .ffnDownInput, .attentionOutputInput],
                hessianSites: Set<ActivationSite> = [], seed: UInt64 = 0x5eed) {
        self.activeThreshold = activeThreshold
        self.sampleRows = sampleRows
        self.sampledSites = sampledSites
        self.hessianSites = hessianSites
        random = SplitMix64(seed: seed)
    }

    public func observe(_ site: ActivationSite, layer: Int, values: UnsafeBufferPointer<Float>, tokens: Int, width: Int) {
        let key = site.key(layer: layer)
        var a = accumulators[key] ?? Accumulator(columns: width, sumSquares: .init(repeating: 0, count: width),
                                                 maxAbs: .init(repeating: 0, count: width),
                                                 activeCounts: site == .ffnDownInput ? .init(repeating: 0, count: width) : nil)
        precondition(a.columns == width, "activation width changed for \(key)")
        accumulators[key] = nil  // unique ownership: the arrays below are mutated in place
        let x = values.baseAddress!
        a.sumSquares.withUnsafeMutableBufferPointer { sum in
            a.maxAbs.withUnsafeMutableBufferPointer { peak in
                for t in 0..<tokens {
                    let row = x + t * width
                    for j in 0..<width {
                        let v = row[j]
                        sum[j] += Double(v * v)
                        peak[j] = max(peak[j], abs(v))
                    }
                }
            }
        }
        if a.activeCounts != nil {
            for t in 0..<tokens {
                let row = x + t * width
                for j in 0..<width where abs(row[j]) > activeThreshold { a.activeCounts![j] += 1 }
            }
        }
        if sampledSites.contains(site) && sampleRows > 0 {
            for t in 0..<tokens {
                let row = UnsafeBufferPointer(start: x + t * width, count: width)
                if a.seen < sampleRows {
                    a.samples.append(contentsOf: row)
                } else {
                    let slot = Int(random.next() % UInt64(a.seen + 1))
                    if slot < sampleRows { a.samples.replaceSubrange(slot * width ..< (slot + 1) * width, with: row) }
                }
                a.seen += 1
            }
        }
        if hessianSites.contains(site) {
            if a.secondMoment == nil { a.secondMoment = [Float](repeating: 0, count: width * width) }
            a.secondMoment!.withUnsafeMutableBufferPointer { h in
                // C(upper) += Aᵀ·A with A = the tokens × width activation rows.
                cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(width), Int32(tokens), 1, x, Int32(width), 1, h.baseAddress, Int32(width))
            }
        }
        a.tokens += tokens
        accumulators[key] = a
    }

    /// Tokens seen at the blocks' sites (every site of every layer sees each token once).
    public var tokenCount: Int { accumulators[ActivationSite.attentionInput.key(layer: 0)]?.tokens ?? 0 }

    public func statistics(provenance: ActivationStatistics.Provenance) -> ActivationStatistics {
        var entries: [String: ActivationStatistics.Entry] = [:]
        for (key, a) in accumulators {
            let n = Double(max(a.tokens, 1))
            var entry = ActivationStatistics.Entry(columns: a.columns, meanSquare: a.sumSquares.map { Float($0 / n) }, maxAbs: a.maxAbs,
                                                   activeFraction: a.activeCounts.map { $0.map { Float(Double($0) / n) } }, samples: a.samples)
            if let moment = a.secondMoment {
                var packed: [Float] = []
                packed.reserveCapacity(a.columns * (a.columns + 1) / 2)
                for i in 0..<a.columns { for j in i..<a.columns { packed.append(Float(Double(moment[i * a.columns + j]) / n)) } }
                entry.hessian = packed
            }
            entries[key] = entry
        }
        return ActivationStatistics(provenance: provenance, entries: entries)
    }
}
