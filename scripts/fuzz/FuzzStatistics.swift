import Foundation

/// libFuzzer entry for QuantKit statistics files (`.qkstats`, the decompressed image): parse or
/// throw, never trap, never allocate beyond what the input's sizes justify.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStatistics(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    do { _ = try ActivationStatisticsFile.parse(bytes, file: "<fuzz>") } catch {}
    return 0
}
