package import MemifyCore
import Synchronization
/// A cognee session cache, read-only.
///
/// Reading streams: a source hands out sessions in batches, and holds at most a batch or two in
/// memory whatever the size of the cache.
package protocol CacheSource: Sendable {
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
    package var mayReadSessionPartially: Bool { false }
}

extension Mutex {
    /// The value held, leaving nil in its place.
    func take<Wrapped>() -> Wrapped? where Value == Wrapped? {
        withLock { $0.take() }
    }
}

/// Hands out the sessions of one read, a batch at a time.
package protocol SessionCursor: AnyObject, Sendable {
    /// The next batch of sessions, or nil at the end.
    func nextBatch() async throws -> [SessionRead]?
}

/// A source whose first cursor is opened, and its first batch read, as soon as it is made: a
/// run sets up (locks, state, graph) while the cache is already being read. A cursor for any
/// other filter, or a second one, comes from `base` as usual. Errors of the early start surface
/// where the cursor is asked for, as they would have without it.
package final class PrimedSource: CacheSource {
    package let base: any CacheSource
    private let filter: SessionFilter
    private let primed: Mutex<Task<any SessionCursor, any Error>?>

    package init(_ base: any CacheSource, filter: SessionFilter) {
        self.base = base
        self.filter = filter
        primed = Mutex(Task {
            let cursor = try await base.makeCursor(filter: filter)
            return PrimedCursor(cursor, first: Task { try await cursor.nextBatch() })
        })
    }

    package var location: String { base.location }
    package var mayReadSessionPartially: Bool { base.mayReadSessionPartially }

    package func makeCursor(filter: SessionFilter) async throws -> any SessionCursor {
        // Taken only by a cursor for the filter it was primed with: another filter leaves it.
        guard filter == self.filter, let task = primed.take() else { return try await base.makeCursor(filter: filter) }
        return try await task.value
    }
}

/// A cursor whose first batch is already being read.
private final class PrimedCursor: SessionCursor {
    private let base: any SessionCursor
    private let first: Mutex<Task<[SessionRead]?, any Error>?>

    init(_ base: any SessionCursor, first: Task<[SessionRead]?, any Error>) {
        self.base = base
        self.first = Mutex(first)
    }

    func nextBatch() async throws -> [SessionRead]? {
        if let early = first.take() { return try await early.value }
        return try await base.nextBatch()
    }
}

extension CacheSource {
    /// The sessions that `filter` selects, one at a time, streamed.
    package func sessions(filter: SessionFilter = .all) -> SessionSequence {
        SessionSequence(source: self, filter: filter)
    }
}

