import Testing

/// The test tiers, as tags on every suite:
/// - `unit`: in-process, generated inputs, milliseconds to seconds;
/// - `golden`: compares with vectors recorded from libggml or bitsandbytes (`../shared/testdata/golden`);
/// - `interop`: runs an oracle (llama-cpp-python, gguf, transformers, bitsandbytes' algorithm in Python) beside us;
/// - `slow`: a real model (the SmolLM2 test bed or sample) end to end, tens of seconds or more.
/// `swift test --filter` selects by name; the tags show each test's tier in the results (`--xunit-output`).
extension Tag {
    @Tag public static var unit: Self
    @Tag public static var golden: Self
    @Tag public static var interop: Self
    @Tag public static var slow: Self
}
