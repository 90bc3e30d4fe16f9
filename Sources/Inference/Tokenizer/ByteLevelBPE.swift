/// GPT-2's byte ↔ unicode mapping: every byte becomes a printable code point so that byte-level
/// BPE vocabularies are valid UTF-8 strings (bytes 33–126, 161–172, 174–255 map to themselves,
/// the other 68 to 256…323 in order).
public enum ByteUnicode {
    public static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    static let scalarToByte: [UInt32: UInt8] = Dictionary(uniqueKeysWithValues: byteToScalar.enumerated().map { ($1.value, UInt8($0)) })
}

/// Byte-level BPE (`tokenizer.ggml.model = gpt2`) as llama.cpp's `llm_tokenizer_bpe_session`:
/// pre-tokenize, map each piece's UTF-8 bytes through `ByteUnicode`, then repeatedly merge the
/// adjacent pair with the lowest merge rank (leftmost first on equal rank); symbols missing from
/// the vocabulary fall back to one token per byte.
struct ByteLevelBPE: TokenizerModel {
    let tokens: [String]
    let tokenIDs: [String: Int32]
    let mergeRanks: [String: Int]  // "left right" → rank
    let preTokenizer: PreTokenizer
    /// A piece that is itself a token becomes that token without merging (llama.cpp's
    /// `ignore_merges`, Llama 3's tokenizers).
    let ignoresMerges: Bool

    init(tokens: [String], merges: [String], preTokenizer: PreTokenizer, ignoresMerges: Bool = false) {
        self.tokens = tokens
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, token) in tokens.enumerated() where ids[token] == nil { ids[token] = Int32(i) }
        tokenIDs = ids
        var ranks: [String: Int] = [:]
        ranks.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() where ranks[merge] == nil { ranks[merge] = rank }
        mergeRanks = ranks
        self.preTokenizer = preTokenizer
        self.ignoresMerges = ignoresMerges
    }

    func encode(_ text: String) -> [Int32] {
        let scalars = Array(text.unicodeScalars)
        var output: [Int32] = []
        output.reserveCapacity(scalars.count / 3)
        var cache: [String: [Int32]] = [:]
        for piece in preTokenizer.split(scalars) {
            var word = String.UnicodeScalarView()
            for scalar in scalars[piece] {
                for byte in String(scalar).utf8 { word.append(ByteUnicode.byteToScalar[Int(byte)]) }
            }
            let key = String(word)
            if let cached = cache[key] {
                output.append(contentsOf: cached)
                continue
            }
            let ids = ignoresMerges ? tokenIDs[key].map { [$0] } ?? encodeWord(key) : encodeWord(key)
            if cache.count < 100_000 { cache[key] = ids }
            output.append(contentsOf: ids)
        }
        return output
    }

    /// Merges one pre-tokenized, byte-mapped word.
    private func encodeWord(_ word: String) -> [Int32] {
        var symbols = word.unicodeScalars.map { String($0) }
        // Repeatedly merge the best-ranked adjacent pair. Words are short (a few symbols), so a
        // linear scan per merge is faster than a heap and gives the same order: lowest rank, then
        // leftmost.
        while symbols.count > 1 {
            var bestRank = Int.max, bestIndex = -1
            for i in 0..<(symbols.count - 1) {
                if let rank = mergeRanks[symbols[i] + " " + symbols[i + 1]], rank < bestRank {
                    bestRank = rank
                    bestIndex = i
                }
            }
            if bestIndex < 0 { break }
            symbols[bestIndex] += symbols[bestIndex + 1]
            symbols.remove(at: bestIndex + 1)
        }
        var ids: [Int32] = []
        for symbol in symbols {
            if let id = tokenIDs[symbol] {
                ids.append(id)
            } else {
                // Byte fallback: each byte's own (mapped) token.
                for scalar in symbol.unicodeScalars {
                    if let id = tokenIDs[String(scalar)] { ids.append(id) }
                }
            }
        }
        return ids
    }

    /// The text of tokens, bytes restored.
    func decode(_ ids: [Int32]) -> String {
        var bytes: [UInt8] = []
        for id in ids where id >= 0 && Int(id) < tokens.count {
            for scalar in tokens[Int(id)].unicodeScalars {
                if let byte = ByteUnicode.scalarToByte[scalar.value] { bytes.append(byte) } else { bytes.append(contentsOf: String(scalar).utf8) }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
