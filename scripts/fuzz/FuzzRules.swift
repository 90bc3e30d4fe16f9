import Foundation

/// libFuzzer entry for `convert --rules` files: YAML through Yams to rule entries, then each
/// pattern compiled as the planner compiles it (a Swift Regex) and each type name looked up.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRules(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let entries = try? RulesFile.entries(yaml: text, file: "fuzz.yaml") else { return 0 }
    for entry in entries {
        _ = try? Regex(entry.pattern)
        _ = GGMLType(name: entry.type)
    }
    return 0
}
