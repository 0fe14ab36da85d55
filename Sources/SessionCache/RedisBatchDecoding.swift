import MemifyCore

/// One session as read, not yet decoded.
struct RawSession: Sendable {
    var key: SessionKey
    /// The ``KeyFingerprint`` of its cache key.
    var slot: KeyFingerprint
    var result: Result<ArenaReply, RedisReplyError>
}

/// Decodes a batch on `parallelism` tasks of the cooperative pool (decoding is CPU work, no
/// blocking), keeping the batch's order.
func decodeInParallel(_ items: [RawSession], location: String,
                      fingerprints: SessionFingerprints? = nil, parallelism: Int = 2) async -> [SessionRead] {
    let known = await fingerprints?.known.value
    func decode(_ slice: ArraySlice<RawSession>) -> [SessionRead] {
        var scratch: [UInt8] = []
        return slice.map { item in
            var read = SessionRead(key: item.key, location: location)
            switch item.result {
            case .success(let reply):
                if let fingerprints, let known {
                    let fingerprint = fingerprints.fingerprint(count: reply.elementCount, scratch: &scratch) { reply.element($0) }
                    if known[item.slot] == fingerprint {
                        read.unchangedCount = reply.elementCount
                        return read
                    }
                    read.fingerprint = fingerprint.hex
                }
                read.elements.reserveCapacity(reply.elementCount)
                var text = EntryTextArena(capacity: (0..<reply.elementCount).reduce(0) { $0 + reply.element($1).count })
                for i in 0..<reply.elementCount { read.decode(index: i, bytes: reply.element(i), text: &text) }
            case .failure(let error): read.sessionError = SessionRead.SessionError(reason: error.message, raw: [])
            }
            return read
        }
    }
    guard parallelism > 1, items.count >= 2 * parallelism else { return decode(items[...]) }
    let chunk = (items.count + parallelism - 1) / parallelism
    return await withTaskGroup(of: (Int, [SessionRead]).self) { group in
        for (n, start) in stride(from: 0, to: items.count, by: chunk).enumerated() {
            let slice = items[start..<min(items.count, start + chunk)]
            group.addTask { (n, decode(slice)) }
        }
        var parts = [[SessionRead]](repeating: [], count: parallelism)
        for await (n, part) in group { parts[n] = part }
        return parts.flatMap { $0 }
    }
}
