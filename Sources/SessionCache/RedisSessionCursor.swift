import MemifyCore
import Logging
import Synchronization

/// Reads sessions with one producer on the I/O queue that never waits for the cooperative pool:
/// it keeps one pipeline of `LRANGE`s on the wire ahead of the one it is reading, SCANs on a
/// second connection, and parks up to ``depth`` read batches for the decoder. Each batch's
/// replies sit in a ``ReplyArena`` that goes back to the producer, emptied, once decoded.
///
/// Decoding follows the producer, not the consumer: a batch is decoded as soon as it is read,
/// while at most two decoded batches that hold entries wait for the consumer. A batch whose
/// sessions all matched their fingerprints holds no entries and waits at no cost, so a run
/// that has nothing to do reads up to ``maxDecodedAhead`` batches (6,400 sessions at the
/// default batch size) while it is still setting up.
final class RedisSessionCursor: SessionCursor {
    /// What one fetch read, not yet decoded: the replies, in place in their arena.
    struct RawBatch: Sendable {
        var items: [RawSession]
        var arena: ReplyArena
    }

    private struct PendingKey {
        var key: SessionKey
        var bytes: [UInt8]
        /// Of `bytes`: the SCAN dedup's and the fingerprint table's key.
        var slot: KeyFingerprint

        init(key: SessionKey, bytes: [UInt8]) {
            self.init(key: key, bytes: bytes, slot: KeyFingerprint(bytes))
        }

        init(key: SessionKey, bytes: [UInt8], slot: KeyFingerprint) {
            self.key = key
            self.bytes = bytes
            self.slot = slot
        }
    }

    /// Touched only on the I/O queue.
    private struct IOState {
        var scanCursor: String? = "0"  // nil once SCAN has come back to 0
        /// Whether the SCAN for `scanCursor` is already sent (one is kept ahead).
        var scanSent = false
        var pending: [PendingKey] = []
        var pendingStart = 0
        var seen = KeyFingerprintSet()
        /// The keys whose LRANGEs are sent and not yet read.
        var onTheWire: [PendingKey] = []
        var typeConnection: RedisConnection?
        /// Arenas of decoded batches, emptied, for the next reads.
        var spareArenas: [ReplyArena] = []
        /// The connections for LRANGE and SCAN, replaced once if the server drops them.
        var lists: RedisConnection?
        var scan: RedisConnection?
        /// The keys whose replies are being read (with `onTheWire`, what a new connection asks again).
        var current: [PendingKey] = []
        /// The one reconnection a read may make is made.
        var reconnected = false
    }

    /// A decoded batch waiting for the consumer.
    private struct Decoded {
        var result: Result<[SessionRead]?, any Error>
        /// Whether it holds decoded entries (a session that did not match its fingerprint).
        var holdsEntries: Bool
    }

    /// Shared between the producer, the decoder and the consumer.
    private struct Handoff {
        /// Read batches waiting for the decoder, in order; the producer's last is nil or an error.
        var ready: [Result<RawBatch?, any Error>] = []
        var producing = false
        /// The producer has handed over its last result.
        var finished = false
        /// Batches the decoder is done with; the producer reuses their arenas.
        var graveyard: [RawBatch] = []
        var decoding = false
        /// Decoded batches waiting for the consumer, in order.
        var decoded: [Decoded] = []
        /// Of `decoded`, those holding entries.
        var decodedWithEntries = 0
        /// The decoder has handed over the end (or an error): nothing follows.
        var ended = false
        var waiter: CheckedContinuation<Result<[SessionRead]?, any Error>, Never>?
    }

    private static let depth = 2
    /// Decoded batches without entries (every session unchanged) that may wait for the consumer.
    private static let maxDecodedAhead = 64
    /// Decoded batches holding entries that may wait (a batch of 100 sessions of ~10 KB holds
    /// ~1 MB of texts).
    private static let maxDecodedWithEntries = 2
    private static let keptArenaBytes = 8 << 20
    private static let logger = Logger(label: "memify.cache.redis")
    private let url: RedisURL
    private let executor: BlockingExecutor
    private let filter: SessionFilter
    private let pattern: String
    private let batchSize: Int
    private let location: String
    private let fingerprints: SessionFingerprints?
    private let malformed: MalformedKeys?
    private let io = Mutex(IOState())
    private let handoff = Mutex(Handoff())

