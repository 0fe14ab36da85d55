import Foundation
@testable import MemifyCore
@testable import GraphStore
@testable import SessionCache
@testable import Extraction
@testable import Pipeline
@testable import MemifyTools
import TestSupport
import Testing

/// A run reads the cache while it sets up: the first cursor is opened and read ahead, and the
/// session fingerprints may still be loading. What comes out must be what a plain read gives.
@Suite("Reading ahead while a run sets up", .serialized,
       .enabled(if: TestEnvironment.redisURL != nil, "set MEMIFY_TEST_REDIS_URL (scripts/test starts a Redis)"))
struct PrimedSourceTests {
    static let database = 13
    static let sessions = 300

    let url: RedisURL
    let corpus = SyntheticCorpus(seed: 7, users: 11, sessions: PrimedSourceTests.sessions, turnsPerSession: 4, entryBytes: 200)

    init() async throws {
        url = try RedisURL(parsing: try #require(TestEnvironment.redisURL) + "/\(Self.database)")
        try await restore()
    }

    /// Writes the corpus into an emptied database.
    func restore() async throws {
        let url = self.url, corpus = self.corpus
        try await BlockingExecutor(label: "test").run {
            let connection = try RedisConnection(url: url)
            _ = try connection.command(["FLUSHDB"])
            try RedisCacheWriter(connection: connection, ttlSeconds: nil)
                .append(entries: (0..<Self.sessions).map { (corpus.key(session: $0), corpus.entries(session: $0)) })
        }
    }

    func readAll(_ source: any CacheSource, filter: SessionFilter = .all) async throws -> [SessionKey: SessionRead] {
        var out: [SessionKey: SessionRead] = [:]
        for try await read in source.sessions(filter: filter) {
            #expect(out[read.key] == nil, "\(read.key) came back twice")
            out[read.key] = read
        }
        return out
    }

    @Test("fingerprints that finish loading after reading began still skip exactly the unchanged sessions")
    func lateFingerprints() async throws {
        let salt = "test salt"
        // A first read learns every session's fingerprint (none known yet: all decoded).
        var options = CacheReadOptions(batchSize: 16)
        options.fingerprints = SessionFingerprints(salt: salt, known: KnownFingerprints())
        let first = try await readAll(RedisCacheSource(url: url, options: options))
        #expect(first.count == Self.sessions)
        #expect(first.values.allSatisfy { $0.unchangedCount == nil && $0.elements.count == 4 && $0.fingerprint?.count == 32 })
        // Every other session is known; the table arrives only after reading has started.
        var known = KnownFingerprints()
        let keys = first.keys.sorted { $0.cacheKey < $1.cacheKey }
        for key in keys.enumerated().filter({ $0.offset % 2 == 0 }).map(\.element) {
            known.insert(key, hex: try #require(first[key]?.fingerprint))
        }
        #expect(known.count == Self.sessions / 2)
        let table = known
        let loading = Task { () -> KnownFingerprints in
            try? await Task.sleep(for: .milliseconds(300))
            return table
        }
        options.fingerprints = SessionFingerprints(salt: salt, known: loading)
        let primed = PrimedSource(RedisCacheSource(url: url, options: options), filter: .all)
        try await Task.sleep(for: .milliseconds(50))  // the primed cursor is reading meanwhile
        let second = try await readAll(primed)
        #expect(Set(second.keys) == Set(first.keys))
        for (i, key) in keys.enumerated() {
            let read = try #require(second[key])
            if i % 2 == 0 {
                #expect(read.unchangedCount == 4 && read.elements.isEmpty, "\(key) should be skipped")
            } else {
                #expect(read.unchangedCount == nil && read.elements.map(\.entry) == first[key]?.elements.map(\.entry), "\(key) should be decoded as before")
                #expect(read.fingerprint == first[key]?.fingerprint)
            }
        }
        // Another salt (another extractor or dataset) matches nothing.
        options.fingerprints = SessionFingerprints(salt: salt + "!", known: table)
        let salted = try await readAll(RedisCacheSource(url: url, options: options))
        #expect(salted.values.allSatisfy { $0.unchangedCount == nil })
    }

    @Test("a cursor for another filter, or a second one, is read afresh")
    func otherFilters() async throws {
        let plain = try await readAll(RedisCacheSource(url: url))
        let primed = PrimedSource(RedisCacheSource(url: url), filter: .all)
        let key = corpus.key(session: 5)
        let one = try await readAll(primed, filter: SessionFilter(userIDs: [key.userID], sessionIDs: [key.sessionID]))
        #expect(Array(one.keys) == [key])
        let all = try await readAll(primed)  // the primed cursor, still unused
        let again = try await readAll(primed)  // a fresh one
        for read in [all, again] {
            #expect(Set(read.keys) == Set(plain.keys))
            #expect(read.allSatisfy { $0.value.elements.map(\.entry) == plain[$0.key]?.elements.map(\.entry) })
        }
    }

    /// How many sessions a cursor reads before its consumer asks for more than the first batch:
    /// once its reading ahead has stopped, the cache is emptied, so the rest of the read finds
    /// no keys.
    func readAhead(known: KnownFingerprints) async throws -> [SessionRead] {
        var options = CacheReadOptions(batchSize: 2)
        options.fingerprints = SessionFingerprints(salt: "ahead", known: known)
        let cursor = try #require(try await RedisCacheSource(url: url, options: options).makeCursor(filter: .all) as? RedisSessionCursor)
        var reads = try #require(try await cursor.nextBatch())
        let deadline = ContinuousClock.now + .seconds(20)
        while !cursor.isIdle && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(cursor.isIdle, "the read ahead did not stop")
        let url = self.url
        try await BlockingExecutor(label: "test").run { _ = try RedisConnection(url: url).command(["FLUSHDB"]) }
        while let batch = try await cursor.nextBatch() { reads += batch }
        return reads
    }

    @Test("an unchanged cache is read ahead of its consumer, a bounded number of batches; changed sessions are not")
    func readsAheadOfTheConsumer() async throws {
        // The fingerprints of every session, from a first read.
        var options = CacheReadOptions(batchSize: 2)
        options.fingerprints = SessionFingerprints(salt: "ahead", known: KnownFingerprints())
        var known = KnownFingerprints()
        for (key, read) in try await readAll(RedisCacheSource(url: url, options: options)) {
            known.insert(key, hex: try #require(read.fingerprint))
        }
        // All unchanged: decoded batches of no entries pile up, 64 of them (plus the one handed
        // out, two read and one on the wire), while the consumer waits: 2 sessions a batch.
        let unchanged = try await readAhead(known: known)
        let aheadUnchanged = 2 * (1 + 64 + 2 + 1)
        #expect(unchanged.count == aheadUnchanged, "\(unchanged.count) sessions read ahead")
        #expect(unchanged.allSatisfy { $0.unchangedCount == 4 && $0.elements.isEmpty })
        #expect(Set(unchanged.map(\.key)).count == unchanged.count)

        // All changed: two decoded batches of entries wait (1 + 2 + 2 + 1 batches).
        try await restore()
        let changed = try await readAhead(known: KnownFingerprints())
        let aheadChanged = 2 * (1 + 2 + 2 + 1)
        #expect(changed.count == aheadChanged, "\(changed.count) sessions read ahead")
        #expect(changed.allSatisfy { $0.unchangedCount == nil && $0.elements.count == 4 })
    }

    @Test("an unreachable cache fails where the first batch is asked for, not before")
    func lateError() async throws {
        let primed = PrimedSource(RedisCacheSource(url: try RedisURL(parsing: "redis://127.0.0.1:1/0")), filter: .all)
        try await Task.sleep(for: .milliseconds(50))
        await #expect(throws: WorkerError.self) { _ = try await readAll(primed) }
    }
}
