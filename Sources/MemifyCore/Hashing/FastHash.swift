/// A fast 128-bit hash for change detection (two independently seeded lanes of xxHash64's round
/// and avalanche): an unchanged turn must cost little more than reading it, and SHA-256 in pure
/// Swift was a quarter of a no-op run. Not cryptographic: it tells an edit from no edit; it is
/// not meant to resist someone who forges cache contents to collide on purpose.
package enum FastHash {
    private static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let p3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

    @inline(__always) private static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

    @inline(__always) private static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
        rotl(acc &+ input &* p2, 31) &* p1
    }

    static func lane(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        finishOne(seed &+ p5 &+ UInt64(bytes.count), bytes, from: 0)
    }

    /// The end of one XXH64 chain: the remaining 8-byte words, then the last 0–7 bytes, then
    /// the avalanche.
    @inline(__always) private static func finishOne(_ h: UInt64, _ bytes: UnsafeRawBufferPointer, from start: Int) -> UInt64 {
        var h = h
        var i = start
        while i + 8 <= bytes.count {
            h ^= round(0, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            h = rotl(h, 27) &* p1 &+ p4
            i += 8
        }
        var tail = UnsafeRawBufferPointer(rebasing: bytes[i...])
        return finish(finishTail(h, &tail))
    }

    static let seedA: UInt64 = 0x6D65_6D69_6679_2D31
    static let seedB: UInt64 = 0x7475_726E_2D68_6173

    /// The two 64-bit halves of the 128-bit hash: `lane(bytes, seed: seedA)` and
    /// `lane(bytes, seed: seedB)`, computed in one pass (two independent chains keep the CPU's
    /// multipliers busy: about twice as fast as one lane after the other).
    package static func lanes(_ bytes: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        let n = bytes.count
        return finishPair(seedA &+ p5 &+ UInt64(n), seedB &+ p5 &+ UInt64(n), bytes, from: 0)
    }

    /// The end both pair hashes share: the remaining 8-byte words, then the last 0–7 bytes as
    /// lane() does them, then the avalanche.
    @inline(__always) private static func finishPair(_ a: UInt64, _ b: UInt64, _ bytes: UnsafeRawBufferPointer,
                                                     from start: Int) -> (UInt64, UInt64) {
        var a = a, b = b
        var i = start
        while i + 8 <= bytes.count {
            let k = round(0, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            a ^= k
            b ^= k
            a = rotl(a, 27) &* p1 &+ p4
            b = rotl(b, 27) &* p1 &+ p4
            i += 8
        }
        var tail = UnsafeRawBufferPointer(rebasing: bytes[i...])
        if tail.isEmpty { return (finish(a), finish(b)) }
        a = finishTail(a, &tail)
        tail = UnsafeRawBufferPointer(rebasing: bytes[i...])
        b = finishTail(b, &tail)
        return (finish(a), finish(b))
    }

    @inline(__always) private static func finishTail(_ h: UInt64, _ tail: inout UnsafeRawBufferPointer) -> UInt64 {
        var h = h
        var i = 0
        if i + 4 <= tail.count {
            let k = UInt64(UInt32(littleEndian: tail.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
            h ^= k &* p1
            h = rotl(h, 23) &* p2 &+ p3
            i += 4
        }
        while i < tail.count {
            h ^= UInt64(tail[i]) &* p5
            h = rotl(h, 11) &* p1
            i += 1
        }
        return h
    }

    @inline(__always) private static func finish(_ h: UInt64) -> UInt64 {
        var h = h
        h ^= h >> 33
        h = h &* p2
        h ^= h >> 29
        h = h &* p3
        h ^= h >> 32
        return h
    }

    /// XXH64 of `bytes` under one seed (four accumulators over 32-byte stripes): what a session
    /// fingerprint hashes each element with. For inputs under 32 bytes it is ``lane(_:seed:)``.
    package static func xxh64(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let n = bytes.count
        var i = 0
        var h: UInt64
        if n >= 32 {
            var v1 = seed &+ p1 &+ p2, v2 = seed &+ p2, v3 = seed, v4 = seed &- p1
            while i + 32 <= n {
                v1 = round(v1, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
                v2 = round(v2, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)))
                v3 = round(v3, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self)))
                v4 = round(v4, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self)))
                i += 32
            }
            h = converge(v1, v2, v3, v4)
        } else {
            h = seed &+ p5
        }
        return finishOne(h &+ UInt64(n), bytes, from: i)
    }

    /// XXH64's merge of its four accumulators.
    @inline(__always) private static func converge(_ v1: UInt64, _ v2: UInt64, _ v3: UInt64, _ v4: UInt64) -> UInt64 {
        var h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
        h = (h ^ round(0, v1)) &* p1 &+ p4
        h = (h ^ round(0, v2)) &* p1 &+ p4
        h = (h ^ round(0, v3)) &* p1 &+ p4
        h = (h ^ round(0, v4)) &* p1 &+ p4
        return h
    }

    /// The 16 bytes of the hash of a buffer.
    package static func digest128(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        let (a, b) = lanes(bytes)
        return withUnsafeBytes(of: (a.littleEndian, b.littleEndian)) { Array($0) }
    }

    /// 32 lowercase hex digits of the hash of `bytes`.
    package static func hex128(_ bytes: [UInt8]) -> String {
        let (a, b) = bytes.withUnsafeBytes { lanes($0) }
        return hex128(a, b)
    }

    /// 32 lowercase hex digits: `a`'s 16, then `b`'s.
    package static func hex128(_ a: UInt64, _ b: UInt64) -> String {
        String(unsafeUninitializedCapacity: 32) { out in
            for i in 0..<16 {
                out[i] = Digest.hexDigit(UInt8(truncatingIfNeeded: a >> UInt64(60 - 4 * i)) & 0xF)
                out[16 + i] = Digest.hexDigit(UInt8(truncatingIfNeeded: b >> UInt64(60 - 4 * i)) & 0xF)
            }
            return 32
        }
    }

    /// A hex digit's value (either case), and 1 when `c` is not one.
    @inline(__always) private static func hexNibble(_ c: UInt8) -> (UInt8, UInt8) {
        let decimal = c &- UInt8(ascii: "0") < 10
        let letter = (c | 0x20) &- UInt8(ascii: "a") < 6
        return ((c & 0xF) &+ (c >> 6) &* 9, (decimal || letter) ? 0 : 1)
    }

    /// The two words `hex128(_:_:)` wrote, or nil unless `text` is 32 hex digits.
    package static func words128(hex text: UnsafeRawBufferPointer) -> (UInt64, UInt64)? {
        guard text.count == 32 else { return nil }
        // Branch-free: a state database's fingerprints are read by the hundred thousand.
        var a: UInt64 = 0, b: UInt64 = 0
        var invalid: UInt8 = 0
        for i in 0..<16 {
            let (digitA, badA) = hexNibble(text[i])
            let (digitB, badB) = hexNibble(text[16 + i])
            a = a << 4 | UInt64(digitA)
            b = b << 4 | UInt64(digitB)
            invalid |= badA | badB
        }
        return invalid == 0 ? (a, b) : nil
    }
}
