import Foundation

/// The report's plots as SVG: KLD against bits per weight (log axis, Pareto frontier drawn) and
/// perplexity against file size, one colour per model, every point labelled with its recipe.
struct ResultsPlots {
    let results: [BatchResult]

    private static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    private let width = 760.0, height = 500.0, left = 80.0, right = 30.0, top = 58.0, bottom = 60.0

    struct Point {
        let x: Double, y: Double, label: String, model: String
    }

    func kldAgainstBits() -> String {
        let points = results.compactMap { r -> Point? in
            guard r.status == .ok, let x = r.bitsPerWeight, let y = r.quality?.meanKLD, y > 0 else { return nil }
            return Point(x: x, y: y, label: r.recipe, model: r.model)
        }
        return chart(title: "Mean KL divergence against bits per weight (lower left is better)", xLabel: "bits per weight",
                     yLabel: "mean KLD (log scale)", points: points, logY: true, frontier: true)
    }

    func perplexityAgainstSize() -> String {
        let points = results.compactMap { r -> Point? in
            guard r.status == .ok, let bytes = r.bytes, let y = r.quality?.perplexity else { return nil }
            return Point(x: Double(bytes) / 1e6, y: y, label: r.recipe, model: r.model)
        }
        return chart(title: "Perplexity against file size", xLabel: "file size (MB)", yLabel: "perplexity", points: points,
                     logY: false, frontier: false)
    }

    /// Points not beaten on both axes by another point of the same model: the recipes worth using.
    static func frontier(_ points: [Point]) -> [Point] {
        points.filter { p in !points.contains { q in q.model == p.model && q.x <= p.x && q.y <= p.y && (q.x < p.x || q.y < p.y) } }
            .sorted { $0.x < $1.x }
    }

    private func chart(title: String, xLabel: String, yLabel: String, points: [Point], logY: Bool, frontier: Bool) -> String {
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="22" text-anchor="middle" font-size="15">\(escape(title))</text>

        """
        guard !points.isEmpty else {
            return svg + "<text x=\"\(width / 2)\" y=\"\(height / 2)\" text-anchor=\"middle\">no results to plot</text>\n</svg>\n"
        }
        let transform: (Double) -> Double = logY ? { log10($0) } : { $0 }
        let xs = points.map(\.x), ys = points.map { transform($0.y) }
        let xRange = Self.padded(xs.min()!, xs.max()!), yRange = Self.padded(ys.min()!, ys.max()!)
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - (transform(y) - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * plotHeight }
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"none\" stroke=\"#444\"/>\n"
        for tick in Self.ticks(xRange) {
            let x = px(tick)
            svg += "<line x1=\"\(x)\" y1=\"\(top)\" x2=\"\(x)\" y2=\"\(top + plotHeight)\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(x)\" y=\"\(top + plotHeight + 18)\" text-anchor=\"middle\">\(Self.format(tick))</text>\n"
        }
        for tick in Self.ticks(yRange) {
            let y = top + plotHeight - (tick - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * plotHeight
            svg += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(left + plotWidth)\" y2=\"\(y)\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">\(Self.format(logY ? pow(10, tick) : tick))</text>\n"
        }
        svg += "<text x=\"\(left + plotWidth / 2)\" y=\"\(height - 18)\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        svg += "<text transform=\"translate(18 \(top + plotHeight / 2)) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        let models = Array(Set(points.map(\.model))).sorted()
        var placed: [(x: Double, y: Double, w: Double)] = []
        /// A label beside its point where it overlaps no earlier one (tried right, below, left, above).
        func label(_ p: Point) -> String {
            let w = 6.2 * Double(p.label.count), px0 = px(p.x), py0 = py(p.y)
            let candidates = [(px0 + 6, py0 - 6), (px0 + 6, py0 + 14), (px0 - 6 - w, py0 - 6), (px0 - 6 - w, py0 + 14), (px0 + 6, py0 - 18)]
            let free = candidates.first { c in !placed.contains { abs($0.y - c.1) < 12 && c.0 < $0.x + $0.w && $0.x < c.0 + w } } ?? candidates[0]
            placed.append((free.0, free.1, w))
            return "<text x=\"\(free.0)\" y=\"\(free.1)\" font-size=\"11\">\(escape(p.label))</text>\n"
        }
        for (m, model) in models.enumerated() {
            let colour = Self.palette[m % Self.palette.count]
            let own = points.filter { $0.model == model }
            if frontier {
                let line = Self.frontier(own).map { "\(px($0.x)),\(py($0.y))" }.joined(separator: " ")
                svg += "<polyline points=\"\(line)\" fill=\"none\" stroke=\"\(colour)\" stroke-dasharray=\"5 4\"/>\n"
            }
            for p in own {
                svg += "<circle cx=\"\(px(p.x))\" cy=\"\(py(p.y))\" r=\"4\" fill=\"\(colour)\"/>" + label(p)
            }
            // Legend above the plot area, one entry per model, so it never covers a point.
            let legendX = left + 260 * Double(m)
            svg += "<circle cx=\"\(legendX + 6)\" cy=\"\(top - 14)\" r=\"4\" fill=\"\(colour)\"/>"
            svg += "<text x=\"\(legendX + 14)\" y=\"\(top - 10)\">\(escape(model))\(frontier ? " (dashed: Pareto frontier)" : "")</text>\n"
        }
        return svg + "</svg>\n"
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func padded(_ low: Double, _ high: Double) -> ClosedRange<Double> {
        let span = high - low, pad = span > 0 ? span * 0.08 : max(abs(low) * 0.1, 0.5)
        return (low - pad) ... (high + pad)
    }

    /// About six round ticks inside `range`.
    static func ticks(_ range: ClosedRange<Double>) -> [Double] {
        let raw = (range.upperBound - range.lowerBound) / 6
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var ticks: [Double] = [], value = ceil(range.lowerBound / step) * step
        while value <= range.upperBound {
            ticks.append(value)
            value += step
        }
        return ticks
    }

    static func format(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude == 0 { return "0" }
        if magnitude >= 100 { return String(format: "%.0f", value) }
        if magnitude >= 1 { return String(format: "%.4g", value) }
        return String(format: "%.2g", value)
    }
}
