extension ModelArchitecture {
    /// Llama 1/2/3, SmolLM2, Mistral as llama.cpp converts it (`src/models/llama.cpp`): RMSNorm,
    /// SwiGLU, grouped-query attention, RoPE on adjacent pairs of the converter-permuted rows,
    /// optional Llama 3 frequency factors (`rope_freqs.weight`) and tied output.
    public static let llama = ModelArchitecture(name: "llama", ropeStyle: .adjacentPairs, normsQueriesAndKeys: false,
                                                allowsAttentionBiases: false)
}
