import CBLAS
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

    /// The Hadamard factors of n with the least Σ orders (2, Paley orders, and products).
    static func cheapestHadamardFactors(order n: Int, memo: inout [Int: [(order: Int, matrix: [Int8])]?]) -> [(order: Int, matrix: [Int8])]? {
        if let known = memo[n] { return known }
        var best: [(order: Int, matrix: [Int8])]?
        if n == 1 { best = [] } else if n == 2 { best = [(2, [1, 1, 1, -1])] } else if let paley = paley(order: n) { best = [(n, paley)] }
        for a in stride(from: 2, through: n / 2, by: 1) where n % a == 0 {
            guard let left = cheapestHadamardFactors(order: a, memo: &memo),
                  let right = cheapestHadamardFactors(order: n / a, memo: &memo) else { continue }
            if best == nil || (left + right).reduce(0, { $0 + $1.order }) < best!.reduce(0, { $0 + $1.order }) { best = left + right }
        }
        memo[n] = .some(best)
        return best
    }

    /// A randomized Hadamard rotation diag(±1)·H/√n (a random orthogonal matrix where no
    /// Hadamard construction reaches n) in the factored form `FactoredRotation` applies in
    /// n·(p + q) operations instead of n². It is built from the cheapest split into small
    /// factors, not `hadamard(order:)`'s, which starts with Paley 384 for 1536 and would leave
    /// a 384 × 4 split.
    public static func factoredRotation(order n: Int, seed: UInt64) -> FactoredRotation {
        var random = SplitMix64(seed: seed)
        var cheapest: [Int: [(order: Int, matrix: [Int8])]?] = [:]
        guard let factors = cheapestHadamardFactors(order: n, memo: &cheapest) else {
            return FactoredRotation(order: n, signs: [Float](repeating: 1, count: n), scale: 1,
                                    factors: [(n, randomOrthogonal(order: n, random: &random).map(Float.init))])
        }
        let signs = (0..<n).map { _ in random.next() & 1 == 0 ? Float(1) : -1 }
        return FactoredRotation(order: n, signs: signs, scale: 1 / Float(n).squareRoot(),
                                factors: factors.map { ($0.order, $0.matrix.map(Float.init)) })
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

    /// A ⊗ B for A of order p and B of order r, row-major.
    static func kronecker<Element: Numeric>(_ a: [Element], _ p: Int, _ b: [Element], _ r: Int) -> [Element] {
        let n = p * r
        var result = [Element](repeating: 0, count: n * n)
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

/// Q = diag(signs) · (L ⊗ R) · scale, applied to rows without forming Q: x∘signs seen as a
/// p × q matrix X becomes Lᵀ·X·R. The Hadamard factors are merged into L and R of orders near
/// √n, so each pass is one BLAS product (1536 = 32·48: 80 multiply-adds per element against
/// 1536 dense; scalar passes over the 2·…·2·12 factors, 26 per element, measured no faster than
/// the dense sgemm: 125 against 130 tokens/s).
public struct FactoredRotation: Sendable {
    public let order: Int
    let signs: [Float]
    let scale: Float
    let left: (order: Int, matrix: [Float])
    let right: (order: Int, matrix: [Float])

    init(order: Int, signs: [Float], scale: Float, factors: [(order: Int, matrix: [Float])]) {
        self.order = order
        self.signs = signs
        self.scale = scale
        // Split the factor list where the left product comes closest to √n.
        var prefixProducts = [1]
        for factor in factors { prefixProducts.append(prefixProducts.last! * factor.order) }
        let distance = { (k: Int) in abs(log(Double(prefixProducts[k])) - log(Double(order)) / 2) }
        let split = prefixProducts.indices.min { distance($0) < distance($1) }!
        left = Self.kronecker(factors[..<split])
        right = Self.kronecker(factors[split...])
    }

    static func kronecker(_ factors: ArraySlice<(order: Int, matrix: [Float])>) -> (order: Int, matrix: [Float]) {
        factors.reduce((order: 1, matrix: [Float(1)])) { a, b in
            (a.order * b.order, OrthogonalMatrix.kronecker(a.matrix, a.order, b.matrix, b.order))
        }
    }

    /// The orders of L and R.
    var splitOrders: (Int, Int) { (left.order, right.order) }

    /// Q itself, row-major (for tests: the passes must multiply by this matrix).
    var dense: [Float] {
        var q = Self.kronecker([left, right]).matrix
        for i in 0..<order { for j in 0..<order { q[i * order + j] *= signs[i] * scale } }
        return q
    }

    /// Each of `rows` rows of `values` (rows × order, row-major) replaced by row·Q.
    public func apply(_ values: UnsafeMutablePointer<Float>, rows: Int) {
        let p = left.order, q = right.order
        for r in 0..<rows { for i in 0..<order { values[r * order + i] *= signs[i] * scale } }
        var scratch = [Float](repeating: 0, count: rows * order)
        scratch.withUnsafeMutableBufferPointer { buffer in
            let temporary = buffer.baseAddress!
            // X·R for every row's p × q matrix at once: (rows·p) × q times q × q.
            if q > 1 {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows * p), Int32(q), Int32(q), 1,
                            values, Int32(q), right.matrix, Int32(q), 0, temporary, Int32(q))
            } else {
                temporary.update(from: values, count: rows * order)
            }
            // Lᵀ·(X·R) per row.
            if p > 1 {
                for r in 0..<rows {
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(p), Int32(q), Int32(p), 1,
                                left.matrix, Int32(p), temporary + r * order, Int32(q), 0, values + r * order, Int32(q))
                }
            } else {
                values.update(from: temporary, count: rows * order)
            }
        }
    }
}
