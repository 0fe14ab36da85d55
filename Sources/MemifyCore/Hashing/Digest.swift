import Crypto

/// The three digests cognee's ids are built from: SHA-1 (inside uuid5), SHA-256 (chunk content
/// hashes) and MD5 (document names), computed by swift-crypto; checked against Python's hashlib
/// in the tests.
package enum Digest {
    package static func sha1(_ bytes: some Collection<UInt8>) -> [UInt8] { hash(Insecure.SHA1.self, bytes) }
    package static func sha256(_ bytes: some Collection<UInt8>) -> [UInt8] { hash(SHA256.self, bytes) }
    package static func md5(_ bytes: some Collection<UInt8>) -> [UInt8] { hash(Insecure.MD5.self, bytes) }

    /// The SHA-1 of a buffer, lent to `body` rather than copied into an array: uuid5 asks for
    /// one for every id.
    package static func withSHA1<R>(_ message: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        var hasher = Insecure.SHA1()
        hasher.update(bufferPointer: message)
        return hasher.finalize().withUnsafeBytes(body)
    }

    private static func hash<H: HashFunction>(_: H.Type, _ bytes: some Collection<UInt8>) -> [UInt8] {
        var hasher = H()
        if bytes.withContiguousStorageIfAvailable({ hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }) == nil {
            Array(bytes).withUnsafeBytes { hasher.update(bufferPointer: $0) }
        }
        return Array(hasher.finalize())
    }

    package static func hex(_ bytes: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (i, b) in bytes.enumerated() {
                out[2 * i] = hexDigit(b >> 4)
                out[2 * i + 1] = hexDigit(b & 0xF)
            }
            return bytes.count * 2
        }
    }

    /// The lowercase hex digit of a nibble (0...15).
    @inline(__always) package static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
    }

    /// The value of one hex digit (either case), or nil.
    @inline(__always) static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c &- UInt8(ascii: "A") &+ 10
        default: return nil
        }
    }
}
