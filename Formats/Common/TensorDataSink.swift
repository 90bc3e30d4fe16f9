/// Receives one tensor's bytes, in any number of chunks, while a writer streams a planned file.
public final class TensorDataSink {
    fileprivate let file: AtomicFileWriter
    fileprivate var written: UInt64 = 0

    fileprivate init(file: AtomicFileWriter) { self.file = file }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try file.write(bytes)
        written += UInt64(bytes.count)
    }

    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }
}

/// A planned file: header bytes, then each tensor's data followed by zero padding.
/// Both writers (GGUF, safetensors) plan into this shape and stream through `write`.
struct PlannedTensorFile {
    var header: [UInt8]
    var names: [String]
    var byteCounts: [UInt64]
    /// Zero bytes written after each tensor (alignment).
    var paddings: [UInt64]
    /// Offset of each tensor relative to the end of the header.
    var offsets: [UInt64]

    /// Streams the file atomically; `produce(i, sink)` must write exactly tensor `i`'s bytes.
    /// On any error the destination is untouched and the temporary file is removed.
    func write(to path: String, produce: (Int, TensorDataSink) throws -> Void) throws {
        let file = try AtomicFileWriter(destination: path)
        do {
            try file.write(header)
            let sink = TensorDataSink(file: file)
            for i in names.indices {
                sink.written = 0
                try produce(i, sink)
                guard sink.written == byteCounts[i] else {
                    throw FormatError(file: path, offset: UInt64(header.count) + offsets[i],
                                      .tensorDataSizeMismatch(tensor: names[i], expected: byteCounts[i], found: sink.written))
                }
                try file.writeZeros(Int(paddings[i]))
            }
            try file.commit()
        } catch {
            file.discard()
            throw error
        }
    }
}
