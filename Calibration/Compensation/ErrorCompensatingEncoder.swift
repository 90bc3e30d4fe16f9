import CBLAS
import Foundation
import QuantConversion
import QuantCore
import QuantFormats

/// GPTQ-style error compensation (Frantar et al., 2022), block by block, for any codec.
///
/// A linear layer's output error for a weight change ΔW is tr(ΔW·H·ΔWᵀ) with H = E[xxᵀ] of its
/// input (from `calibrate --hessian`). Columns are quantized one codec block at a time (32, 64 or
/// 256 columns), each block by the codec's own importance-weighted quantizer, so the bytes are a
/// plain ggml/QuantKit encoding llama.cpp reads as usual. After each block, its rounding error E
/// is pushed onto the columns not yet quantized, optimally for H (the Optimal Brain Surgeon
/// update for a block of simultaneously fixed weights):
///
///     W[:, R] −= E · U_QQ⁻¹ · U_QR,   U upper triangular with H⁻¹ = UᵀU
///
/// (Q the block's columns, R those after it; GPTQ's Cholesky trick makes U's trailing rows the
/// inverse Hessians of the remaining problem). Unlike GPTQ the columns inside a block are not
/// compensated among themselves: the codec picks them together, with its own scale search.
/// H is damped by `damping`·mean(diag H) as GPTQ does, more if it is not positive definite.
public struct ErrorCompensatingEncoder: WholeTensorEncoder {
    /// Per GGUF tensor name, the mean xxᵀ of its input, packed upper triangle.
    public let hessians: [String: [Float]]
    public var damping: Double

    public init(hessians: [String: [Float]], damping: Double = 0.01) {
        self.hessians = hessians
        self.damping = damping
    }

    public func handles(tensor name: String, type: GGMLType) -> Bool {
        hessians[name] != nil && CodecRegistry.codec(for: type).map { $0.blockSize > 1 } == true
    }

    public func encode(tensor name: String, values: UnsafeMutableBufferPointer<Float>, rowLength n: Int, type: GGMLType,
                       importance: [Float]?, threads: Int) throws -> [UInt8] {
        let codec = try TensorCodec(type: type, tensor: name, threads: threads)
        let group = codec.codec.blockSize
        let rowBytes = try codec.rowBytes(rowLength: n, tensor: name)
        guard let packed = hessians[name], packed.count == n * (n + 1) / 2 else {
            throw CodecError.hessianSizeMismatch(tensor: name, rowLength: n, found: hessians[name]?.count ?? 0)
        }
        let rows = values.count / n
        let u = try Self.inverseCholeskyFactor(packed: packed, n: n, damping: damping, tensor: name)
        var output = [UInt8](repeating: 0, count: rows * rowBytes)
        var tile = [Float](repeating: 0, count: rows * group)
        let blockBytes = codec.codec.blockBytes
        let w = values.baseAddress!
        for start in stride(from: 0, to: n, by: group) {
            for r in 0..<rows { for j in 0..<group { tile[r * group + j] = w[r * n + start + j] } }
            let blocks = try codec.quantize(tile, rowLength: group, importance: importance.map { Array($0[start..<(start + group)]) }, tensor: name)
            output.withUnsafeMutableBytes { out in
                blocks.withUnsafeBytes { b in
                    for r in 0..<rows {
                        (out.baseAddress! + r * rowBytes + start / group * blockBytes)
                            .copyMemory(from: b.baseAddress! + r * blockBytes, byteCount: blockBytes)
                    }
                }
            }
            let rest = n - start - group
            guard rest > 0 else { break }
            // E = W_Q − Q(W_Q), then E·U_QQ⁻¹ in place, then W_R −= that · U_QR.
            let decoded = try codec.dequantize(blocks, rowLength: group, tensor: name)
            for i in 0..<tile.count { tile[i] -= decoded[i] }
            u.withUnsafeBufferPointer { u in
                tile.withUnsafeMutableBufferPointer { e in
                    let diagonal = u.baseAddress! + start * n + start
                    cblas_strsm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit,
                                Int32(rows), Int32(group), 1, diagonal, Int32(n), e.baseAddress, Int32(group))
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(rest), Int32(group),
                                -1, e.baseAddress, Int32(group), diagonal + group, Int32(n), 1, w + start + group, Int32(n))
                }
            }
        }
        return output
    }

    /// U (row-major, upper) with (H + λI)⁻¹ = UᵀU, from H's packed upper triangle. LAPACK is
    /// column-major, where a row-major upper triangle is a lower one: the factor of `dpotrf('L')`
    /// read row-major is exactly U.
    static func inverseCholeskyFactor(packed: [Float], n: Int, damping: Double, tensor: String) throws -> [Float] {
        var h = [Double](repeating: 0, count: n * n)
        var k = 0
        for i in 0..<n { for j in i..<n { h[i * n + j] = Double(packed[k]); h[j * n + i] = Double(packed[k]); k += 1 } }
        var meanDiagonal = 0.0
        for i in 0..<n { meanDiagonal += h[i * n + i] }
        meanDiagonal = max(meanDiagonal / Double(n), 1e-12)
        // A column no token ever used has no curvature: give it some so the factorization exists.
        for i in 0..<n where h[i * n + i] <= 0 { h[i * n + i] = meanDiagonal }
        var lambda = damping * meanDiagonal
        for _ in 0..<8 {
            var a = h
            for i in 0..<n { a[i * n + i] += lambda }
            if let factor = factorInverse(&a, n: n) { return factor }
            lambda *= 10
        }
        throw CodecError.hessianNotPositiveDefinite(tensor: tensor)
    }

    /// Overwrites `a` (symmetric positive definite) and returns the upper factor of its inverse.
    private static func factorInverse(_ a: inout [Double], n: Int) -> [Float]? {
        var size = Int32(n), info: Int32 = 0
        var upper = Int8(UInt8(ascii: "U")), lower = Int8(UInt8(ascii: "L"))
        dpotrf_(&upper, &size, &a, &size, &info)
        guard info == 0 else { return nil }
        dpotri_(&upper, &size, &a, &size, &info)
        guard info == 0 else { return nil }
        // The inverse is in the column-major upper triangle (row-major lower): mirror it.
        for i in 0..<n { for j in (i + 1)..<n { a[i * n + j] = a[j * n + i] } }
        dpotrf_(&lower, &size, &a, &size, &info)
        guard info == 0 else { return nil }
        var u = [Float](repeating: 0, count: n * n)
        for i in 0..<n { for j in i..<n { u[i * n + j] = Float(a[i * n + j]) } }
        return u
    }
}
