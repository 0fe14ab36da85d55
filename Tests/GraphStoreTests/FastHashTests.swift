@testable import GraphStore
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
}
