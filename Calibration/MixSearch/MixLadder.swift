import QuantFormats

/// The types the mix search may give a tensor, by the blocks its rows are made of. For ggml
/// presets only types llama.cpp loads, so a searched file runs everywhere a llama-quantize file
/// does.
enum MixLadder {
    /// Rows that are whole 256-blocks: the K-quants (llama.cpp's mixes are made of them) and Q8_0.
    static let superBlockRows: [GGMLType] = [.Q3_K, .Q4_K, .Q5_K, .Q6_K, .Q8_0]
    /// Rows of 32-blocks only (SmolLM2's 576 columns): IQ4_NL is the 4.5-bit type with the least
    /// error there (non-uniform levels), Q5_0/Q5_1 the 5-bit steps, then Q8_0.
    static let blockRows: [GGMLType] = [.IQ4_NL, .Q5_0, .Q5_1, .Q8_0]

    /// QuantKit's NF4 presets: the user asked for bitsandbytes' NF4, so every tensor stays NF4 (or
    /// NF4_DQ) unless measured sensitivity buys it a wider ggml type — never another 4-bit format
    /// and nothing narrower. The file needs QuantKit's runtime anyway (NF4 is our extension).
    static let nf4Presets: Set<GGMLType> = [.NF4, .NF4_DQ]
    static let superBlockUpgrades: [GGMLType] = [.Q5_K, .Q6_K, .Q8_0]
    static let blockUpgrades: [GGMLType] = [.Q5_0, .Q5_1, .Q8_0]

    /// Candidates for a tensor with `rowLength` columns planned as `planned` under a preset whose
    /// default type is `preset`, cheapest first; the planned type is always among them (so the
    /// search can keep the preset's choice).
    static func candidates(rowLength: UInt64, planned: GGMLType, preset: GGMLType) -> [GGMLType] {
        var ladder: [GGMLType]
        if nf4Presets.contains(preset) {
            ladder = rowLength % 64 == 0 ? [preset] : []
            ladder += rowLength % 256 == 0 ? superBlockUpgrades : rowLength % 32 == 0 ? blockUpgrades : []
        } else {
            ladder = rowLength % 256 == 0 ? superBlockRows : rowLength % 32 == 0 ? blockRows : []
        }
        var types = ladder.filter { rowLength % UInt64($0.traits!.blockSize) == 0 }
        if !types.contains(planned) { types.append(planned) }
        // By size; equal sizes keep the ladder's order (the planned type last).
        return types.enumerated().sorted {
            ($0.element.traits!.rowBytes(elements: rowLength)!, $0.offset) < ($1.element.traits!.rowBytes(elements: rowLength)!, $1.offset)
        }.map(\.element)
    }
}
