import ArgumentParser
import Foundation

/// A size on the command line: bytes, or a number with a unit — decimal (KB, MB, GB: 10³ⁿ, as
/// file managers and llama.cpp's logs print sizes) or binary (KiB, MiB, GiB: 2¹⁰ⁿ). "91.7MB" is
/// 91,700,000 bytes; "91727264" is exact.
struct ByteSize: ExpressibleByArgument, Equatable {
    let bytes: UInt64

    static let units: [(suffix: String, factor: Double)] = [
        ("KIB", 1024), ("MIB", 1024 * 1024), ("GIB", 1024 * 1024 * 1024),
        ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("K", 1e3), ("M", 1e6), ("G", 1e9), ("B", 1),
    ]

    init(bytes: UInt64) { self.bytes = bytes }

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces).uppercased()
        if let exact = UInt64(text) {
            bytes = exact
            return
        }
        guard let unit = Self.units.first(where: { text.hasSuffix($0.suffix) }),
              let number = Double(text.dropLast(unit.suffix.count).trimmingCharacters(in: .whitespaces)),
              number.isFinite, number >= 0, number * unit.factor < 1.8e19 else { return nil }
        bytes = UInt64((number * unit.factor).rounded(.down))
    }

    static var defaultCompletionKind: CompletionKind { .default }
}
