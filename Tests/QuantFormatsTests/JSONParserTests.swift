import Testing
import TestScratch
@testable import QuantFormats

@Suite(.tags(.unit)) struct JSONParserTests {
    @Test func parsesNestedValuesInOrder() throws {
        let value = try JSONParser.parse(#"{"b": [1, -2.5e3, true, null], "a": {"x": "y\n\u00e9\ud83d\ude00"}}"#)
        #expect(value.members?.map(\.key) == ["b", "a"])
        #expect(value["b"]?.array?.count == 4)
        #expect(value["b"]?.array?[1].double == -2500)
        #expect(value["a"]?["x"]?.string == "y\né😀")
    }

    @Test func keepsIntegersExactBeyondDoublePrecision() throws {
        let value = try JSONParser.parse("[18446744073709551615, 9007199254740993]")
        #expect(value.array?[0].uint64 == UInt64.max)
        #expect(value.array?[1].uint64 == 9_007_199_254_740_993)
    }

    @Test(arguments: [
        #"{"a": 1, "a": 2}"#, "{", "[1,]", "{'a': 1}", "01", "1.", "-", "\"\u{01}\"", #""\x""#, "[1] 2",
        #""\ud800""#, "tru", "{\"a\" 1}", "", " ",
    ])
    func rejectsMalformed(_ text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(text) }
    }

    @Test func capsNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
        #expect(throws: Never.self) { try JSONParser.parse(fine) }
    }

    @Test func rejectsInvalidUTF8() {
        let bytes: [UInt8] = [0x22, 0xFF, 0xFE, 0x22]
        #expect(throws: JSONSyntaxError.self) { try bytes.withUnsafeBytes { try JSONParser.parse($0) } }
    }

    @Test func serializesAndReparses() throws {
        let value = try JSONParser.parse(#"{"k": ["a\"b", 1, {"z": false}], "t": "\t\u0001"}"#)
        #expect(try JSONParser.parse(value.serialized()) == value)
    }
}
