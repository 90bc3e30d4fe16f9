import Inference
import QuantFormats

/// libFuzzer entry for the tokenizer loader: the input is a GGUF; if it parses, build its
/// tokenizer and encode a fixed text. Must throw or work, never trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let header = try? GGUFFile.metadata(in: bytes) else { return 0 }
    if let tokenizer = try? Tokenizer(metadata: header) { _ = tokenizer.decode(tokenizer.encode("Hello world, 123 héllo!")) }
    return 0
}
