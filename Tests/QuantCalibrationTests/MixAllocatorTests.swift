@testable import QuantCalibration
import QuantFormats
import Testing
import TestScratch

/// The knapsack behind the mix search: convex hulls, budgets, and optimality against brute force.
@Suite(.tags(.unit))
struct MixAllocatorTests {
    typealias Option = MixAllocator.Option

    @Test func hullDropsDominatedAndNonConvexOptions() {
        let hull = MixAllocator.lowerHull([
            Option(type: .Q8_0, bytes: 100, predictedDivergence: 0.1),
            Option(type: .Q5_0, bytes: 60, predictedDivergence: 3.5),   // above the line from Q4_0 to Q5_1
            Option(type: .Q4_0, bytes: 50, predictedDivergence: 4.0),
            Option(type: .Q5_1, bytes: 70, predictedDivergence: 1.0),
            Option(type: .Q6_K, bytes: 80, predictedDivergence: 1.5),   // dominated by Q5_1
        ])
        #expect(hull.map(\.type) == [.Q4_0, .Q5_1, .Q8_0])
    }

    @Test func budgetsFromCheapestToEverything() throws {
        let tensors: [MixAllocator.Choices] = (0 ..< 3).map { (i: Int) -> MixAllocator.Choices in
            let sensitivity = Double(i + 1)
            let options: [Option] = [Option(type: .IQ4_NL, bytes: 45, predictedDivergence: sensitivity),
                                     Option(type: .Q5_0, bytes: 55, predictedDivergence: sensitivity / 4),
                                     Option(type: .Q8_0, bytes: 85, predictedDivergence: sensitivity / 100)]
            return MixAllocator.Choices(name: "t\(i)", options: options)
        }
        #expect(try MixAllocator.allocate(tensors, budget: 135).values.allSatisfy { $0.type == .IQ4_NL })
        #expect(try MixAllocator.allocate(tensors, budget: 255).values.allSatisfy { $0.type == .Q8_0 })
        // 10 spare bytes go to the most sensitive tensor.
        let one = try MixAllocator.allocate(tensors, budget: 145)
        #expect(one["t2"]?.type == .Q5_0 && one["t0"]?.type == .IQ4_NL && one["t1"]?.type == .IQ4_NL)
        #expect(throws: MixAllocator.AllocationError.budgetTooSmall(budget: 100, cheapest: 135)) {
            try MixAllocator.allocate(tensors, budget: 100)
        }
    }

    /// On random convex instances with equal step sizes the greedy choice is the optimum.
    @Test func matchesBruteForceOnConvexInstances() throws {
        var random = SplitMix(seed: 7)
        for _ in 0 ..< 200 {
            let tensors = (0 ..< 4).map { i in
                var divergence = 1 + random.unit() * 10
                return MixAllocator.Choices(name: "t\(i)", options: (0 ..< 3).map { step in
                    defer { divergence *= 0.1 + 0.3 * random.unit() }  // falling decrements: convex
                    return Option(type: [.IQ4_NL, .Q5_1, .Q8_0][step], bytes: UInt64(40 + 20 * step), predictedDivergence: divergence)
                })
            }
            for budget in stride(from: UInt64(160), through: 320, by: 20) {
                let greedy = try MixAllocator.allocate(tensors, budget: budget)
                let total = greedy.values.reduce(0) { $0 + $1.predictedDivergence }
                #expect(greedy.values.reduce(0) { $0 + $1.bytes } <= budget)
                var best = Double.infinity
                for code in 0 ..< 81 {
                    var c = code, bytes: UInt64 = 0, sum = 0.0
                    for t in tensors {
                        let hull = MixAllocator.lowerHull(t.options)
                        let option = hull[min(c % 3, hull.count - 1)]
                        c /= 3
                        bytes += option.bytes
                        sum += option.predictedDivergence
                    }
                    if bytes <= budget { best = min(best, sum) }
                }
                #expect(total <= best * (1 + 1e-12), "budget \(budget): \(total) vs \(best)")
            }
        }
    }

    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func unit() -> Double {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
    }
}
