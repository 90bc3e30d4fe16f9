import Foundation
import Testing
@testable import QuantFormats
import TestScratch

/// Outputs never replace an input, however the path reaches it, and checkpoint folders are left
/// alone unless asked; symlinked outputs are replaced, not written through.
@Suite(.tags(.unit)) struct OutputPathGuardTests {
    func refusal(_ output: String, inputs: [String], folder: String? = nil, allow: Bool = false) -> OutputPathError? {
        do {
            try OutputPathGuard.check(output: output, inputs: inputs, inputFolder: folder, allowInInputFolder: allow)
            return nil
        } catch let error as OutputPathError {
            return error
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    @Test func everySpellingOfAnInputIsRefused() throws {
        let folder = try temporaryDirectory()
        let input = folder + "/model.gguf"
        try writeBytes([1, 2, 3], to: input)
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: folder + "/link.gguf", withDestinationPath: input)
        try FileManager.default.linkItem(atPath: input, toPath: folder + "/hard.gguf")
        for spelling in [input, folder + "/./model.gguf", folder + "//model.gguf", folder + "/sub/../model.gguf",
                         folder + "/link.gguf", folder + "/hard.gguf"] {
            #expect(refusal(spelling, inputs: [input]) == .outputIsInput(output: spelling, input: input), "\(spelling)")
        }
        // The input given through a symlink is still recognised when the output names the real file.
        #expect(refusal(input, inputs: [folder + "/link.gguf"]) == .outputIsInput(output: input, input: folder + "/link.gguf"))
        #expect(refusal(folder + "/sub", inputs: [input]) == .outputIsDirectory(folder + "/sub"))
        #expect(refusal(folder + "/new.gguf", inputs: [input, folder + "/missing-input"]) == nil)
        #expect(try readBytes(input) == [1, 2, 3])
    }

    @Test func checkpointFolderNeedsConsent() throws {
        let checkpoint = try temporaryDirectory()
        try writeBytes([7], to: checkpoint + "/model.safetensors")
        try FileManager.default.createDirectory(atPath: checkpoint + "/gguf", withIntermediateDirectories: false)
        let elsewhere = try temporaryDirectory()
        try FileManager.default.createSymbolicLink(atPath: elsewhere + "/ckpt", withDestinationPath: checkpoint)
        let inputs = [checkpoint + "/model.safetensors"]
        for output in [checkpoint + "/out.gguf", elsewhere + "/ckpt/out.gguf"] {
            #expect(refusal(output, inputs: inputs, folder: checkpoint) == .outputInInputFolder(output: output, folder: checkpoint))
            #expect(refusal(output, inputs: inputs, folder: checkpoint, allow: true) == nil)
        }
        #expect(refusal(checkpoint + "/gguf/out.gguf", inputs: inputs, folder: checkpoint) == nil)
        #expect(refusal(elsewhere + "/out.gguf", inputs: inputs, folder: checkpoint) == nil)
        // Consent to the folder is not consent to replacing the weights.
        #expect(refusal(checkpoint + "/model.safetensors", inputs: inputs, folder: checkpoint, allow: true)
                == .outputIsInput(output: checkpoint + "/model.safetensors", input: checkpoint + "/model.safetensors"))
    }
}
