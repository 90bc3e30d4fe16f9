import QuantFormats

/// Chooses one type per tensor so that the predicted divergence of the whole model is smallest
/// within a byte budget — a multiple-choice knapsack, solved the Lagrangian way: every tensor
/// starts at its cheapest option and the budget goes, step by step, to the upgrade that removes
/// the most predicted divergence per byte. Each tensor's options are first reduced to their lower
/// convex hull (bytes against divergence), so a tensor's upgrades come in falling efficiency and
/// the greedy choice is optimal at every budget the steps land on exactly.
///
/// Predicted divergences add across tensors: for small independent perturbations the KL divergence
/// is a quadratic form in the logit error, and the cross terms of independent errors average out.
public enum MixAllocator {
    public struct Option: Sendable, Equatable {
        public let type: GGMLType
        public let bytes: UInt64
        public let predictedDivergence: Double
        public init(type: GGMLType, bytes: UInt64, predictedDivergence: Double) {
            self.type = type
            self.bytes = bytes
            self.predictedDivergence = predictedDivergence
        }
    }

    public struct Choices: Sendable {
        public let name: String
        public let options: [Option]
        public init(name: String, options: [Option]) {
            self.name = name
            self.options = options
        }
    }

    public enum AllocationError: Error, Equatable, CustomStringConvertible {
        case budgetTooSmall(budget: UInt64, cheapest: UInt64)
        public var description: String {
            switch self {
            case let .budgetTooSmall(budget, cheapest):
                return "the mix search's cheapest types need \(cheapest) bytes, more than the \(budget) left for them (pick a larger --type preset or --target-size)"
            }
        }
    }

    /// One option per tensor (by name), total bytes ≤ `budget`.
    public static func allocate(_ tensors: [Choices], budget: UInt64) throws -> [String: Option] {
        let hulls = tensors.map { lowerHull($0.options) }
        var step = [Int](repeating: 0, count: tensors.count)
        var used = hulls.reduce(0) { $0 + $1[0].bytes }
        guard used <= budget else { throw AllocationError.budgetTooSmall(budget: budget, cheapest: used) }
        while true {
            var best: (tensor: Int, efficiency: Double)?
            for (i, hull) in hulls.enumerated() where step[i] + 1 < hull.count {
                let from = hull[step[i]], to = hull[step[i] + 1]
                guard used - from.bytes + to.bytes <= budget else { continue }
                let efficiency = (from.predictedDivergence - to.predictedDivergence) / Double(to.bytes - from.bytes)
                if best.map({ efficiency > $0.efficiency }) ?? true { best = (i, efficiency) }
            }
            guard let (i, _) = best else { break }
            used = used - hulls[i][step[i]].bytes + hulls[i][step[i] + 1].bytes
            step[i] += 1
        }
        return Dictionary(uniqueKeysWithValues: tensors.indices.map { (tensors[$0].name, hulls[$0][step[$0]]) })
    }

    /// The options no mixture of two others beats: sorted by bytes, each strictly better than the
    /// one before, with falling divergence saved per byte from step to step.
    static func lowerHull(_ options: [Option]) -> [Option] {
        precondition(!options.isEmpty, "a tensor needs at least one option")
        let sorted = options.sorted { ($0.bytes, $0.predictedDivergence) < ($1.bytes, $1.predictedDivergence) }
        var hull: [Option] = []
        for option in sorted {
            if let last = hull.last, option.predictedDivergence >= last.predictedDivergence { continue }
            // Drop the previous point while it lies on or above the line from its predecessor to
            // this option (its upgrade would be less efficient than the one after it).
            while hull.count >= 2 {
                let a = hull[hull.count - 2], b = hull[hull.count - 1]
                let slopeAB = (a.predictedDivergence - b.predictedDivergence) / Double(b.bytes - a.bytes)
                let slopeBC = (b.predictedDivergence - option.predictedDivergence) / Double(option.bytes - b.bytes)
                if slopeBC >= slopeAB { hull.removeLast() } else { break }
            }
            hull.append(option)
        }
        return hull
    }
}
