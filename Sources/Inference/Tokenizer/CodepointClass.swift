/// The character classes llama.cpp's pre-tokenizers test (`unicode_cpt_flags`): letter (\p{L}),
/// number (\p{N}), whitespace (\s: the Unicode White_Space property), and "present": llama.cpp's
/// flags are non-zero for every code point inside the text (even unassigned ones carry an
/// "undefined" bit) and zero only past its end.
struct CodepointClass: OptionSet {
    let rawValue: UInt8
    static let letter = CodepointClass(rawValue: 1)
    static let number = CodepointClass(rawValue: 2)
    static let whitespace = CodepointClass(rawValue: 4)
    static let present = CodepointClass(rawValue: 8)

    init(rawValue: UInt8) { self.rawValue = rawValue }

    init(_ scalar: Unicode.Scalar) {
        var flags: CodepointClass = []
        let properties = scalar.properties
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: flags.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber: flags.insert(.number)
        default: break
        }
        flags.insert(.present)
        if properties.isWhitespace { flags.insert(.whitespace) }
        self = flags
    }

    /// ASCII fast path plus a cache-free lookup for the rest.
    static func of(_ scalar: Unicode.Scalar) -> CodepointClass {
        let v = scalar.value
        if v < 128 { return asciiTable[Int(v)] }
        return CodepointClass(scalar)
    }

    private static let asciiTable: [CodepointClass] = (0..<128).map { CodepointClass(Unicode.Scalar(UInt8($0))) }
}