/// An `AsyncSequence` over a source's sessions; pulls a new batch only when the last is used up.
package struct SessionSequence: AsyncSequence, Sendable {
    package typealias Element = SessionRead
    let source: any CacheSource
    let filter: SessionFilter

    package struct AsyncIterator: AsyncIteratorProtocol {
        let source: any CacheSource
        let filter: SessionFilter
        var cursor: (any SessionCursor)?
        var buffer: [SessionRead] = []
        var position = 0
        var finished = false

        package mutating func next() async throws -> SessionRead? {
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

    package func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(source: source, filter: filter)
    }
}

/// Opens the source that a `--cache` URL names: `redis://…`, `rediss://…`, `unix://…` or `fs:PATH`.
package enum CacheSourceFactory {
    package static func make(url: String, options: CacheReadOptions = CacheReadOptions()) throws -> any CacheSource {
        if ["redis://", "rediss://", "unix://", "redis+unix://"].contains(where: { url.hasPrefix($0) }) {
            return RedisCacheSource(url: try RedisURL(parsing: url), options: options)
        }
        if url.hasPrefix("fs:") {
            return try FileCacheSource(path: String(url.dropFirst(3)), options: options)
        }
        if let database = try sqlDatabase(url) {
            return try SQLCacheSource(database: database, options: options)
        }
        // Masked: an unknown scheme may still carry user:password@.
        let shown = PostgresConnection.masked(url)
        throw WorkerError(.usage, operation: "open cache \(url.hasPrefix("/") ? shown : "'\(shown)'")",
                            message: "expected redis://[user:password@]host:port[/db], rediss://… (TLS), unix:///path/redis.sock, fs:PATH, sqlite:PATH or postgresql://…")
    }

    /// cognee's SQL cache named by a URL: `sqlite:PATH` or `turso:PATH` (the `cache.db` or its
    /// folder), SQLAlchemy's `sqlite+aiosqlite:///PATH` and `sqlite+cognee_turso:///PATH` as
    /// cognee's `CACHE_DB_URL` spells them, `postgresql://…`, `postgres://…` and
    /// `postgresql+asyncpg://…` (libpq reads the rest). Nil for any other scheme.
    package static func sqlDatabase(_ url: String) throws(WorkerError) -> SQLCacheSource.Database? {
        guard let colon = url.firstIndex(of: ":") else { return nil }
        let scheme = url[..<colon].lowercased()
        let rest = String(url[url.index(after: colon)...])
        let base = scheme.split(separator: "+", maxSplits: 1).first.map(String.init) ?? scheme
        switch base {
        case "sqlite", "turso":
            var path = rest
            if path.hasPrefix("///") {
                path.removeFirst(3)  // SQLAlchemy: sqlite:///relative, sqlite:////absolute
            } else if path.hasPrefix("//") {
                throw WorkerError(.usage, operation: "open SQL cache '\(url)'",
                                    message: "expected sqlite:PATH or sqlite:///PATH (a file, not a host)")
            }
            if let query = path.firstIndex(of: "?") { path = String(path[..<query]) }
            guard !path.isEmpty else {
                throw WorkerError(.usage, operation: "open SQL cache '\(url)'", message: "no path given")
            }
            return .sqlite(path: path)
        case "postgresql", "postgres":
            // libpq takes postgresql:// and postgres://, not SQLAlchemy's driver suffix.
            return .postgres(conninfo: "postgresql:" + rest)
        default:
            return nil
        }
    }
}

/// Lets a source skip decoding a session whose stored bytes are exactly what they were when it
/// was last persisted whole: a no-op run then costs little more than reading the bytes.
///
/// A session's fingerprint is a 128-bit hash (``FastHash``) of `salt` and of every stored element
/// (its length and bytes). The salt holds what else the persisted rows depend on (the extractor,
/// the dataset), so changing those never matches an old fingerprint.
package struct SessionFingerprints: Sendable {
    package let salt: String
    /// The salt's UTF-8 and a 0 byte: what every fingerprint starts with.
    private let saltBytes: [UInt8]
    /// By session: the fingerprints recorded when each was persisted whole. Loading them may
    /// still be under way: reading starts meanwhile, and decoding waits for them.
    package let known: Task<KnownFingerprints, Never>

    package init(salt: String, known: Task<KnownFingerprints, Never>) {
        self.salt = salt
        self.saltBytes = Array(salt.utf8) + [0]
        self.known = known
    }

    package init(salt: String, known: KnownFingerprints) {
        self.init(salt: salt, known: Task { known })
    }

    /// The seed of each element's XXH64.
    static let elementSeed: UInt64 = 0x6669_6E67_6572_2F33

    /// The fingerprint of one session's stored elements: the salt, then each element's length
    /// and 64-bit XXH64, hashed again into 128 bits. (An edit that keeps an element's length
    /// and its XXH64 goes unseen with odds of 2^-64: change detection, not a defence against
    /// contents forged to collide.) `scratch` is reused from one session to the next.
    func fingerprint(count: Int, scratch: inout [UInt8], element: (Int) -> UnsafeBufferPointer<UInt8>) -> Fingerprint128 {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: saltBytes)
        for i in 0..<count {
            let e = element(i)
            let h = FastHash.xxh64(UnsafeRawBufferPointer(e), seed: Self.elementSeed)
            withUnsafeBytes(of: (UInt64(e.count).littleEndian, h.littleEndian)) { scratch.append(contentsOf: $0) }
        }
        let (a, b) = scratch.withUnsafeBytes { FastHash.lanes($0) }
        return Fingerprint128(a: a, b: b)
    }
}

extension SessionFingerprints {
    /// A session's fingerprint built one element at a time, for a source whose elements arrive
    /// interleaved with other sessions' (cognee's SQL cache read in `seq` order): two 64-bit
    /// chains over each element's length and XXH64, finished with the salt and the count. Not
    /// the same value as ``fingerprint(count:scratch:element:)``; a source uses one or the other.
    struct Running: Sendable {
        var count: UInt64 = 0
        var a: UInt64 = 0x7365_7373_696F_6E2F
        var b: UInt64 = 0x7371_6C2F_6368_6169

