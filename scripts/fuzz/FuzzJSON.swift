import QuantFormats

/// libFuzzer entry for the JSON parser behind safetensors headers, shard indexes and configs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    if let value = try? JSONParser.parse(bytes) { _ = value.serialized() }
    return 0
}
