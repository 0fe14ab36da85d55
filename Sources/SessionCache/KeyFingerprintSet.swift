import MemifyCore

/// A 128-bit fingerprint of a key: SCAN may return a key twice, and remembering 16 bytes per
/// key instead of the key keeps memory small for millions of sessions.
struct KeyFingerprint: Hashable {
    var a: UInt64
    var b: UInt64

    init(a: UInt64, b: UInt64) {
        self.a = a
        self.b = b
    }

    init(_ bytes: [UInt8]) {
        (a, b) = bytes.withUnsafeBytes { (FastHash.xxh64($0, seed: 0x6B65_792F_6669_6E67), FastHash.xxh64($0, seed: 0x9E37_79B9_7F4A_7C15)) }
    }

    /// One word is hash enough for the set (equality still compares both).
    func hash(into hasher: inout Hasher) { hasher.combine(a ^ b) }
}

/// The keys SCAN has returned, by ``KeyFingerprint``: an open-addressing table of the
/// fingerprints themselves. They are already uniformly random, so no `Hasher` runs per key
/// (a `Set` spends more on SipHash and rehashing than on the rest of a key's handling).
struct KeyFingerprintSet {
    /// 64 tables, each growing on its own (chosen by the top bits of `b`): growing one holds the
    /// old and the new table for a moment, and 1/64th of the set's memory is what that costs
    /// (one table of 100,000 keys holds 6 MiB live while it grows, against 4 MiB after). A table
    /// grows when 7/8 full: 100,000 keys then take 2 MiB, not 4. Linear probing over uniformly
    /// random fingerprints costs ~32 probes for an insert just below that load (~8 below 3/4),
    /// a few adjacent cache lines, ~8 on average over a table's fill.
    private var shards = [Shard](repeating: Shard(), count: 64)
    private var hasZero = false
    private(set) var count = 0

    private struct Shard {
        /// Two words a slot; (0, 0) marks an empty one (a key whose fingerprint is (0, 0) is kept apart).
        var slots: [UInt64] = Array(repeating: 0, count: 2 * 64)
        var mask = 63
        var count = 0

        mutating func insert(_ key: KeyFingerprint) -> Bool {
            if (count + 1) * 8 > (mask + 1) * 7 { grow() }
            let inserted = slots.withUnsafeMutableBufferPointer { Self.place(key, in: $0, mask: mask) }
            if inserted { count += 1 }
            return inserted
        }

        /// Linear probing from the slot the low bits of `a ^ (b >> 7)` name.
        static func place(_ key: KeyFingerprint, in slots: UnsafeMutableBufferPointer<UInt64>, mask: Int) -> Bool {
            var i = Int(truncatingIfNeeded: key.a ^ (key.b >> 7)) & mask
            while true {
                let a = slots[2 * i], b = slots[2 * i + 1]
                if a == 0 && b == 0 {
                    slots[2 * i] = key.a
                    slots[2 * i + 1] = key.b
                    return true
                }
                if a == key.a && b == key.b { return false }
                i = (i + 1) & mask
            }
        }

        private mutating func grow() {
            let old = slots
            let newMask = mask * 2 + 1
            var grown = [UInt64](repeating: 0, count: 2 * (newMask + 1))
            grown.withUnsafeMutableBufferPointer { table in
                for i in stride(from: 0, to: old.count, by: 2) where old[i] != 0 || old[i + 1] != 0 {
                    _ = Self.place(KeyFingerprint(a: old[i], b: old[i + 1]), in: table, mask: newMask)
                }
            }
            slots = grown
            mask = newMask
        }
    }

    /// Adds `key`; false when it was there already.
    mutating func insert(_ key: KeyFingerprint) -> Bool {
        if key.a == 0 && key.b == 0 {
            defer { hasZero = true }
            if !hasZero { count += 1 }
            return !hasZero
        }
        let inserted = shards[Int(truncatingIfNeeded: key.b >> 58)].insert(key)
        if inserted { count += 1 }
        return inserted
    }
}
