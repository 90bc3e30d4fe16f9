import QuantFormats

/// libFuzzer entry for safetensors headers: parse or throw, never trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    do { _ = try SafetensorsHeader(bytes, file: "<fuzz>") } catch {}
    return 0
}
