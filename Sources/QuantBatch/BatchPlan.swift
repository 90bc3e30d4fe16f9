import Foundation

/// One model × recipe and where its outputs go: `<output>/<model>/<recipe>.gguf` and, written
/// last, `<recipe>.result.json`.
public struct BatchJob: Sendable, Equatable {
    /// Position in the whole batch (models in manifest order, then recipes), the same in every shard.
    public let index: Int
    public let model: BatchManifest.Model
    public let recipe: BatchManifest.Recipe
    public let folder: String

    public var id: String { "\(model.name)/\(recipe.name)" }
    public var outputPath: String { (folder as NSString).appendingPathComponent("\(recipe.name).gguf") }
    public var resultPath: String { (folder as NSString).appendingPathComponent("\(recipe.name).result.json") }
}

/// `--shard I/N`: job k belongs to shard (k mod N) + 1, so shards are disjoint, cover the batch,
/// and each gets every model's recipes spread evenly — a Slurm array task or a Kubernetes
/// Indexed Job runs one shard each.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public static let whole = Shard(index: 1, count: 1)

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// "I/N" with 1 ≤ I ≤ N.
    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (1...n).contains(i) else { return nil }
        self.init(index: i, count: n)
    }

    public func contains(_ job: BatchJob) -> Bool { job.index % count == index - 1 }
    public var description: String { "\(index)/\(count)" }
}

public struct BatchPlan: Sendable {
    public let manifest: BatchManifest
    public let shard: Shard
    /// This shard's jobs, in batch order.
    public let jobs: [BatchJob]
    /// All jobs of the batch.
    public let total: Int

    public init(manifest: BatchManifest, shard: Shard = .whole) {
        var all: [BatchJob] = []
        for model in manifest.models {
            let folder = (manifest.output as NSString).appendingPathComponent(model.name)
            for recipe in manifest.recipes {
                all.append(BatchJob(index: all.count, model: model, recipe: recipe, folder: folder))
            }
        }
        self.manifest = manifest
        self.shard = shard
        jobs = all.filter(shard.contains)
        total = all.count
    }

    /// The jobs of one model, in order (shared work is done once per group).
    public var byModel: [(model: BatchManifest.Model, jobs: [BatchJob])] {
        manifest.models.compactMap { model in
            let jobs = self.jobs.filter { $0.model == model }
            return jobs.isEmpty ? nil : (model, jobs)
        }
    }
}
