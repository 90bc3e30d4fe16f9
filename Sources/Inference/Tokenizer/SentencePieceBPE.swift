import Foundation

/// SentencePiece-style tokenization (`tokenizer.ggml.model = llama`) as llama.cpp's
/// `llm_tokenizer_spm_session` does it: spaces become ▁ (with one ▁ in front when the vocabulary
/// adds a space prefix), the text is split into UTF-8 characters, and the adjacent pair whose
/// concatenation is a token with the highest score is merged (leftmost first on equal scores)
/// until no pair is a token. A final symbol that is not a token is split back along the merges
/// that built it, and what still is not a token becomes byte tokens `<0xXX>`.
struct SentencePieceBPE: TokenizerModel {
    static let spaceMarker = "\u{2581}"

    let tokens: [String]
    let scores: [Float]
    let types: [Int32]
    let tokenIDs: [String: Int32]
    let addsSpacePrefix: Bool
    /// `<0xXX>` token per byte (nil: no byte token; llama.cpp then looks the byte up as text).
    let byteTokens: [Int32?]

    /// llama.cpp token types (`llama_token_type`).
    enum TokenType {
        static let unknown: Int32 = 2, control: Int32 = 3, byte: Int32 = 6
    }

    init(tokens: [String], scores: [Float], types: [Int32], addsSpacePrefix: Bool) {
        self.tokens = tokens
        self.scores = scores
        self.types = types
        self.addsSpacePrefix = addsSpacePrefix
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, token) in tokens.enumerated() where ids[token] == nil { ids[token] = Int32(i) }
        tokenIDs = ids
        byteTokens = (0..<256).map { byte in
            ids["<0x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2) + ">"]
                ?? ids[String(decoding: [UInt8(byte)], as: UTF8.self)]
        }
    }

    /// One symbol of the merge: a byte range of the escaped text, linked to its neighbours.
    private struct Symbol {
        var start: Int
        var count: Int
        var previous: Int
        var next: Int
    }

    private struct Bigram: Comparable {
        let left: Int
        let right: Int
        let score: Float
        let size: Int
        /// Max-heap order of llama.cpp's queue: higher score first, then the leftmost.
        static func < (a: Bigram, b: Bigram) -> Bool { a.score < b.score || (a.score == b.score && a.left > b.left) }
    }

    /// The text is one fragment that starts the prompt, so it gets the space prefix.
    func encode(_ text: String) -> [Int32] { encode(text, spacePrefix: true) }

    func encode(_ text: String, spacePrefix: Bool) -> [Int32] {
        // llama.cpp makes no fragment of an empty text, so it gets no space prefix either.
        guard !text.isEmpty else { return [] }
        let prefixed = (spacePrefix && addsSpacePrefix ? " " : "") + text
        let bytes = Array(prefixed.replacingSpaces(with: Self.spaceMarker).utf8)
        guard !bytes.isEmpty else { return [] }
        var symbols: [Symbol] = []
        var offset = 0
        while offset < bytes.count {
            let length = min(bytes.count - offset, Self.utf8Length(bytes[offset]))
            symbols.append(Symbol(start: offset, count: length, previous: symbols.count - 1, next: offset + length == bytes.count ? -1 : symbols.count + 1))
            offset += length
        }
        var queue = Heap<Bigram>()
        var reverseMerges: [String: (Int, Int)] = [:]
        func piece(_ start: Int, _ count: Int) -> String { String(decoding: bytes[start..<(start + count)], as: UTF8.self) }
        func tryAddBigram(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let merged = piece(symbols[left].start, symbols[left].count + symbols[right].count)
            guard let id = tokenIDs[merged] else { return }
            queue.push(Bigram(left: left, right: right, score: scores[Int(id)], size: merged.utf8.count))
            reverseMerges[merged] = (left, right)
        }
        for i in 1..<symbols.count { tryAddBigram(i - 1, i) }
        while let bigram = queue.pop() {
            let (l, r) = (bigram.left, bigram.right)
            // Stale: a side was merged away or grew since the pair was queued.
            guard symbols[l].count > 0, symbols[r].count > 0, symbols[l].count + symbols[r].count == bigram.size else { continue }
            symbols[l].count += symbols[r].count
            symbols[r].count = 0
            symbols[l].next = symbols[r].next
            if symbols[r].next >= 0 { symbols[symbols[r].next].previous = l }
            tryAddBigram(symbols[l].previous, l)
            tryAddBigram(l, symbols[l].next)
        }
        var ids: [Int32] = []
        func resegment(_ index: Int) {
            let symbol = symbols[index]
            let text = piece(symbol.start, symbol.count)
            if let id = tokenIDs[text] { ids.append(id); return }
            if let (left, right) = reverseMerges[text] {
                resegment(left)
                resegment(right)
                return
            }
            for byte in bytes[symbol.start..<(symbol.start + symbol.count)] {
                if let id = byteTokens[Int(byte)] { ids.append(id) }
            }
        }
        var i = 0
        while i != -1 {
            resegment(i)
            i = symbols[i].next
        }
        return ids
    }

    /// The text of tokens as llama.cpp's `token_to_piece` renders them (▁ → space, byte tokens
    /// → their byte, control tokens → nothing), with the space prefix removed from the start.
    func decode(_ ids: [Int32]) -> String {
        var bytes: [UInt8] = []
        for id in ids where id >= 0 && Int(id) < tokens.count {
            let token = tokens[Int(id)]
            switch types[Int(id)] {
            case TokenType.control: continue
            case TokenType.byte:
                if token.hasPrefix("<0x"), token.hasSuffix(">"), let byte = UInt8(token.dropFirst(3).dropLast(), radix: 16) { bytes.append(byte) }
            case TokenType.unknown: bytes.append(contentsOf: "\u{2585}".utf8)
            default: bytes.append(contentsOf: token.replacingOccurrences(of: Self.spaceMarker, with: " ").utf8)
            }
        }
        if addsSpacePrefix, bytes.first == UInt8(ascii: " ") { bytes.removeFirst() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// llama.cpp's `unicode_len_utf8`: the sequence length a lead byte announces (1 for a stray
    /// continuation byte).
    static func utf8Length(_ byte: UInt8) -> Int {
        let lookup = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4]
        return lookup[Int(byte >> 4)]
    }
}

/// A binary max-heap (llama.cpp uses `std::priority_queue`; only the pop order matters, and the
/// comparator fully orders distinct bigrams, so any correct heap pops the same sequence).
struct Heap<Element: Comparable> {
    private var items: [Element] = []

    mutating func push(_ item: Element) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[parent] < items[child] else { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var largest = parent
            if left < items.count && items[largest] < items[left] { largest = left }
            if right < items.count && items[largest] < items[right] { largest = right }
            guard largest != parent else { break }
            items.swapAt(parent, largest)
            parent = largest
        }
        return top
    }
}

extension String {
    /// Every U+0020 replaced (llama.cpp's `llama_escape_whitespace`).
    func replacingSpaces(with marker: String) -> String {
        var result = ""
        result.reserveCapacity(utf8.count)
        for scalar in unicodeScalars {
            if scalar == " " { result += marker } else { result.unicodeScalars.append(scalar) }
        }
        return result
    }

    func leftPadded(to length: Int) -> String { count >= length ? self : String(repeating: "0", count: length - count) + self }
}
