import Foundation
import QuantCalibration
import QuantConversion

/// What `batch --dry-run` shows per job: whether it is done, whether its recipe can run, and
/// the file size it will have.
public struct PlannedJob: Sendable {
    public let job: BatchJob
    public let state: BatchRunner.JobState
    /// Why the job will fail (a recipe conflict or an input it cannot read), nil if it can run.
    public let problem: String?
    /// The file size the recipe plans: its `target_size`, or the preset's plan.
    public let plannedBytes: UInt64?
}

extension BatchRunner {
    /// The plan without doing any work but hashing inputs and planning types.
    public func dryRun(events: @escaping (BatchEvent) -> Void = { _ in }) -> [PlannedJob] {
        var planned: [PlannedJob] = []
        for (model, jobs) in plan.byModel {
            let shared = ModelWork(model: model, manifest: plan.manifest, threads: threads, events: events)
            for job in jobs {
                do {
                    try job.recipe.validate()
                    let state = Self.state(of: job, provenance: try shared.provenance(of: job))
                    planned.append(PlannedJob(job: job, state: state, problem: nil, plannedBytes: try Self.plannedBytes(job)))
                } catch {
                    planned.append(PlannedJob(job: job, state: .pending, problem: "\(error)", plannedBytes: nil))
                }
            }
        }
        return planned
    }

    /// The recipe's file size, planned without the steps that run the model or read statistics
    /// (they choose among types within the size, not the size).
    static func plannedBytes(_ job: BatchJob) throws -> UInt64 {
        if let target = job.recipe.recipe.targetSize { return target }
        var recipe = job.recipe.recipe
        recipe.optimizeMix = false
        recipe.calibration = nil
        recipe.smoothquant = nil
        recipe.stats = nil
        recipe.gptq = false
        recipe.w8a8Gptq = false
        let outcome = try ConversionPipeline(recipe: recipe, input: job.model.path).run(output: nil)
        return outcome.converter.plannedSummary.fileBytes
    }
}
