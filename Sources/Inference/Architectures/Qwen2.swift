extension ModelArchitecture {
    /// Qwen2 and Qwen2.5 (`src/models/qwen2.cpp`): llama's block with q/k/v biases and RoPE on
    /// halves (NEOX), q/k rows stored as Hugging Face has them.
    public static let qwen2 = ModelArchitecture(name: "qwen2", ropeStyle: .halves, normsQueriesAndKeys: false,
                                                allowsAttentionBiases: true)
}
