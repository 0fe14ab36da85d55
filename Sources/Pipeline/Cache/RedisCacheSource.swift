import GraphStore
import Synchronization

/// Reads cognee's Redis session cache (spec §4): discovers `agent_sessions:{user}:{session}`
/// lists with `SCAN` (never `KEYS`) and reads them with pipelined `LRANGE key 0 -1`.
///
/// Read-only: it sends `SCAN`, `LRANGE` and `TYPE`, nothing else.
public struct RedisCacheSource: CacheSource {
    public let url: RedisURL
    public let options: CacheReadOptions

    public init(url: RedisURL, options: CacheReadOptions = CacheReadOptions()) {
        self.url = url
        self.options = options
    }

    public var location: String { url.description }

    public func makeCursor(filter: SessionFilter) async throws -> any SessionCursor {
        let executor = BlockingExecutor(label: "memify.redis.reader")
        let url = self.url
        let connection = try await executor.run { try RedisConnection(url: url) }
        return RedisSessionCursor(connection: connection, executor: executor, filter: filter,
                                  batchSize: options.batchSize, location: location, fingerprints: options.fingerprints)
    }

    /// The `SCAN MATCH` pattern for a filter: as narrow as the filter allows, with the user's or
    /// session's glob characters escaped. The filter is applied again to every key found.
    static func scanPattern(for filter: SessionFilter) -> String {
        if filter.userIDs.count == 1, let user = filter.userIDs.first {
            return SessionKey.qaPrefix + redisGlobEscape(user) + ":*"
        }
        if filter.userIDs.isEmpty, filter.sessionIDs.count == 1, let session = filter.sessionIDs.first {
            return SessionKey.qaPrefix + "*:" + redisGlobEscape(session)
        }
        return SessionKey.qaPrefix + "*"
    }
}

/// A 128-bit fingerprint of a key: SCAN may return a key twice, and remembering 16 bytes per
/// key instead of the key keeps memory small for millions of sessions.
struct KeyFingerprint: Hashable {
    var a: UInt64
    var b: UInt64

    init(_ text: String) {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        var b: UInt64 = 0x9E37_79B9_7F4A_7C15  // a multiplicative mix with other constants
        for byte in text.utf8 {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            b = (b &+ UInt64(byte)) &* 0xBF58_476D_1CE4_E5B9
            b ^= b >> 29
        }
        self.a = a
        self.b = b ^ UInt64(text.utf8.count)
    }
}

final class RedisSessionCursor: SessionCursor {
    private struct ScanState {
        var scanCursor: String? = "0"  // nil once SCAN has come back to 0
        var pending: [SessionKey] = []
        var pendingStart = 0
        var seen: Set<KeyFingerprint> = []
    }

    /// What one fetch read, not yet decoded: hiredis's own replies.
    struct RawBatch: Sendable {
        var items: [(SessionKey, Result<OwnedReply, RedisReplyError>)]
    }

    private let connection: RedisConnection
    private let executor: BlockingExecutor
    private let filter: SessionFilter
    private let pattern: String
    private let batchSize: Int
    private let location: String
    /// Only touched inside executor closures, which run one at a time.
    private let scan: Mutex<ScanState>
    /// Fetches queued on the I/O executor ahead of the decoder, oldest first. Two keep the I/O
    /// queue busy while a batch is decoded; memory stays bounded at three batches.
    private let inFlight = Mutex<[Task<RawBatch?, any Error>]>([])
    private static let prefetchDepth = 2

    private let fingerprints: SessionFingerprints?

    init(connection: RedisConnection, executor: BlockingExecutor, filter: SessionFilter, batchSize: Int,
         location: String, fingerprints: SessionFingerprints? = nil) {
        self.fingerprints = fingerprints
        self.connection = connection
        self.executor = executor
        self.filter = filter
        self.pattern = RedisCacheSource.scanPattern(for: filter)
        self.batchSize = batchSize
        self.location = location
        var state = ScanState()
        if let exact = filter.exactKeys {
            state.pending = exact
            state.scanCursor = nil
        }
        self.scan = Mutex(state)
    }

