/// Splits text into the pieces BPE merges within, as llama.cpp's `unicode_regex_split` does for
/// the pre-tokenizer named in `tokenizer.ggml.pre`. Registered by name (one table), so a GGUF with
/// an unknown pre-tokenizer fails with the supported list instead of tokenizing differently.
struct PreTokenizer {
    /// The splitting stages applied in order; each refines the pieces of the previous.
    enum Stage {
        /// `\p{N}`: every number code point becomes its own piece.
        case isolateDigits
        /// GPT-2's `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
        /// hand-written as llama.cpp's `unicode_regex_split_custom_gpt2`.
        case gpt2
        /// Llama 3's `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
        /// hand-written as llama.cpp's `unicode_regex_split_custom_llama3`; with `digits: 1`,
        /// Qwen2's pattern (`\p{N}` instead of `\p{N}{1,3}`, llama.cpp's LLAMA_VOCAB_PRE_TYPE_QWEN2).
        case llama3(digits: Int)
    }

    /// Pre-tokenizers whose vocabulary also skips BPE for a piece that is itself a token
    /// (llama.cpp's `ignore_merges`, set for these pre-tokenizer types).
    static let ignoresMerges: Set<String> = ["llama3", "llama-bpe"]

    static let registry: [String: [Stage]] = {
        var table: [String: [Stage]] = [:]
        for name in ["gpt2", "mpt", "olmo", "jais", "default"] { table[name] = [.gpt2] }
        for name in ["starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva"] { table[name] = [.isolateDigits, .gpt2] }
        for name in ignoresMerges { table[name] = [.llama3(digits: 3)] }
        for name in ["qwen2", "deepseek-r1-qwen"] { table[name] = [.llama3(digits: 1)] }
        return table
    }()

    let stages: [Stage]

    init(name: String) throws {
        guard let stages = Self.registry[name] else {
            throw InferenceError.unsupportedPreTokenizer(name: name, supported: Self.registry.keys.sorted())
        }
        self.stages = stages
    }

