internal import GraphStore
/// A cognee session cache, read-only.
///
/// Reading streams: a source hands out sessions in batches, and holds at most a batch or two in
/// memory whatever the size of the cache.
public protocol CacheSource: Sendable {
    /// Where the cache is, safe to log (no credentials).
    var location: String { get }

    /// Opens a cursor over the sessions that `filter` selects.
    func makeCursor(filter: SessionFilter) async throws -> any SessionCursor
    /// True when one session may come back more than once, each time with only part of its
    /// turns (cognee's filesystem cache can hold one session in several tenant folders). Then a
    /// turn missing from one read is not evidence of a deletion.
    var mayReadSessionPartially: Bool { get }
}

extension CacheSource {
    public var mayReadSessionPartially: Bool { false }
}

/// Hands out the sessions of one read, a batch at a time.
public protocol SessionCursor: AnyObject, Sendable {
    /// The next batch of sessions, or nil at the end.
    func nextBatch() async throws -> [SessionRead]?
}

extension CacheSource {
    /// The sessions that `filter` selects, one at a time, streamed.
    public func sessions(filter: SessionFilter = .all) -> SessionSequence {
        SessionSequence(source: self, filter: filter)
    }
}

/// An `AsyncSequence` over a source's sessions; pulls a new batch only when the last is used up.
public struct SessionSequence: AsyncSequence, Sendable {
    public typealias Element = SessionRead
    let source: any CacheSource
    let filter: SessionFilter

    public struct AsyncIterator: AsyncIteratorProtocol {
        let source: any CacheSource
        let filter: SessionFilter
        var cursor: (any SessionCursor)?
        var buffer: [SessionRead] = []
        var position = 0
        var finished = false

        public mutating func next() async throws -> SessionRead? {
            while position >= buffer.count {
                if finished { return nil }
                if cursor == nil { cursor = try await source.makeCursor(filter: filter) }
                guard let batch = try await cursor!.nextBatch() else {
                    finished = true
                    buffer = []
                    return nil
                }
                buffer = batch
                position = 0
            }
            defer { position += 1 }
            return buffer[position]
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(source: source, filter: filter)
    }
}

/// Opens the source that a `--cache` URL names: `redis://…` or `fs:PATH`.
public enum CacheSourceFactory {
    public static func make(url: String, options: CacheReadOptions = CacheReadOptions()) throws -> any CacheSource {
        if url.hasPrefix("redis://") || url.hasPrefix("rediss://") {
            return RedisCacheSource(url: try RedisURL(parsing: url), options: options)
        }
        if url.hasPrefix("fs:") {
            return try FileCacheSource(path: String(url.dropFirst(3)), options: options)
        }
        // Masked: an unknown scheme may still carry user:password@.
        let shown = PostgresConnection.masked(url)
        throw PipelineError(.usage, operation: "open cache \(url.hasPrefix("/") ? shown : "'\(shown)'")",
                            message: "expected redis://[user:password@]host:port[/db] or fs:PATH")
    }
}

/// Lets a source skip decoding a session whose stored bytes are exactly what they were when it
/// was last persisted whole: a no-op run then costs little more than reading the bytes.
///
/// A session's fingerprint is a 128-bit hash (``FastHash``) of `salt` and of every stored element
/// (its length and bytes). The salt holds what else the persisted rows depend on (the extractor,
/// the dataset), so changing those never matches an old fingerprint.
public struct SessionFingerprints: Sendable {
    public var salt: String
    /// By session: the fingerprints recorded when each was persisted whole.
    public var known: [SessionKey: String]

    public init(salt: String, known: [SessionKey: String]) {
        self.salt = salt
        self.known = known
    }

    /// The seed of each element's XXH64.
    static let elementSeed: UInt64 = 0x6669_6E67_6572_2F33

    /// The fingerprint of one session's stored elements: the salt, then each element's length
    /// and 64-bit XXH64, hashed again into 128 bits. (An edit that keeps an element's length
    /// and its XXH64 goes unseen with odds of 2^-64: change detection, not a defence against
    /// contents forged to collide.)
    public func fingerprint(count: Int, element: (Int) -> UnsafeBufferPointer<UInt8>) -> String {
        var bytes = Array(salt.utf8)
        bytes.reserveCapacity(bytes.count + 1 + 16 * count)
        bytes.append(0)
        for i in 0..<count {
            let e = element(i)
            let h = FastHash.xxh64(UnsafeRawBufferPointer(e), seed: Self.elementSeed)
            withUnsafeBytes(of: (UInt64(e.count).littleEndian, h.littleEndian)) { bytes.append(contentsOf: $0) }
        }
        return FastHash.hex128(bytes)
    }
}

/// How to read a cache.
public struct CacheReadOptions: Sendable {
    /// Read diskcache rows whose `expire_time` has passed (a rescue for sessions that expired
    /// before they were persisted). Redis deletes expired keys itself, so there it changes nothing.
    public var includeExpired: Bool
    /// The clock for expiry decisions, in Unix seconds; nil means the wall clock.
    public var now: Double?
    /// Sessions per batch (and Redis keys per pipeline).
    public var batchSize: Int
    /// When set, sessions read with their fingerprint, and ones it already knows are not decoded.
    public var fingerprints: SessionFingerprints?

    public init(includeExpired: Bool = false, now: Double? = nil, batchSize: Int = 100) {
        self.includeExpired = includeExpired
        self.now = now
        self.batchSize = max(1, batchSize)
    }
}

/// Escapes the characters Redis's glob-style `MATCH` gives a meaning to (`*?[]\`).
public func redisGlobEscape(_ text: String) -> String {
    var out = ""
    for ch in text {
        if ch == "*" || ch == "?" || ch == "[" || ch == "]" || ch == "\\" { out.append("\\") }
        out.append(ch)
    }
    return out
}
