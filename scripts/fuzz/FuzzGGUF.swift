import QuantFormats

/// libFuzzer entry: any bytes must parse or throw a FormatError — never trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    do { try GGUFFile.validate(bytes) } catch {}
    return 0
}