    /// Pieces of `text` as ranges of its unicode scalars.
    func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        var pieces = [0..<scalars.count]
        let classes = scalars.map(CodepointClass.of)
        for stage in stages {
            var next: [Range<Int>] = []
            next.reserveCapacity(pieces.count * 2)
            for piece in pieces where !piece.isEmpty {
                switch stage {
                case .isolateDigits: Self.isolateDigits(piece, classes, into: &next)
                case .gpt2: Self.gpt2(piece, scalars, classes, into: &next)
                case let .llama3(digits): Self.llama3(piece, scalars, classes, maxDigits: digits, into: &next)
                }
            }
            pieces = next
        }
        return pieces
    }

    private static func isolateDigits(_ piece: Range<Int>, _ classes: [CodepointClass], into out: inout [Range<Int>]) {
        var start = piece.lowerBound
        for i in piece where classes[i].contains(.number) {
            if i > start { out.append(start..<i) }
            out.append(i..<i + 1)
            start = i + 1
        }
        if start < piece.upperBound { out.append(start..<piece.upperBound) }
    }

    private static func gpt2(_ piece: Range<Int>, _ scalars: [Unicode.Scalar], _ classes: [CodepointClass], into out: inout [Range<Int>]) {
        let end = piece.upperBound
        @inline(__always) func cpt(_ i: Int) -> UInt32 { i < end ? scalars[i].value : UInt32.max }
        @inline(__always) func flags(_ i: Int) -> CodepointClass { i < end ? classes[i] : [] }
        var start = piece.lowerBound
        var pos = start
        func emit(_ to: Int) {
            if to > start { out.append(start..<to) }
            start = to
            pos = to
        }
        let apostrophe = UInt32(UInt8(ascii: "'")), space = UInt32(UInt8(ascii: " "))
        while pos < end {
            let c = cpt(pos)
            if c == apostrophe && pos + 1 < end {
                let n1 = cpt(pos + 1)
                if n1 == UInt32(UInt8(ascii: "s")) || n1 == UInt32(UInt8(ascii: "t")) || n1 == UInt32(UInt8(ascii: "m")) || n1 == UInt32(UInt8(ascii: "d")) {
                    emit(pos + 2)
                    continue
                }
                if pos + 2 < end {
                    let n2 = cpt(pos + 2)
                    if (n1 == UInt32(UInt8(ascii: "r")) && n2 == UInt32(UInt8(ascii: "e"))) || (n1 == UInt32(UInt8(ascii: "v")) && n2 == UInt32(UInt8(ascii: "e")))
                        || (n1 == UInt32(UInt8(ascii: "l")) && n2 == UInt32(UInt8(ascii: "l"))) {
                        emit(pos + 3)
                        continue
                    }
                }
            }
            var flags2 = c == space ? flags(pos + 1) : flags(pos)
            if flags2.contains(.letter) {
                var p = pos + (c == space ? 1 : 0)
                while flags(p).contains(.letter) { p += 1 }
                emit(p)
                continue
            }
            if flags2.contains(.number) {
                var p = pos + (c == space ? 1 : 0)
                while flags(p).contains(.number) { p += 1 }
                emit(p)
                continue
            }
            if flags2.isDisjoint(with: [.whitespace, .letter, .number]) && flags2.contains(.present) {
                var p = pos + (c == space ? 1 : 0)
                while flags2.isDisjoint(with: [.whitespace, .letter, .number]) && flags2.contains(.present) {
                    p += 1
                    flags2 = flags(p)
                }
                emit(p)
                continue
            }
            var whitespace = 0
            while flags(pos + whitespace).contains(.whitespace) { whitespace += 1 }
            if whitespace > 1 && cpt(pos + whitespace) != UInt32.max {
                emit(pos + whitespace - 1)
                continue
            }
            if whitespace > 0 {
                emit(pos + whitespace)
                continue
            }
            emit(pos + 1)
        }
    }

    private static func llama3(_ piece: Range<Int>, _ scalars: [Unicode.Scalar], _ classes: [CodepointClass], maxDigits: Int,
                               into out: inout [Range<Int>]) {
        let end = piece.upperBound
        @inline(__always) func cpt(_ i: Int) -> UInt32 { i < end ? scalars[i].value : UInt32.max }
        @inline(__always) func flags(_ i: Int) -> CodepointClass { i < end ? classes[i] : [] }
        @inline(__always) func lower(_ c: UInt32) -> UInt32 { (65...90).contains(c) ? c + 32 : c }
        func ascii(_ c: Character) -> UInt32 { UInt32(c.asciiValue!) }
        let apostrophe = ascii("'"), space = ascii(" "), cr = ascii("\r"), lf = ascii("\n")
        var start = piece.lowerBound, pos = start
        func emit(_ to: Int) {
            if to > start { out.append(start..<to) }
            start = to
            pos = to
        }
        while pos < end {
            let c = cpt(pos), f = flags(pos)
            // (?i:'s|'t|'re|'ve|'m|'ll|'d)
            if c == apostrophe && pos + 1 < end {
                let n1 = lower(cpt(pos + 1))
                if [ascii("s"), ascii("t"), ascii("m"), ascii("d")].contains(n1) { emit(pos + 2); continue }
                if pos + 2 < end {
                    let n2 = lower(cpt(pos + 2))
                    if (n1 == ascii("r") && n2 == ascii("e")) || (n1 == ascii("v") && n2 == ascii("e")) || (n1 == ascii("l") && n2 == ascii("l")) {
                        emit(pos + 3); continue
                    }
                }
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if !(c == cr || c == lf || f.contains(.number)) && (f.contains(.letter) || flags(pos + 1).contains(.letter)) {
                var p = pos + 1
                while flags(p).contains(.letter) { p += 1 }
                emit(p); continue
            }
            // \p{N}{1,3} (Qwen2: \p{N})
            if f.contains(.number) {
                var p = pos
                while flags(p).contains(.number) && p - pos < maxDigits { p += 1 }
                emit(p); continue
            }
            // <space>?[^\s\p{L}\p{N}]+[\r\n]*
            var f2 = c == space ? flags(pos + 1) : f
            if f2.isDisjoint(with: [.whitespace, .letter, .number]) && f2.contains(.present) {
                var p = pos + (c == space ? 1 : 0)
                while f2.isDisjoint(with: [.whitespace, .letter, .number]) && f2.contains(.present) { p += 1; f2 = flags(p) }
                while cpt(p) == cr || cpt(p) == lf { p += 1 }
                emit(p); continue
            }
            // \s*[\r\n]+ , \s+(?!\S) , \s+
            var whitespace = 0, lastLineBreakEnd = 0
            while flags(pos + whitespace).contains(.whitespace) {
                let c2 = cpt(pos + whitespace)
                if c2 == cr || c2 == lf { lastLineBreakEnd = pos + whitespace + 1 }
                whitespace += 1
            }
            if lastLineBreakEnd > 0 { emit(lastLineBreakEnd); continue }
            if whitespace > 1 && cpt(pos + whitespace) != UInt32.max { emit(pos + whitespace - 1); continue }
            if whitespace > 0 { emit(pos + whitespace); continue }
            emit(pos + 1)
        }
    }
}
