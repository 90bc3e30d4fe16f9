import Foundation
import QuantFormats
import Testing
import TestScratch

/// `quantkit batch` on the SmolLM2 test bed as a user runs it: killed with SIGKILL mid-batch and
/// started again, it finishes with the report of a clean run (timings aside); a recipe that must
/// fail fails alone and makes the exit status 1.
@Suite(TestData.needs(.testBed, .shared("wikitext-2/wiki.test.raw"), .shared("tinyshakespeare/input.txt")), .serialized, .tags(.slow))
struct BatchCommandTests {
    func writeManifest(in folder: String, output: String) throws -> String {
        let yaml = """
        output: \(output)
        models:
          - {name: smollm2, path: \(TestData.testBed)}
        recipes:
          - {name: q8_0, type: Q8_0}
          - name: q4_k_m-cal
            type: Q4_K_M
            stats: calibrate
            statistics_tokens: 512
            calibration: {text: \(TestData.shared("tinyshakespeare/input.txt"))}
          - {name: q4_0, type: Q4_0}
          - {name: broken, type: Q4_0, tensor_types: [{pattern: ffn_down, type: Q9_9}]}
        evaluation: {text: \(TestData.shared("wikitext-2/wiki.test.raw")), chunks: 2, context: 128, generation_tokens: 4}
        """
        let path = folder + "/batch.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func killedBatchResumesToTheCleanRunsReport() throws {
        let folder = try temporaryDirectory()
        let resumed = try writeManifest(in: folder, output: folder + "/resumed")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLIRunner.executable)
        process.arguments = ["batch", resumed, "--quiet"]
        try process.run()
        let firstResult = folder + "/resumed/smollm2/q8_0.result.json"
        let deadline = Date().addingTimeInterval(300)
        while !FileManager.default.fileExists(atPath: firstResult) && process.isRunning && Date() < deadline { usleep(20_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the batch finished before it could be killed")
        #expect(!FileManager.default.fileExists(atPath: folder + "/resumed/report.md"))

        let again = try CLIRunner.run("batch", resumed, "--quiet")
        #expect(again.status == 1, "a failed recipe makes the exit status 1")
        #expect(again.stdout.contains("FAILED smollm2/broken") && again.stdout.contains("Q9_9"))
        #expect(again.stdout.contains("3 of 4 jobs made"))

        let clean = try CLIRunner.run("batch", try writeManifest(in: try temporaryDirectory(), output: folder + "/clean"), "--quiet")
        #expect(clean.status == 1)
        let rows = try BatchResultsFile.timelessRows(folder + "/resumed")
        #expect(rows.count == 4)
        #expect(rows == (try BatchResultsFile.timelessRows(folder + "/clean")))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder + "/resumed/smollm2").filter { $0.contains(AtomicFileWriter.temporaryMarker) }
        #expect(leftovers.isEmpty)

        let profile = try String(contentsOfFile: folder + "/resumed/neuron-profile.svg", encoding: .utf8)
        #expect(profile.contains("statistics of q4_k_m-cal") && profile.components(separatedBy: "<rect").count - 2 == 30, "one bar per layer")

        let plan = try CLIRunner.run("batch", resumed, "--dry-run")
        #expect(plan.status == 0)
        #expect(plan.stdout.components(separatedBy: "  done").count - 1 == 3)
        #expect(plan.stdout.contains("will fail"))
    }
}