    deinit {
        inFlight.withLock { tasks in tasks.forEach { $0.cancel() } }
    }

    func nextBatch() async throws -> [SessionRead]? {
        let task = inFlight.withLock { tasks in
            while tasks.count < Self.prefetchDepth + 1 { tasks.append(makeFetch(after: tasks.last)) }
            return tasks.removeFirst()
        }
        guard let raw = try await task.value else { return nil }
        return await decodeInParallel(raw.items, location: location, fingerprints: fingerprints)
    }

    /// A fetch that starts only after `previous` has finished: tasks reach the executor in no
    /// particular order, and each fetch takes the next keys, so the order must be forced here.
    private func makeFetch(after previous: Task<RawBatch?, any Error>?) -> Task<RawBatch?, any Error> {
        Task { [self] in
            _ = try? await previous?.value
            return try await executor.run { [self] in try fetch() }
        }
    }

    /// Blocking: SCAN until a batch of keys is pending, then read them in one pipeline.
    private func fetch() throws(PipelineError) -> RawBatch? {
        let keys: [SessionKey] = try scan.withLock { (state: inout ScanState) throws(PipelineError) -> [SessionKey] in
            while state.pending.count - state.pendingStart < batchSize, let cursor = state.scanCursor {
                let reply = try connection.command(["SCAN", cursor, "MATCH", pattern, "COUNT", "1000"])
                guard case .array(let parts) = reply, parts.count == 2, let next = parts[0].text,
                      case .array(let found) = parts[1] else {
                    if case .error(let message) = reply {
                        throw PipelineError(.protocolError, operation: "SCAN \(location)", message: message)
                    }
                    throw PipelineError(.protocolError, operation: "SCAN \(location)", message: "unexpected reply")
                }
                for item in found {
                    guard case .string(let bytes) = item, let key = SessionKey(cacheKeyBytes: bytes),
                          filter.matches(key), state.seen.insert(KeyFingerprint(key.cacheKey)).inserted else { continue }
                    state.pending.append(key)
                }
                state.scanCursor = next == "0" ? nil : next
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
        if keys.isEmpty { return nil }

        let commands = keys.map { [Array("LRANGE".utf8), Array($0.cacheKey.utf8), Array("0".utf8), Array("-1".utf8)] }
        var items: [(SessionKey, Result<OwnedReply, RedisReplyError>)] = []
        items.reserveCapacity(keys.count)
        for (key, reply) in zip(keys, try connection.ownedPipeline(commands)) {
            if let message = reply.errorMessage {
                // Name the type of a key that is not a list.
                var reason = "Redis refused LRANGE: \(message)"
                if message.hasPrefix("WRONGTYPE"), case .status(let type) = try connection.command(["TYPE", key.cacheKey]) {
                    reason = "key holds a Redis \(type), not a list (cognee stores each session as a list)"
                }
                items.append((key, .failure(RedisReplyError(message: reason))))
            } else if reply.elementCount > 0 {  // an empty reply: the key vanished since SCAN
                items.append((key, .success(reply)))
            }
        }
        return RawBatch(items: items)
    }
}

/// Decodes a batch on `parallelism` tasks of the cooperative pool (decoding is CPU work, no
/// blocking), keeping the batch's order.
func decodeInParallel(_ items: [(SessionKey, Result<OwnedReply, RedisReplyError>)], location: String,
                      fingerprints: SessionFingerprints? = nil, parallelism: Int = 2) async -> [SessionRead] {
    func decode(_ slice: ArraySlice<(SessionKey, Result<OwnedReply, RedisReplyError>)>) -> [SessionRead] {
        slice.map { key, result in
            var read = SessionRead(key: key, location: location)
            switch result {
            case .success(let reply):
                if let fingerprints {
                    let fingerprint = fingerprints.fingerprint(count: reply.elementCount) { reply.element($0) }
                    read.fingerprint = fingerprint
                    if fingerprints.known[key] == fingerprint {
                        read.unchangedCount = reply.elementCount
                        return read
                    }
                }
                for i in 0..<reply.elementCount { read.decode(index: i, bytes: reply.element(i)) }
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
