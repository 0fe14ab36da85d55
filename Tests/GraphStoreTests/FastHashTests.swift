@testable import MemifyCore
@testable import GraphStore
@testable import SessionCache
@testable import Extraction
@testable import Pipeline
@testable import MemifyTools
import Testing

@Suite("the change-detection hash")
struct FastHashTests {
    @Test("stable across versions: every stored content hash depends on it")
    func stable() {
        #expect(FastHash.hex128(Array("Session ID: s\n\nQuestion: q\n\nAnswer: a\n\n".utf8)) == "ace92554971bae5f6ddf67b7a770f914")
        #expect(FastHash.hex128([]).count == 32)
    }

    @Test("every one-byte edit, at every position of inputs up to 70 bytes, changes the hash; lengths never collide")
    func sensitive() {
        var seen: Set<String> = []
        for length in 0...70 {
            let base = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let hash = FastHash.hex128(base)
            #expect(seen.insert(hash).inserted, "length \(length) collides")
            for i in 0..<length {
                var edited = base
                edited[i] ^= 0x01
                #expect(FastHash.hex128(edited) != hash, "flip at \(i) of \(length)")
            }
        }
    }

    @Test("the two lanes computed in one pass equal each lane computed alone, at every length up to 70")
    func fusedLanes() {
        for length in 0...70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 17) }
            bytes.withUnsafeBytes { raw in
                let (a, b) = FastHash.lanes(raw)
                #expect(a == FastHash.lane(raw, seed: FastHash.seedA), "lane A at length \(length)")
                #expect(b == FastHash.lane(raw, seed: FastHash.seedB), "lane B at length \(length)")
            }
        }
    }

    @Test("xxh64 is XXH64 under each seed (reference values from the xxhash C library), at lengths around its 32-byte stripes")
    func xxh64Reference() {
        let cases: [([UInt8], UInt64, UInt64)] = [
            ([], 0xef46db3751d8e999, 0xb9900f9bd38f7bfd),
            (Array("a".utf8), 0xd24ec4f1a98c6e5b, 0xa9d7d08235afdc79),
            (Array("abc".utf8), 0x44bc2cf5ad770999, 0xdada959a0bd3a274),
            ((0..<5).flatMap { _ in (0...255).map { UInt8($0) } }, 0xafc184ad7938a354, 0xe3d445c0ff744ec6),
            (Array(repeating: UInt8(ascii: "x"), count: 31), 0x60dd0d01083b99f0, 0x32be4f5223f761a9),
            (Array(repeating: UInt8(ascii: "y"), count: 32), 0x64da1f1d3495ce66, 0xd8f53490e034469b),
            (Array(repeating: UInt8(ascii: "z"), count: 33), 0xc5241253c64e0268, 0x3b7cb08bec00c284),
            (Array(String(repeating: "memify", count: 17).utf8), 0xfd3dc0a990474fdb, 0x989b9b7e58c73af5),
        ]
        for (bytes, zero, seeded) in cases {
            #expect(bytes.withUnsafeBytes { FastHash.xxh64($0, seed: 0) } == zero, "xxh64 seed 0, length \(bytes.count)")
            #expect(bytes.withUnsafeBytes { FastHash.xxh64($0, seed: 0x6D65_6D69_6679_2D31) } == seeded,
                    "xxh64 seeded, length \(bytes.count)")
        }
    }
}

@Suite("128-bit hashes round-trip through their 32 hex digits")
struct Hex128Tests {
    @Test func roundTrip() {
        for (a, b) in [(UInt64(0), UInt64(0)), (.max, .max), (0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210), (1, 1 << 63)] {
            let hex = FastHash.hex128(a, b)
            #expect(hex.count == 32 && hex == hex.lowercased())
            let words = Array(hex.utf8).withUnsafeBytes { FastHash.words128(hex: $0) }
            #expect(words?.0 == a && words?.1 == b, "\(hex)")
            let upper = Array(hex.uppercased().utf8).withUnsafeBytes { FastHash.words128(hex: $0) }
            #expect(upper?.0 == a && upper?.1 == b)
        }
    }

    @Test(arguments: ["", "0123", String(repeating: "0", count: 31), String(repeating: "0", count: 33),
                      String(repeating: "0", count: 31) + "g", "@" + String(repeating: "0", count: 31),
                      String(repeating: "0", count: 16) + "/" + String(repeating: "0", count: 15),
                      String(repeating: "f", count: 31) + "`", String(repeating: "0", count: 31) + ":"])
    func rejects(text: String) {
        #expect(Array(text.utf8).withUnsafeBytes { FastHash.words128(hex: $0) } == nil)
    }
}