        /// Folds in one element: its XXH64 and length, mixed into each chain with a
        /// splitmix64 step (order matters: the same elements in another order differ).
        mutating func add(_ element: UnsafeRawBufferPointer) {
            let e = FastHash.xxh64(element, seed: SessionFingerprints.elementSeed)
            let x = e ^ (UInt64(element.count) &* 0x9E37_79B9_7F4A_7C15)
            a = Self.mix(a &+ x)
            b = Self.mix(b ^ ((x << 29) | (x >> 35)) &+ 0xD1B5_4A32_D192_ED03)
            count += 1
        }

        @inline(__always)
        static func mix(_ value: UInt64) -> UInt64 {
            var z = value &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func finish(_ running: Running, scratch: inout [UInt8]) -> Fingerprint128 {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: saltBytes)
        withUnsafeBytes(of: (running.count.littleEndian, running.a.littleEndian, running.b.littleEndian)) {
            scratch.append(contentsOf: $0)
        }
        let (a, b) = scratch.withUnsafeBytes { FastHash.lanes($0) }
        return Fingerprint128(a: a, b: b)
    }
}

/// A session fingerprint's 128 bits.
struct Fingerprint128: Hashable, Sendable {
    var a: UInt64
    var b: UInt64

    /// 32 lowercase hex digits, as the state database stores them.
    var hex: String { FastHash.hex128(a, b) }
}

/// The fingerprints a state database holds, by session, in 32 bytes a session (no strings):
/// a no-op run loads one per session while its first batches are read. A session is found by
/// the ``KeyFingerprint`` of its cache key rebuilt from the stored ids, which is the key's own
/// unless it held invalid UTF-8 (the ids are stored repaired): such a session is decoded on
/// every run, as if its fingerprint were unknown.
package struct KnownFingerprints: Sendable {
    /// By the ``KeyFingerprint`` of the session's cache key.
    private(set) var table: [KeyFingerprint: Fingerprint128] = [:]

    package init() {}

    package var count: Int { table.count }

    /// Records a session's fingerprint given as stored (32 hex digits); anything else is left
    /// out, and that session is then decoded and fingerprinted again.
    package mutating func insert(_ key: SessionKey, hex: String) {
        var scratch: [UInt8] = []
        var hex = hex
        hex.withUTF8 { hexBytes in
            var user = key.userID, session = key.sessionID
            user.withUTF8 { u in session.withUTF8 { s in
                insert(userID: UnsafeRawBufferPointer(u), sessionID: UnsafeRawBufferPointer(s),
                       hex: UnsafeRawBufferPointer(hexBytes), scratch: &scratch)
            } }
        }
    }

    /// The same from bytes in place (a state database row); `scratch` is reused between calls.
    package mutating func insert(userID: UnsafeRawBufferPointer, sessionID: UnsafeRawBufferPointer, hex: UnsafeRawBufferPointer,
                         scratch: inout [UInt8]) {
        guard let (a, b) = FastHash.words128(hex: hex) else { return }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: SessionKey.qaPrefixBytes)
        scratch.append(contentsOf: userID)
        scratch.append(UInt8(ascii: ":"))
        scratch.append(contentsOf: sessionID)
        table[KeyFingerprint(scratch)] = Fingerprint128(a: a, b: b)
    }

    /// The fingerprint recorded for the session whose cache key has this fingerprint.
    subscript(key: KeyFingerprint) -> Fingerprint128? { table[key] }
}

/// How to read a cache.
package struct CacheReadOptions: Sendable {
    /// Read diskcache rows whose `expire_time` has passed (a rescue for sessions that expired
    /// before they were persisted). Redis deletes expired keys itself, so there it changes nothing.
    package var includeExpired: Bool
    /// The clock for expiry decisions, in Unix seconds; nil means the wall clock.
    package var now: Double?
    /// Sessions per batch (and Redis keys per pipeline).
    package var batchSize: Int
    /// When set, sessions read with their fingerprint, and ones it already knows are not decoded.
    package var fingerprints: SessionFingerprints?
    /// When set, keys that look like session keys but name no session are reported here.
    package var malformedKeys: MalformedKeys?

    package init(includeExpired: Bool = false, now: Double? = nil, batchSize: Int = 100) {
        self.includeExpired = includeExpired
        self.now = now
        self.batchSize = max(1, batchSize)
    }
}

/// Escapes the characters Redis's glob-style `MATCH` gives a meaning to (`*?[]\`).
package func redisGlobEscape(_ text: String) -> String {
    var out = ""
    for ch in text {
        if ch == "*" || ch == "?" || ch == "[" || ch == "]" || ch == "\\" { out.append("\\") }
        out.append(ch)
    }
    return out
}
