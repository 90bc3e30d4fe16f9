import Foundation

/// `--json` output on stdout, the same way in every command: sorted keys, unescaped slashes,
/// pretty-printed for one summary object or one object per line for event streams.
enum JSONOutput {
    static func print<T: Encodable>(_ value: T, asLine: Bool = false) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = asLine ? [.sortedKeys, .withoutEscapingSlashes] : [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Through `print`, like the commands' text output, so the two never reorder.
        Swift.print(String(decoding: try encoder.encode(value), as: UTF8.self))
        if asLine { fflush(nil) }  // all streams: an event line must not wait in a buffer
    }
}
