import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import TestSupport
import Testing

/// The reader keeps several pipelines in flight and decodes on several tasks: whatever the
/// batch size, every session must come back exactly once, in full.
@Suite("Redis reader streaming", .serialized,
       .enabled(if: TestEnvironment.redisURL != nil, "set MEMIFY_TEST_REDIS_URL (scripts/test starts a Redis)"))
struct RedisStreamingTests {
    static let database = 10
    static let sessions = 2_000

    @Test("every session exactly once, for any batch size", .timeLimit(.minutes(10)))
    func exactlyOnce() async throws {
        let url = try RedisURL(parsing: try #require(TestEnvironment.redisURL) + "/\(Self.database)")
        let corpus = SyntheticCorpus(seed: 99, users: 37, sessions: Self.sessions, turnsPerSession: 3, entryBytes: 300)
        try await BlockingExecutor(label: "test").run {
            let connection = try RedisConnection(url: url)
            _ = try connection.command(["FLUSHDB"])
            let writer = RedisCacheWriter(connection: connection, ttlSeconds: nil)
            for start in stride(from: 0, to: Self.sessions, by: 500) {
                try writer.append(entries: (start..<start + 500).map { (corpus.key(session: $0), corpus.entries(session: $0)) })
            }
        }
        let expected = Set((0..<Self.sessions).map { corpus.key(session: $0) })
        for batchSize in [1, 3, 64, 100, 1000] {
            for _ in 0..<3 {
                var seen: [SessionKey: Int] = [:]
                var entries = 0
                for try await read in RedisCacheSource(url: url, options: CacheReadOptions(batchSize: batchSize)).sessions() {
                    seen[read.key, default: 0] += 1
                    entries += read.elements.count
                    #expect(!read.hasErrors)
                }
                #expect(Set(seen.keys) == expected, "batch size \(batchSize): \(expected.subtracting(seen.keys).count) missing")
                #expect(seen.values.allSatisfy { $0 == 1 }, "batch size \(batchSize): a session came back twice")
                #expect(entries == Self.sessions * 3)
            }
        }
        // Short reads, where the end of the keys comes while prefetches are queued: each must
        // still return its session (a reordered prefetch once returned "the end" first).
        for i in 0..<300 {
            let key = corpus.key(session: i)
            var found = 0
            let filter = SessionFilter(userIDs: [key.userID], sessionIDs: [key.sessionID])
            for try await read in RedisCacheSource(url: url).sessions(filter: filter) {
                #expect(read.key == key)
                found += 1
            }
            #expect(found == 1, "\(key) read \(found) times")
        }
        // Stopping early must not hang or crash (prefetches are cancelled or drained).
        var count = 0
        for try await _ in RedisCacheSource(url: url, options: CacheReadOptions(batchSize: 10)).sessions() {
            count += 1
            if count == 25 { break }
        }
        #expect(count == 25)
    }
}
