import ArgumentParser
import Foundation
import QuantBatch

struct BatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Convert and evaluate every model × recipe of a manifest into one report (resumable, shardable).",
        discussion: """
        The manifest (YAML or JSON) names the output folder, the models (GGUF files or Hugging Face folders), \
        the recipes (the keys of convert's options, snake_case, plus a name; `stats: calibrate` records statistics \
        once per model from the recipe's calibration text) and the evaluation (text, chunks, kld). It is checked \
        whole before any work starts. Outputs: OUTPUT/MODEL/RECIPE.gguf with RECIPE.result.json beside it, and \
        OUTPUT/report.md, results.json, results.csv, kld-vs-bpw.svg, ppl-vs-size.svg, tensor-errors.svg, neuron-profile.svg. A job whose result records \
        the same input, recipe and QuantKit version is skipped, so the same command resumes an interrupted batch. \
        A failing job does not stop the others; the exit status is 1 if any failed. See docs/BATCH.md.
        """
    )

    @Argument(help: "The manifest (YAML or JSON).") var manifest: String
    @Option(help: "Run only slice I of N (1-based): job k belongs to slice (k mod N) + 1. For job arrays; merge with quantkit report.")
    var shard: String?
    @Option(help: "Jobs run at once, each as a shard of this run in its own process with threads/N cores (default 1: one job with all cores).")
    var jobs = 1
    @Flag(help: "Print the plan — jobs, planned sizes, what is done, recipes that will fail — and do nothing.") var dryRun = false
    @Flag(help: "No progress output.") var quiet = false
    @Flag(help: "Progress and results as JSON lines on stdout.") var json = false
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        var failed = false
        try reportingErrors {
            guard let shard = shard.map(Shard.init) ?? .whole else { throw ValidationError("--shard is I/N with 1 ≤ I ≤ N, not '\(shard!)'") }
            guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
            let loaded = try ManifestLoader.load(path: manifest)
            let plan = BatchPlan(manifest: loaded, shard: shard)
            let output = BatchOutput(json: json, quiet: quiet, jobs: plan.jobs.count)
            if dryRun {
                let planned = BatchRunner(plan: plan, threads: threads.count).dryRun()
                output.printPlan(planned, shard: shard, total: plan.total)
                return
            }
            if jobs > 1 {
                failed = try BatchWorkers(manifest: manifest, shard: shard, jobs: jobs, threads: threads.count).run(showing: output)
            } else {
                let results = BatchRunner(plan: plan, threads: threads.count).run(events: output.show)
                failed = results.contains { $0.status == .failed }
            }
            let all = try ResultsFile.collect(from: [loaded.output])
            let written = try ResultsFile.writeReport(all, to: loaded.output)
            output.printSummary(all.filter { result in plan.jobs.contains { $0.model.name == result.model && $0.recipe.name == result.recipe } },
                                report: written)
        }
        if failed { throw ExitCode(1) }
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one batch report from the results under one or more batch output folders (merges shards).")

    @Argument(help: "Batch output folders (each holding MODEL/RECIPE.result.json).") var folders: [String]
    @Option(name: .shortAndLong, help: "Folder for report.md, results.json, results.csv and the plots (default: the first folder).")
    var output: String?

    func run() throws {
        try reportingErrors {
            let results = try ResultsFile.collect(from: folders)
            guard !results.isEmpty else { throw ResultsFile.ReportError.noResults(folders: folders) }
            let written = try ResultsFile.writeReport(results, to: output ?? folders[0])
            print("\(results.count) results → " + written.joined(separator: ", "))
        }
    }
}
