/// Bit packings shared by several K-quant codecs (ggml-common.h layouts).
enum KQuantPacking {
    /// 2-bit levels of a 256-element super-block: byte j/4 + l of each 128-half holds elements
    /// l, l+32, l+64, l+96 in bits 0-1, 2-3, 4-5, 6-7 (Q2_K and Q3_K `qs`).
    static func pack2Bit(_ levels: UnsafePointer<UInt8>, into out: UnsafeMutableRawPointer, at offset: Int) {
        for half in stride(from: 0, to: 256, by: 128) {
            for l in 0..<32 {
                let byte = levels[half + l] | levels[half + l + 32] << 2 | levels[half + l + 64] << 4 | levels[half + l + 96] << 6
                out.storeByte(byte, at: offset + half / 4 + l)
            }
        }
    }

    /// Q4_K/Q5_K 6-bit scale and min of sub-block j from the 12-byte `scales` field
    /// (`get_scale_min_k4`).
    @inline(__always)
    static func scaleMin(_ j: Int, _ q: UnsafeRawPointer) -> (scale: UInt8, min: UInt8) {
        if j < 4 { return (q.loadByte(at: j) & 63, q.loadByte(at: j + 4) & 63) }
        let scale = (q.loadByte(at: j + 4) & 0xF) | (q.loadByte(at: j - 4) >> 6) << 4
        let min = (q.loadByte(at: j + 4) >> 4) | (q.loadByte(at: j) >> 6) << 4
        return (scale, min)
    }

    /// Writes eight 6-bit scales and mins into the 12-byte `scales` field (inverse of `scaleMin`).
    static func storeScaleMins(_ scales: [UInt8], _ mins: [UInt8], into out: UnsafeMutableRawPointer, at offset: Int) {
        for j in 0..<8 {
            let ls = scales[j], lm = mins[j]
            if j < 4 {
                out.storeByte(ls, at: offset + j)
                out.storeByte(lm, at: offset + j + 4)
            } else {
                out.storeByte((ls & 0xF) | (lm & 0xF) << 4, at: offset + j + 4)
                out.storeByte(out.load(fromByteOffset: offset + j - 4, as: UInt8.self) | (ls >> 4) << 6, at: offset + j - 4)
                out.storeByte(out.load(fromByteOffset: offset + j, as: UInt8.self) | (lm >> 4) << 6, at: offset + j)
            }
        }
    }

    /// Q3_K's signed 6-bit scale j from its 12-byte `scales` field.
    @inline(__always)
    static func q3Scale(_ j: Int, _ q: UnsafeRawPointer) -> Int32 {
        let low = j < 8 ? q.loadByte(at: j) & 0xF : q.loadByte(at: j - 8) >> 4
        let high = (q.loadByte(at: 8 + j % 4) >> (2 * (j / 4))) & 3
        return Int32(low | high << 4) - 32
    }

    /// Stores Q3_K's 16 6-bit scale codes (0…63) into the 12 zeroed bytes at `offset`.
    static func storeQ3Scales(_ codes: [Int32], into out: UnsafeMutableRawPointer, at offset: Int) {
        for k in 0..<12 { out.storeByte(0, at: offset + k) }
        for j in 0..<16 {
            let l = UInt8(truncatingIfNeeded: codes[j])
            if j < 8 {
                out.storeByte(l & 0xF, at: offset + j)
            } else {
                out.storeByte(out.load(fromByteOffset: offset + j - 8, as: UInt8.self) | (l & 0xF) << 4, at: offset + j - 8)
            }
            let high = (l >> 4) << (2 * (j / 4))
            out.storeByte(out.load(fromByteOffset: offset + j % 4 + 8, as: UInt8.self) | high, at: offset + j % 4 + 8)
        }
    }
}
