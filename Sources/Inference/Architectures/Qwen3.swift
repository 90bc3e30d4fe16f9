extension ModelArchitecture {
    /// Qwen3 (`src/models/qwen3.cpp`): llama's block with a per-head RMSNorm on queries and keys
    /// before RoPE on halves (NEOX); the head size is its own (`attention.key_length`), so the
    /// queries can be wider than the residual stream.
    public static let qwen3 = ModelArchitecture(name: "qwen3", ropeStyle: .halves, normsQueriesAndKeys: true,
                                                allowsAttentionBiases: true)
}
