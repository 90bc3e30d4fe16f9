/// The calibration run's hot/cold neuron profile as SVG bars: per layer, the share of FFN neurons
/// active on under 1 % of the calibration tokens (PowerInfer's "cold" neurons), one chart per
/// model, from the first of its results that recorded statistics.
struct NeuronProfilePlot {
    let results: [BatchResult]

    func svg() -> String {
        var profiles: [(model: String, recipe: String, shares: [Double])] = []
        for result in results where result.coldNeuronShare?.isEmpty == false && !profiles.contains(where: { $0.model == result.model }) {
            profiles.append((result.model, result.recipe, result.coldNeuronShare!))
        }
        let bar = 14.0, left = 60.0, chartHeight = 160.0, gap = 70.0
        let layers = profiles.map(\.shares.count).max() ?? 0
        let width = max(420, left + bar * Double(layers) + 30), height = 40 + (chartHeight + gap) * Double(max(1, profiles.count))
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        <text x="10" y="20" font-size="14">Cold FFN neurons per layer: share active on under 1 % of calibration tokens</text>

        """
        guard !profiles.isEmpty else { return svg + "<text x=\"10\" y=\"44\">no recipe recorded statistics (stats: calibrate)</text>\n</svg>\n" }
        for (p, profile) in profiles.enumerated() {
            let top = 40 + (chartHeight + gap) * Double(p), bottom = top + chartHeight
            svg += "<text x=\"10\" y=\"\(top + 4)\" font-size=\"12\">\(profile.model) (statistics of \(profile.recipe))</text>\n"
            for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
                let y = bottom - tick * (chartHeight - 20)
                svg += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(left + bar * Double(layers))\" y2=\"\(y)\" stroke=\"#eee\"/>"
                svg += "<text x=\"\(left - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">\(Int(tick * 100)) %</text>\n"
            }
            for (layer, share) in profile.shares.enumerated() {
                let h = share * (chartHeight - 20)
                svg += "<rect x=\"\(left + bar * Double(layer))\" y=\"\(bottom - h)\" width=\"\(bar - 2)\" height=\"\(h)\" fill=\"#4a7fb5\"/>"
                if layer % 5 == 0 { svg += "<text x=\"\(left + bar * Double(layer) + bar / 2)\" y=\"\(bottom + 14)\" text-anchor=\"middle\">\(layer)</text>" }
            }
            svg += "\n<text x=\"\(left)\" y=\"\(bottom + 30)\">layer</text>\n"
        }
        return svg + "</svg>\n"
    }
}
