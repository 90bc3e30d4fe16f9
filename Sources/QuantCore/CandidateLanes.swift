/// Scratch for scale searches that run their candidates as SIMD lanes (see `KQuantSearch`):
/// 24 candidates per table, loaded as three 8-lane registers, on the stack. Plain scalars in and
/// out, because Swift compiles dynamic subscripts into SIMD values (and any SIMD wider than the
/// machine's) into stack traffic: a SIMD32 version of the Q6_K search ran 100× slower than
/// scalar code, and heap arrays per 16-weight group cost a quarter of the gain.
struct CandidateLanes {
    typealias Registers = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
    static let count = 24
    /// Three tables of `count` floats: the candidates' inverse scales and two result sums.
    let iscale: UnsafeMutablePointer<Float>
    var first: UnsafeMutablePointer<Float> { iscale + Self.count }
    var second: UnsafeMutablePointer<Float> { iscale + 2 * Self.count }

    /// Runs `body` with lanes whose inverse scales all start as `value`.
    static func with<R>(repeating value: Float, _ body: (CandidateLanes) -> R) -> R {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * count) { buffer in
            buffer.initialize(repeating: value)
            return body(CandidateLanes(iscale: buffer.baseAddress!))
        }
    }

    static func load(_ table: UnsafeMutablePointer<Float>) -> Registers {
        let raw = UnsafeRawPointer(table)
        return (raw.loadUnaligned(as: SIMD8<Float>.self), raw.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self),
                raw.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self))
    }

    static func store(_ v: Registers, into table: UnsafeMutablePointer<Float>) {
        let raw = UnsafeMutableRawPointer(table)
        raw.storeBytes(of: v.0, as: SIMD8<Float>.self)
        raw.storeBytes(of: v.1, toByteOffset: 32, as: SIMD8<Float>.self)
        raw.storeBytes(of: v.2, toByteOffset: 64, as: SIMD8<Float>.self)
    }
}
