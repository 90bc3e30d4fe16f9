import Foundation

/// Orthogonal n × n matrices for rotating a model's channels. A Hadamard matrix scaled by 1/√n
/// spreads every channel evenly over all others (entries ±1/√n), which is what flattens outlier
/// channels for int8 (QuaRot, Ashkboos et al., 2024); a random orthogonal matrix does it only on
/// average — on the test bed's residual stream W8A8 KLD 0.0118 with Hadamard against 0.0125
/// with a random one (10 chunks) — so it is the fallback for orders with no construction here.
public enum OrthogonalMatrix {
    /// What `rotation(order:seed:)` built.
    public enum Kind: String, Sendable, Codable { case hadamard, random }

    /// diag(±1, seeded) · H / √n when a Hadamard matrix of order n is constructible, else a
    /// seeded random orthogonal matrix. Row-major, Double.
    public static func rotation(order n: Int, seed: UInt64) -> (matrix: [Double], kind: Kind) {
        var random = SplitMix64(seed: seed)
        guard let hadamard = hadamard(order: n) else { return (randomOrthogonal(order: n, random: &random), .random) }
        let scale = 1 / Double(n).squareRoot()
        var result = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            let sign: Double = random.next() & 1 == 0 ? scale : -scale
            for j in 0..<n { result[i * n + j] = sign * Double(hadamard[i * n + j]) }
        }
        return (result, .hadamard)
    }

    /// A ±1 matrix H with H·Hᵀ = n·I, row-major, or nil when none of the constructions reach n:
    /// Sylvester (powers of two), Paley I (q + 1 for a prime q ≡ 3 mod 4) and Kronecker products
    /// of those — 576 = 12·12·4, 960 = 12·20·4, 3072 = 12·256, 5120 = 20·256, every 2^k.
    public static func hadamard(order n: Int) -> [Int8]? {
        guard n >= 1 else { return nil }
        if n == 1 { return [1] }
        if n == 2 { return [1, 1, 1, -1] }
        if let paley = paley(order: n) { return paley }
        // Largest factor first keeps the recursion shallow; any split that works will do.
        for a in stride(from: n / 2, through: 2, by: -1) where n % a == 0 {
            guard let left = hadamard(order: a), let right = hadamard(order: n / a) else { continue }
            return kronecker(left, a, right, n / a)
        }
        return nil
    }

    /// Paley's first construction: with Q the Jacobsthal matrix of GF(q) (Q[i][j] = χ(j − i),
    /// χ the quadratic character), H = I + [[0, 1ᵀ], [−1, Q]] has order q + 1.
    static func paley(order n: Int) -> [Int8]? {
        let q = n - 1
        guard q >= 3, q % 4 == 3, isPrime(q) else { return nil }
        var isResidue = [Bool](repeating: false, count: q)
        for x in 1..<q { isResidue[x * x % q] = true }
        func chi(_ a: Int) -> Int8 { let r = ((a % q) + q) % q; return r == 0 ? 0 : (isResidue[r] ? 1 : -1) }
        var h = [Int8](repeating: 0, count: n * n)
        for j in 1..<n { h[j] = 1; h[j * n] = -1 }
        for i in 0..<q { for j in 0..<q { h[(i + 1) * n + j + 1] = chi(j - i) } }
        for i in 0..<n { h[i * n + i] += 1 }
        return h
    }

    static func kronecker(_ a: [Int8], _ p: Int, _ b: [Int8], _ r: Int) -> [Int8] {
        let n = p * r
        var result = [Int8](repeating: 0, count: n * n)
        for i in 0..<p { for j in 0..<p { for k in 0..<r { for l in 0..<r {
            result[(i * r + k) * n + j * r + l] = a[i * p + j] * b[k * r + l]
        } } } }
        return result
    }

    static func isPrime(_ q: Int) -> Bool {
        guard q >= 2 else { return false }
        var d = 2
        while d * d <= q { if q % d == 0 { return false }; d += 1 }
        return true
    }

    /// Gram–Schmidt (twice, for orthogonality to rounding) on seeded Gaussian rows.
    static func randomOrthogonal(order n: Int, random: inout SplitMix64) -> [Double] {
        var m = (0..<(n * n)).map { _ -> Double in
            // Box–Muller; the Gaussian makes the distribution rotation-invariant (Haar).
            let u = max(random.nextUnit(), 1e-300), v = random.nextUnit()
            return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
        }
        for i in 0..<n {
            for _ in 0..<2 {
                for k in 0..<i {
                    var dot = 0.0
                    for j in 0..<n { dot += m[i * n + j] * m[k * n + j] }
                    for j in 0..<n { m[i * n + j] -= dot * m[k * n + j] }
                }
            }
            var norm = 0.0
            for j in 0..<n { norm += m[i * n + j] * m[i * n + j] }
            norm = norm.squareRoot()
            for j in 0..<n { m[i * n + j] /= norm }
        }
        return m
    }
}
