import QuantFormats

/// Integer decode-and-dot: Σⱼ wⱼ·xⱼ over one stored row against activations quantized to int8
/// (`QuantizedActivations`), the way llama.cpp's `ggml_vec_dot_*_q8_*` kernels work: each block's
/// levels stay bytes and meet the activation bytes in `pmaddubsw`/`pmaddwd` (32 products in two
/// instructions), and only the per-block sum is scaled in f32. On the generation path this is
/// 2–3× the f32 fused kernels (`quantkit-bench rowdot`), whose cost is converting levels to floats.
///
/// The kernels use AVX2 through the compiler's Intel intrinsics module, so they exist only in
/// native builds for AVX2 machines (Package.swift defines AVX2); elsewhere `int8RowDot(for:)` is
/// nil and generation uses the f32 kernels.
public protocol Int8RowDotCodec: BlockCodec {
    static func dot(_ row: UnsafeRawPointer, _ x: QuantizedActivations, count: Int) -> Float
}

extension CodecRegistry {
    /// The integer dot of `type`, or nil (no kernel, or a build without AVX2).
    public static func int8RowDot(for type: GGMLType) -> (any Int8RowDotCodec.Type)? {
        codec(for: type) as? any Int8RowDotCodec.Type
    }
}
