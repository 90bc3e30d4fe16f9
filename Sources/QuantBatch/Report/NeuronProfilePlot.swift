/// The calibration run's hot/cold neuron profile as SVG: per layer, how often the FFN neurons
/// fire — a bar from the 10th to the 90th percentile over the layer's neurons of the fraction of
/// calibration tokens on which a neuron is active, the median marked — one chart per model, from
/// the first of its results that recorded statistics. Low bars are layers of mostly cold neurons
/// (PowerInfer's observation); a wide bar is a layer with a few hot neurons.
struct NeuronProfilePlot {
    let results: [BatchResult]

    func svg() -> String {
        var profiles: [(model: String, recipe: String, layers: [[Double]])] = []
        for result in results where result.neuronActivity?.isEmpty == false && !profiles.contains(where: { $0.model == result.model }) {
            profiles.append((result.model, result.recipe, result.neuronActivity!))
        }
        let bar = 16.0, left = 60.0, chartHeight = 180.0, gap = 70.0
        let layers = profiles.map(\.layers.count).max() ?? 0
        let width = max(700, left + bar * Double(layers) + 30), height = 50 + (chartHeight + gap) * Double(max(1, profiles.count))
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        <text x="10" y="20" font-size="14">FFN neuron activity per layer: share of calibration tokens on which a neuron is active</text>
        <text x="10" y="36">bar: 10th–90th percentile over the layer's neurons; tick: median</text>

        """
        guard !profiles.isEmpty else { return svg + "<text x=\"10\" y=\"60\">no recipe recorded statistics (stats: calibrate)</text>\n</svg>\n" }
        for (p, profile) in profiles.enumerated() {
            let top = 56 + (chartHeight + gap) * Double(p), bottom = top + chartHeight
            func y(_ share: Double) -> Double { bottom - share * (chartHeight - 20) }
            svg += "<text x=\"10\" y=\"\(top + 4)\" font-size=\"12\">\(profile.model) (statistics of \(profile.recipe))</text>\n"
            for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
                svg += "<line x1=\"\(left)\" y1=\"\(y(tick))\" x2=\"\(left + bar * Double(layers))\" y2=\"\(y(tick))\" stroke=\"#eee\"/>"
                svg += "<text x=\"\(left - 6)\" y=\"\(y(tick) + 4)\" text-anchor=\"end\">\(Int(tick * 100)) %</text>\n"
            }
            for (layer, q) in profile.layers.enumerated() where q.count == 3 {
                let x = left + bar * Double(layer)
                svg += "<rect x=\"\(x + 2)\" y=\"\(y(q[2]))\" width=\"\(bar - 4)\" height=\"\(max(1, y(q[0]) - y(q[2])))\" fill=\"#9ec3e6\"/>"
                svg += "<line x1=\"\(x + 1)\" y1=\"\(y(q[1]))\" x2=\"\(x + bar - 1)\" y2=\"\(y(q[1]))\" stroke=\"#1f4e79\" stroke-width=\"2\"/>"
                if layer % 5 == 0 { svg += "<text x=\"\(x + bar / 2)\" y=\"\(bottom + 14)\" text-anchor=\"middle\">\(layer)</text>" }
            }
            svg += "\n<text x=\"\(left)\" y=\"\(bottom + 30)\">layer</text>\n"
        }
        return svg + "</svg>\n"
    }
}
