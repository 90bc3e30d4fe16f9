import QuantFormats

/// NF4 — QuantKit's GGUF extension carrying bitsandbytes' NF4 (blocksize 64), 4.5 bpw:
///   absmax: f32 | qs: 32 bytes, element 2k in the HIGH nibble of byte k, 2k+1 in the low one.
///   x = nf4[q]·absmax.
/// The plain quantizer is bitsandbytes' `quantize_4bit` (absmax = max|x|, nearest code), byte for
/// byte; the importance-weighted one searches each block's scale instead (see `quantizeBlock`).
public enum NF4Codec: BlockCodec {
    public static let type = GGMLType.NF4
    public static let fallbackType: GGMLType? = .IQ4_NL
    public static let fields = [BlockField("absmax", 0, 4), BlockField("qs", 4, 32)]
    static let blockElements = 64
    static let blockBytes = 36

    static let code = BnB4BitType.nf4.code
    /// Midpoints of neighbouring codes (f32 means, as bitsandbytes compares against them).
    static let midpoints: [Float] = (1..<16).map { (code[$0 - 1] + code[$0]) / 2 }
    /// The code of 0 (index 7), what an all-zero block stores.
    static let zeroIndex = UInt8(7)

    /// bitsandbytes' nearest NF4 code for a scaled value in [−1, 1]: the number of midpoints
    /// strictly below it (the code is sorted, so this is its index; a tie takes the lower code).
    @inline(__always)
    static func nearest(_ v: Float, _ midpoints: UnsafePointer<Float>) -> UInt8 {
        var index = 0
        var step = 8
        while step > 0 {
            if index + step <= 15 && midpoints[index + step - 1] < v { index += step }
            step >>= 1
        }
        return UInt8(index)
    }

    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        midpoints.withUnsafeBufferPointer { mids in
            for block in 0..<count / blockElements {
                let xb = x + block * blockElements, out = blocks + block * blockBytes
                var amax: Float = 0
                for j in 0..<blockElements { amax = max(amax, abs(xb[j])) }
                out.storeFloat(amax, at: 0)
                packNearestCodes(xb, scale: amax, midpoints: mids.baseAddress!, into: out + 4)
            }
        }
    }

    /// The 32 code bytes of one block: each value's nearest code at `scale` (clamped to ±1),
    /// pairs packed high nibble first. A zero scale gives the code of 0 (x·0 rounds to it).
    @inline(__always)
    static func packNearestCodes(_ x: UnsafePointer<Float>, scale: Float, midpoints: UnsafePointer<Float>, into out: UnsafeMutableRawPointer) {
        let inverse = scale > 0 ? 1 / scale : 0
        for k in 0..<blockElements / 2 {
            let high = nearest(min(1, max(-1, x[2 * k] * inverse)), midpoints)
            let low = nearest(min(1, max(-1, x[2 * k + 1] * inverse)), midpoints)
            out.storeByte(high << 4 | low, at: k)
        }
    }

    /// Calibrated NF4: per block, the scale that minimises the importance-weighted squared error
    /// Σ wⱼ(xⱼ − s·nf4[qⱼ])² with wⱼ = importanceⱼ (mean x² of input column j: the layer's
    /// expected output error). Trial scales from 1.04·absmax down to 0.66·absmax (shrinking lets
    /// outliers clip to ±1 so the dense middle gets finer steps); for each, codes are the nearest
    /// and the scale is refitted by weighted least squares; the best is re-rounded once more at
    /// its refitted scale. Never worse than absmax on the weighted error.
    ///
    /// Measured on the test bed (wikitext-2, 4 chunks): PPL 25.13 with these weights, 25.69 with
    /// llama.cpp's IQ4_NL weighting importance·√(σ² + x²), 28.69 for bitsandbytes' absmax.
    public static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>,
                                   into blocks: UnsafeMutableRawPointer) {
        var weight = [Float](repeating: 0, count: blockElements)
        var codes = [UInt8](repeating: 0, count: blockElements)
        midpoints.withUnsafeBufferPointer { mids in
            code.withUnsafeBufferPointer { values in
                for block in 0..<count / blockElements {
                    let xb = x + block * blockElements, wb = importance + block * blockElements
                    for j in 0..<blockElements { weight[j] = wb[j] }
                    let scale = searchScale(xb, weight: weight, codes: &codes, midpoints: mids.baseAddress!, code: values.baseAddress!)
                    store(scale: scale, codes: codes, into: blocks + block * blockBytes)
                }
            }
        }
    }

    /// Trial scale factors of the calibrated search.
    static let trialFactors: [Float] = (0..<20).map { 1.04 - 0.02 * Float($0) }

    /// The weighted-error-minimising scale of one block and its codes (see `quantizeRow(importance:)`).
    static func searchScale(_ x: UnsafePointer<Float>, weight: [Float], codes: inout [UInt8],
                            midpoints: UnsafePointer<Float>, code: UnsafePointer<Float>) -> Float {
        var amax: Float = 0
        for j in 0..<blockElements { amax = max(amax, abs(x[j])) }
        guard amax > 0 else {
            for j in 0..<blockElements { codes[j] = zeroIndex }
            return 0
        }
        // Codes rounded at `scale`: their least-squares scale Σwxc/Σwc² and the error it removes,
        // (Σwxc)²/Σwc² (the weighted error is Σwx² minus this gain).
        func fit(_ scale: Float, keep: Bool) -> (scale: Float, gain: Float) {
            let inverse = 1 / scale
            var sumQX: Float = 0, sumQ2: Float = 0
            for j in 0..<blockElements {
                let q = nearest(min(1, max(-1, x[j] * inverse)), midpoints)
                if keep { codes[j] = q }
                let c = code[Int(q)], wc = weight[j] * c
                sumQX += wc * x[j]
                sumQ2 += wc * c
            }
            guard sumQ2 > 0, sumQX > 0, (sumQX / sumQ2).isFinite else { return (scale, 0) }
            return (sumQX / sumQ2, sumQX * sumQX / sumQ2)
        }
        // Codes rounded at absmax (bitsandbytes' choice) with the refitted scale, then the trials;
        // a trial must be strictly better.
        var roundedAt = amax, best = fit(amax, keep: false)
        for factor in trialFactors {
            let trial = fit(amax * factor, keep: false)
            if trial.gain > best.gain { best = trial; roundedAt = amax * factor }
        }
        // One more round at the refitted scale.
        let polished = fit(best.scale, keep: false)
        if polished.gain > best.gain { roundedAt = best.scale; best = polished }
        _ = fit(roundedAt, keep: true)
        return best.scale
    }

    static func store(scale: Float, codes: [UInt8], into out: UnsafeMutableRawPointer) {
        out.storeFloat(scale, at: 0)
        for k in 0..<blockElements / 2 { out.storeByte(codes[2 * k] << 4 | codes[2 * k + 1], at: 4 + k) }
    }

    public static func dequantizeRow(_ blocks: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        code.withUnsafeBufferPointer { values in
            for block in 0..<count / blockElements {
                let b = blocks + block * blockBytes, yb = y + block * blockElements
                let absmax = b.loadFloat(at: 0)
                for k in 0..<blockElements / 2 {
                    let q = b.loadByte(at: 4 + k)
                    yb[2 * k] = values[Int(q >> 4)] * absmax
                    yb[2 * k + 1] = values[Int(q & 0xF)] * absmax
                }
            }
        }
    }
}
