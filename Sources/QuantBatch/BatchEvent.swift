/// What a batch reports while it runs; the command renders it as a progress bar, log lines or
/// JSON lines.
public enum BatchEvent: Sendable {
    public enum Stage: String, Sendable {
        case hashing, preparingBase = "preparing base", calibrating, baseLogits = "base logits", converting
        case mixSearch = "mix search", smoothQuantTuning = "smoothquant tuning", evaluating, generating
    }

    /// Work on `job` (nil: shared work of `model`), `done` of `total` units of `stage`.
    case progress(model: String, job: String?, stage: Stage, done: Int, total: Int)
    case skipped(job: String, reason: String)
    case finished(job: String, result: BatchResult)
}