    init(lists: RedisConnection, scan: RedisConnection, executor: BlockingExecutor, filter: SessionFilter, batchSize: Int,
         location: String, fingerprints: SessionFingerprints? = nil, malformed: MalformedKeys? = nil) {
        self.url = lists.url
        self.executor = executor
        self.filter = filter
        self.pattern = RedisCacheSource.scanPattern(for: filter)
        self.batchSize = batchSize
        self.location = location
        self.fingerprints = fingerprints
        self.malformed = malformed
        var state = IOState()
        state.lists = lists
        state.scan = scan
        if let exact = filter.exactKeys {
            state.pending = exact.map { PendingKey(key: $0, bytes: Array($0.cacheKey.utf8)) }
            state.scanCursor = nil
        }
        io.withLock { $0 = state }
    }

    func nextBatch() async throws -> [SessionRead]? {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<[SessionRead]?, any Error>, Never>) in
            let (produce, decode) = handoff.withLock { h -> (Bool, Bool) in
                if !h.decoded.isEmpty {
                    let next = h.decoded.removeFirst()
                    if next.holdsEntries { h.decodedWithEntries -= 1 }
                    continuation.resume(returning: next.result)
                } else if h.ended {
                    continuation.resume(returning: .success(nil))
                } else {
                    precondition(h.waiter == nil, "nextBatch() called again before the last call returned")
                    h.waiter = continuation
                }
                return (startProducing(&h), startDecoding(&h))
            }
            start(producing: produce, decoding: decode)
        }
        return try result.get()
    }

    private func start(producing: Bool, decoding: Bool) {
        if producing { executor.submit { [self] in produce() } }
        if decoding { Task { await decode() } }
    }

    /// Whether the producer must be started: it stops when `depth` batches wait undecoded.
    private func startProducing(_ h: inout Handoff) -> Bool {
        guard !h.producing, !h.finished, h.ready.count < Self.depth else { return false }
        h.producing = true
        return true
    }

    /// Whether the decoder must be started: it stops when nothing waits to be decoded, or when
    /// two decoded batches holding entries (or many without) wait for the consumer.
    private func startDecoding(_ h: inout Handoff) -> Bool {
        guard !h.decoding, Self.mayDecode(h) else { return false }
        h.decoding = true
        return true
    }

    private static func mayDecode(_ h: Handoff) -> Bool {
        !h.ended && !h.ready.isEmpty && h.decodedWithEntries < maxDecodedWithEntries && h.decoded.count < maxDecodedAhead
    }

    /// The next read batch for a running decoder, or nil (and the decoder stops).
    private static func takeForDecoding(_ h: inout Handoff) -> Result<RawBatch?, any Error>? {
        guard mayDecode(h) else {
            h.decoding = false
            return nil
        }
        return h.ready.removeFirst()
    }

    /// Whether the producer and the decoder are both stopped: the read ahead has gone as far as
    /// it goes until the consumer takes a batch (or the read is over). For tests.
    var isIdle: Bool { handoff.withLock { !$0.producing && !$0.decoding } }

    /// On the cooperative pool: decodes read batches in order and hands them to the consumer.
    private func decode() async {
        var (next, produce) = handoff.withLock { h in (Self.takeForDecoding(&h), startProducing(&h)) }
        start(producing: produce, decoding: false)
        while let item = next {
            let result: Result<[SessionRead]?, any Error>
            var done: RawBatch?
            switch item {
            case .success(let raw?):
                result = .success(await decodeInParallel(raw.items, location: location, fingerprints: fingerprints))
                done = raw
            case .success(nil): result = .success(nil)
            case .failure(let error): result = .failure(error)
            }
            let holdsEntries: Bool
            if case .success(let reads?) = result { holdsEntries = reads.contains { $0.unchangedCount == nil } } else { holdsEntries = false }
            (next, produce) = handoff.withLock { h in
                if let done { h.graveyard.append(done) }
                if case .success(.some) = result {} else { h.ended = true }
                if let waiter = h.waiter {
                    h.waiter = nil
                    waiter.resume(returning: result)
                } else {
                    h.decoded.append(Decoded(result: result, holdsEntries: holdsEntries))
                    if holdsEntries { h.decodedWithEntries += 1 }
                }
                return (Self.takeForDecoding(&h), startProducing(&h))
            }
            start(producing: produce, decoding: false)
        }
    }

    /// On the I/O queue: fetches batches back to back until `depth` wait undecoded or the keys
    /// run out. (It and the decoder hold the cursor while they run: a cursor dropped early
    /// still reads ahead as far as the bounds allow, up to ``maxDecodedAhead`` batches when its
    /// sessions are unchanged, then stops.)
    private func produce() {
        while true {
            let done = handoff.withLock { h -> [RawBatch] in
                defer { h.graveyard = [] }
                return h.graveyard
            }
            recycle(done)
            let result = Result<RawBatch?, any Error> { try fetch() }
            let (more, decode) = handoff.withLock { h -> (Bool, Bool) in
                h.ready.append(result)
                if case .success(.some) = result {} else { h.finished = true }
                h.producing = false
                return (startProducing(&h), startDecoding(&h))
            }
            start(producing: false, decoding: decode)
            if !more { return }
        }
    }

    /// Keeps the arenas of decoded batches for the next reads: their buffers are warm and
    /// already grown. A batch reaches the graveyard only once it is decoded, and decoded
    /// sessions own copies of what they hold, so nothing reads those replies any more. An
    /// arena a huge session grew is let go rather than kept.
    private func recycle(_ batches: [RawBatch]) {
        guard !batches.isEmpty else { return }
        io.withLock { state in
            for batch in batches where state.spareArenas.count < Self.depth + 2 && batch.arena.capacity <= Self.keptArenaBytes {
                batch.arena.reset()
                state.spareArenas.append(batch.arena)
            }
        }
    }

    /// Blocking: reads the batch on the wire (sending the first one if none is), after sending
    /// the next one; nil when every key has been read. A read is idempotent: when the server
    /// drops the connections (a restart, a failover, `CLIENT KILL`), the cursor reconnects once,
    /// with a warning, asks again for what it had asked and not read, and reads on; a second
    /// loss fails the run (exit 69, the next run resumes).
    private func fetch() throws(WorkerError) -> RawBatch? {
        try io.withLock { (state: inout IOState) throws(WorkerError) -> RawBatch? in
            do throws(WorkerError) {
                return try fetch(&state)
            } catch where error.code == .serviceUnavailable && !state.reconnected {
                state.reconnected = true
                Self.logger.warning("lost the connection to the Redis cache while reading; reconnecting once and reading on", metadata: [
                    "cache": "\(location)", "error": "\(error)"])
                try reconnect(&state)
                return try fetch(&state)
            }
        }
    }

    /// New LRANGE and SCAN connections; the LRANGEs sent and not read are sent again on the new
    /// one, and the SCAN in flight is sent again (a SCAN cursor is valid on any connection).
    private func reconnect(_ state: inout IOState) throws(WorkerError) {
        state.lists = nil
        state.scan = nil
        let lists = try RedisConnection(url: url), scan = try RedisConnection(url: url)
        state.lists = lists
        state.scan = scan
        state.scanSent = false
        state.onTheWire = state.current + state.onTheWire
        state.current = []
        if !state.onTheWire.isEmpty { try lists.sendLRANGEs(state.onTheWire.lazy.map(\.bytes)) }
    }

    private func fetch(_ state: inout IOState) throws(WorkerError) -> RawBatch? {
            guard let lists = state.lists else { throw WorkerError(.serviceUnavailable, operation: "LRANGE on \(location)", message: "not connected") }
            if state.onTheWire.isEmpty {
                state.onTheWire = try nextKeys(&state)
                if state.onTheWire.isEmpty { return nil }
                try lists.sendLRANGEs(state.onTheWire.lazy.map(\.bytes))
            }
            let current = state.onTheWire
            let next = try nextKeys(&state)
            state.current = current
            state.onTheWire = next
            if !next.isEmpty { try lists.sendLRANGEs(next.lazy.map(\.bytes)) }

            let arena = state.spareArenas.popLast() ?? ReplyArena()
            let replies = try lists.receiveLists(current.count, into: arena)
            state.current = []
            var items: [RawSession] = []
            items.reserveCapacity(current.count)
            for (pending, reply) in zip(current, replies) {
                if let message = reply.errorMessage {
                    items.append(RawSession(key: pending.key, slot: pending.slot,
                                            result: .failure(RedisReplyError(message: try refusal(message, pending, &state)))))
                } else if reply.elementCount > 0 {  // an empty reply: the key vanished since SCAN
                    items.append(RawSession(key: pending.key, slot: pending.slot, result: .success(reply)))
                }
            }
            return RawBatch(items: items, arena: arena)
    }

    /// Why Redis refused a key's LRANGE, naming the type of a key that is not a list (asked on
    /// a third connection: the list connection has replies on the way).
    private func refusal(_ message: String, _ pending: PendingKey, _ state: inout IOState) throws(WorkerError) -> String {
        // NOAUTH, LOADING, MASTERDOWN…: the server refuses every key, not this one (exit 69).
        if RedisConnection.refusesConnection(message) { throw RedisConnection.refusal(message, operation: "LRANGE on \(location)") }
        guard message.hasPrefix("WRONGTYPE") else { return "Redis refused LRANGE: \(message)" }
        // Naming the type only improves the message: if asking fails, the refusal stands as it is.
        if state.typeConnection == nil { state.typeConnection = try? RedisConnection(url: url) }
        if let connection = state.typeConnection,
           case .status(let type)? = try? connection.command([Array("TYPE".utf8), pending.bytes]) {
            return "key holds a Redis \(type), not a list (cognee stores each session as a list)"
        }
        return "Redis refused LRANGE: \(message)"
    }

    private func scanCommand(_ cursor: String) -> [[UInt8]] {
        ["SCAN", cursor, "MATCH", pattern, "COUNT", "1000"].map { Array($0.utf8) }
    }

    /// SCANs (on its own connection, one SCAN kept ahead) until a batch of keys is pending,
    /// and hands it out.
    private func nextKeys(_ state: inout IOState) throws(WorkerError) -> [PendingKey] {
        while state.pending.count - state.pendingStart < batchSize, let cursor = state.scanCursor {
            guard let scanConnection = state.scan else { throw WorkerError(.serviceUnavailable, operation: "SCAN \(location)", message: "not connected") }
            if !state.scanSent { try scanConnection.send([scanCommand(cursor)]) }
            state.scanSent = false
            let reply = try scanConnection.receiveCopies(1)[0]
            guard case .array(let parts) = reply, parts.count == 2, let next = parts[0].text,
                  case .array(let found) = parts[1] else {
                if case .error(let message) = reply { throw RedisConnection.refusal(message, operation: "SCAN \(location)") }
                throw WorkerError(.protocolError, operation: "SCAN \(location)", message: "unexpected reply")
            }
            for item in found {
                guard case .string(let bytes) = item else { continue }
                guard let key = SessionKey(cacheKeyBytes: bytes) else { malformed?.record(bytes); continue }
                guard filter.matches(key) else { continue }
                let slot = KeyFingerprint(bytes)
                guard state.seen.insert(slot) else { continue }
                state.pending.append(PendingKey(key: key, bytes: bytes, slot: slot))
            }
            state.scanCursor = next == "0" ? nil : next
            // The next SCAN goes out now: its reply is waiting by the time these keys are read.
            if next != "0" {
                try scanConnection.sendNow([scanCommand(next)])
                state.scanSent = true
            }
        }
        let end = min(state.pending.count, state.pendingStart + batchSize)
        let batch = Array(state.pending[state.pendingStart..<end])
        state.pendingStart = end
        if state.pendingStart > 4096 {  // drop what has been handed out
            state.pending.removeFirst(state.pendingStart)
            state.pendingStart = 0
        }
        return batch
    }
}
