@testable import QuantCalibration
import Testing
import TestScratch

/// FIPS 180-4 test vectors, and chunked updates across block boundaries.
@Suite(.tags(.unit))
struct SHA256Tests {
    func hex(_ text: String) -> String { Array(text.utf8).withUnsafeBytes { SHA256.hex($0) } }

    @Test func knownVectors() {
        #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func chunkedUpdatesEqualOneShot() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let oneShot = bytes.withUnsafeBytes { SHA256.hex($0) }
        for chunk in [1, 7, 63, 64, 65, 300] {
            var hasher = SHA256()
            for start in stride(from: 0, to: bytes.count, by: chunk) { hasher.update(Array(bytes[start ..< min(bytes.count, start + chunk)])) }
            #expect(hasher.finalizeHex() == oneShot, "chunk \(chunk)")
        }
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(million.withUnsafeBytes { SHA256.hex($0) } == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
