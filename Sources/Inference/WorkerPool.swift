import Dispatch
import Foundation
import Synchronization

/// Spinning helper threads for the many small parallel steps of generating one token.
///
/// Generating a token runs about two hundred matrix-vector products of a few hundred
/// microseconds each. `DispatchQueue.concurrentPerform` wakes its workers through the kernel
/// every time; the wake-ups and context switches cost a quarter of the token time (measured
/// with perf on the test bed). Here the helpers spin on a generation counter between jobs and
/// only go to sleep after about a millisecond without work, so a job starts within a cache miss.
/// One caller at a time: a second concurrent caller (parallel tests, two models) falls back to
/// `concurrentPerform` instead of waiting.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool(helpers: ProcessInfo.processInfo.activeProcessorCount - 1)

    let helpers: Int
    private let generation = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleeping = Atomic<Int>(0)
    private let wakeUp = NSCondition()
    /// The current job; written before `generation` is released, read after it is acquired.
    private var job: ((Int) -> Void)?
    /// Spins before a helper sleeps.
    private static let spinLimit = 1 << 16
    /// Spins before a waiter starts yielding its core on every check.
    private static let yieldAfter = 2_000

    /// One waiting step: spin at first, then yield. The scheduler can put a freshly woken
    /// helper on the caller's core; two threads spinning on one core for each other would
    /// then wait out whole time slices (measured: generation fell from 110 to 35 tokens/s
    /// after another process had used both cores).
    @inline(__always)
    private static func pause(_ spins: inout Int) {
        spins += 1
        if spins > yieldAfter { sched_yield() }
    }

    private init(helpers: Int) {
        self.helpers = max(0, helpers)
        for index in 0..<self.helpers {
            let thread = Thread { [unowned self] in self.helperLoop(index: index + 1) }
            thread.name = "quantkit-worker-\(index + 1)"
            thread.start()
        }
    }

    /// Runs `body(0) … body(iterations − 1)` in parallel and returns when all have finished,
    /// like `concurrentPerform`.
    func run(iterations: Int, _ body: (Int) -> Void) {
        guard iterations > 1 else {
            if iterations == 1 { body(0) }
            return
        }
        guard iterations <= helpers + 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            withoutActuallyEscaping(body) { body in
                let shared = UnsafeSendableBox(body)
                DispatchQueue.concurrentPerform(iterations: iterations) { shared.value($0) }
            }
            return
        }
        withoutActuallyEscaping(body) { body in
            job = { index in if index < iterations { body(index) } }
            finished.store(0, ordering: .relaxed)
            // Sequentially consistent: this store-then-load and the helper's sleeping-store-then-
            // generation-load must not both read stale values, or a helper sleeps through a job.
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleeping.load(ordering: .sequentiallyConsistent) > 0 {
                wakeUp.lock()
                wakeUp.broadcast()
                wakeUp.unlock()
            }
            body(0)
            var spins = 0
            while finished.load(ordering: .acquiring) < helpers { Self.pause(&spins) }
            job = nil
        }
        busy.store(false, ordering: .releasing)
    }

    private func helperLoop(index: Int) {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                Self.pause(&spins)
                if spins >= Self.spinLimit {
                    wakeUp.lock()
                    sleeping.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen { wakeUp.wait() }
                    sleeping.subtract(1, ordering: .releasing)
                    wakeUp.unlock()
                }
            }
            seen = generation.load(ordering: .acquiring)
            job?(index)
            finished.add(1, ordering: .releasing)
        }
    }
}

extension WorkerPool {
    /// Runs `body(worker, 0) … body(worker, units − 1)` on up to `threads` workers (worker <
    /// threads) that claim units one at a time, for work whose units differ in cost (causal
    /// attention: later tokens see more positions). A unit's result must not depend on which
    /// worker ran it; `worker` only selects scratch space.
    func forEachUnit(_ units: Int, threads: Int, _ body: (_ worker: Int, _ unit: Int) -> Void) {
        let next = Atomic<Int>(0)
        run(iterations: max(1, min(threads, units))) { worker in
            while true {
                let unit = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard unit < units else { return }
                body(worker, unit)
            }
        }
    }

    /// Splits 0..<count into one contiguous slice per worker, for element-wise steps.
    func forEachSlice(_ count: Int, threads: Int, minimumSlice: Int = 4096, _ body: (Range<Int>) -> Void) {
        let slices = max(1, min(threads, count / minimumSlice))
        run(iterations: slices) { slice in
            body(count * slice / slices ..< count * (slice + 1) / slices)
        }
    }
}
