import Foundation
import Inference
import QuantConversion
import QuantCore
import QuantFormats
import Testing
import TestScratch

/// Pre-tokenizers against llama.cpp on the same vocabulary: the test bed's tokenizer.json with its
/// pre-tokenizer replaced by Llama 3's (Split with the llama3 regex, then ByteLevel), converted,
/// so the GGUF says `tokenizer.ggml.pre = llama-bpe` and llama.cpp applies its llama3 splitting
/// and `ignore_merges`. Every id of wikitext-2 and of a text of edge cases must agree.
@Suite(TestData.needs(.python(["llama_cpp"]), .testBed, .shared("wikitext-2/wiki.test.raw")), .serialized, .tags(.interop, .slow))
struct TokenizerInteropTests {
    static let edgeCases = """
    He'S here; they'LL go, I'M sure—we'd've. 12345 1234567 3.14159 ٣٤٥ ⅫⅦ\r\n\r\n  \n\t x\u{A0}y  \
    emoji 👩‍💻 and 日本語のテキスト, ÀÉÎÕÜ façade; "quotes" (parens) [brackets] {braces} \\ slash / #hash @at
    trailing spaces   \n\n\n   indented\n
    """

    @Test func llamaBPEMatchesLlamaCpp() throws {
        let folder = try temporaryDirectory() + "/llama-bpe-hf"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in ["config.json", "model.safetensors", "tokenizer_config.json"] {
            try FileManager.default.createSymbolicLink(atPath: folder + "/" + name, withDestinationPath: TestData.testBedHF + "/" + name)
        }
        var tokenizer = try String(contentsOfFile: TestData.testBedHF + "/tokenizer.json", encoding: .utf8)
        let pre = try #require(tokenizer.range(of: #""pre_tokenizer""#))
        let decoder = try #require(tokenizer.range(of: #""post_processor""#, range: pre.upperBound..<tokenizer.endIndex))
        let llama3 = #""pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]}, "#
        tokenizer.replaceSubrange(pre.lowerBound..<decoder.lowerBound, with: llama3)
        try tokenizer.write(toFile: folder + "/tokenizer.json", atomically: true, encoding: .utf8)
        let gguf = try temporaryDirectory() + "/llama-bpe.gguf"
        _ = try ModelConverter(source: try HuggingFaceSource(folder: folder), options: .init(preset: QuantizationPreset.named("F16")!)).write(to: gguf)
        let file = try GGUFFile(path: gguf)
        #expect(file.metadata.string(GGUFKey.Tokenizer.pre) == "llama-bpe")
        let ours = try Tokenizer(metadata: file.metadata)

        let edge = try temporaryDirectory() + "/edge.txt"
        try Self.edgeCases.write(toFile: edge, atomically: true, encoding: .utf8)
        for text in [edge, TestData.shared("wikitext-2/wiki.test.raw")] {
            let theirs = try JSONParser.parse(PythonOracle.run([PythonOracle.scripts + "/llama_tokenize.py", gguf, text])).array?.compactMap(\.int64) ?? []
            let mine = ours.encode(try MappedFile.readText(path: text), addSpecial: true).map(Int64.init)
            #expect(mine.count == theirs.count && mine == theirs,
                    "\((text as NSString).lastPathComponent): first difference at \(zip(mine, theirs).enumerated().first { $1.0 != $1.1 }?.offset ?? min(mine.count, theirs.count)) of \(theirs.count)")
        }
    }
}
