import Foundation
import QuantFormats
import Testing
import TestScratch

/// `quantkit convert` never leaves a half-written output: killed with SIGKILL at random points,
/// the destination is absent or a complete valid file; a file-size limit gives a clear error and
/// no output; temporaries left by a kill are removed by the next run.
@Suite(.serialized, .tags(.unit)) struct CrashSafetyTests {
    /// An F32 model of ~24 MB, so a conversion takes long enough to be interrupted.
    func mediumModel(in folder: String) throws -> String {
        var metadata = GGUFMetadata()
        metadata["general.architecture"] = .string("llama")
        let tensors = (0..<12).map { GGUFTensorDescriptor(name: "blk.\($0).ffn_up.weight", shape: [512, 1024], type: .F32) }
        let writer = try GGUFWriter(metadata: metadata, tensors: tensors)
        let path = folder + "/model.gguf"
        let values = (0..<512 * 1024).map { Float(sin(Double($0) * 0.001)) }
        try writer.write(to: path) { _, sink in try values.withUnsafeBytes { try sink.write($0) } }
        return path
    }

    func partials(in folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains(AtomicFileWriter.temporaryMarker) }
    }

    @Test func sigkillAtRandomPointsNeverLeavesAPartialOutput() throws {
        let folder = try temporaryDirectory()
        let input = try mediumModel(in: folder)
        let output = folder + "/out.gguf"
        var completed = 0, killed = 0
        var generator = SystemRandomNumberGenerator()
        for run in 0..<20 {
            try? FileManager.default.removeItem(atPath: output)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLIRunner.executable)
            process.arguments = ["convert", input, "-o", output, "--type", run % 2 == 0 ? "Q4_K" : "Q6_K", "--quiet", "--threads", "1"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32.random(in: 5_000...400_000, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal { killed += 1 } else { completed += 1 }
            if FileManager.default.fileExists(atPath: output) {
                let file = try GGUFFile(path: output)  // complete and valid, or this throws
                #expect(file.tensors.count == 12)
            }
        }
        #expect(killed >= 5, "only \(killed) of 20 runs were interrupted (\(completed) completed)")
        // The next run removes whatever temporaries the kills left, and succeeds.
        let rerun = try CLIRunner.run("convert", input, "-o", output, "--type", "Q8_0", "--quiet")
        #expect(rerun.status == 0)
        #expect(try partials(in: folder).isEmpty)
        #expect(try GGUFFile(path: output).tensors.count == 12)
    }

    @Test func fileSizeLimitIsAClearErrorWithNoOutput() throws {
        let folder = try temporaryDirectory()
        let input = try mediumModel(in: folder)
        let output = folder + "/limited.gguf"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -f 2048; exec \"$0\" convert \"$1\" -o \"$2\" --type Q8_0 --quiet", CLIRunner.executable, input, output]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1, "status \(process.terminationStatus): \(message)")
        #expect(message.hasPrefix("error: ") && message.contains("File too large"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(try partials(in: folder).isEmpty)
    }
}
