@testable import Inference
import Testing
import TestScratch

/// Pre-tokenizer splits written out by hand from each regex (llama.cpp's agreement on whole texts
/// is checked in InteropTests).
@Suite(.tags(.unit))
struct PreTokenizerTests {
    func pieces(_ name: String, _ text: String) throws -> [String] {
        let scalars = Array(text.unicodeScalars)
        return try PreTokenizer(name: name).split(scalars).map { String(String.UnicodeScalarView(scalars[$0])) }
    }

    @Test func llama3() throws {
        #expect(try pieces("llama-bpe", "Hello world's 12345\n\n x") == ["Hello", " world", "'s", " ", "123", "45", "\n\n", " x"])
        #expect(try pieces("llama-bpe", "IT'S ok!!\r\n  end  ") == ["IT", "'S", " ok", "!!\r\n", " ", " end", "  "])
        // The same text under GPT-2's rules: digits are not cut in threes, "'S" is not a contraction.
        #expect(try pieces("gpt2", "IT'S 12345") == ["IT", "'", "S", " 12345"])
    }

    @Test func unknownNameListsTheSupported() {
        #expect(throws: InferenceError.self) { try PreTokenizer(name: "tekken") }
    }
}
