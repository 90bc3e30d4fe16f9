import Foundation
import QuantFormats

/// The report's per-tensor picture: for each variant a panel of the blocks' weight matrices
/// (rows: attn_q … ffn_down, columns: layers), each cell coloured by the matrix's relative error
/// ‖W − W_base‖ / ‖W_base‖ on one log scale shared by all panels — where a recipe spends its bits.
struct TensorErrorHeatMap {
    let results: [BatchResult]

    static let kinds: [LlamaTensor] = [.attentionQ, .attentionK, .attentionV, .attentionOutput, .ffnGate, .ffnUp, .ffnDown]
    private let cell = 14.0, left = 110.0, panelGap = 34.0, top = 48.0

    func svg() -> String {
        let panels = results.filter { $0.status == .ok && !($0.tensorErrors ?? [:]).isEmpty }
        let grids = panels.map(grid)
        let layers = grids.map { $0.first?.count ?? 0 }.max() ?? 0
        let values = grids.flatMap { $0.flatMap { $0.compactMap { $0 } } }.filter { $0 > 0 }
        let width = max(700, left + cell * Double(layers) + 30)
        let panelHeight = cell * Double(Self.kinds.count) + panelGap
        let height = top + panelHeight * Double(panels.count) + 50
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        <text x="10" y="20" font-size="14">Relative error of each block matrix against the unquantized file (log colour scale)</text>

        """
        guard let low = values.min(), let high = values.max() else { return svg + "<text x=\"10\" y=\"44\">no per-tensor errors to plot</text>\n</svg>\n" }
        let (a, b) = (log10(low), max(log10(high), log10(low) + 1e-9))
        func colour(_ value: Double) -> String {
            let t = (log10(max(value, low)) - a) / (b - a)  // 0 = smallest error (light), 1 = largest (dark red)
            let r = Int(255 - 80 * t), g = Int(245 - 220 * t), bl = Int(220 - 200 * t)
            return "rgb(\(r),\(g),\(bl))"
        }
        svg += "<text x=\"10\" y=\"36\">light: \(String(format: "%.2g", low)) … dark: \(String(format: "%.2g", high)); grey: not measured</text>\n"
        for (p, (result, grid)) in zip(panels, grids).enumerated() {
            let y0 = top + panelHeight * Double(p)
            svg += "<text x=\"10\" y=\"\(y0 + 12)\" font-size=\"12\">\(result.model)/\(result.recipe)</text>\n"
            for (k, row) in grid.enumerated() {
                let y = y0 + 18 + cell * Double(k)
                svg += "<text x=\"\(left - 6)\" y=\"\(y + cell - 3)\" text-anchor=\"end\">\(Self.kinds[k].rawValue)</text>"
                for (l, value) in row.enumerated() {
                    svg += "<rect x=\"\(left + cell * Double(l))\" y=\"\(y)\" width=\"\(cell - 1)\" height=\"\(cell - 1)\" fill=\"\(value.map(colour) ?? "#ddd")\"/>"
                }
                svg += "\n"
            }
        }
        let axisY = top + panelHeight * Double(panels.count) + 4
        for l in stride(from: 0, to: layers, by: 5) {
            svg += "<text x=\"\(left + cell * Double(l) + cell / 2)\" y=\"\(axisY)\" text-anchor=\"middle\">\(l)</text>"
        }
        return svg + "\n<text x=\"\(left)\" y=\"\(axisY + 18)\">layer</text>\n</svg>\n"
    }

    /// kinds × layers, nil where the variant has no value.
    private func grid(_ result: BatchResult) -> [[Double?]] {
        var cells: [LlamaTensor: [Int: Double]] = [:]
        var layers = 0
        for (name, value) in result.tensorErrors ?? [:] {
            guard let (tensor, index) = LlamaTensor.parse(name), let layer = index, Self.kinds.contains(tensor) else { continue }
            cells[tensor, default: [:]][layer] = value
            layers = max(layers, layer + 1)
        }
        return Self.kinds.map { kind in (0..<layers).map { cells[kind]?[$0] } }
    }
}
