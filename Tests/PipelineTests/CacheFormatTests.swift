import Testing
@testable import MemifyCore
@testable import GraphStore
@testable import SessionCache
@testable import Extraction
@testable import Pipeline
@testable import MemifyTools

@Suite("Cache keys, URLs and times")
struct CacheFormatTests {
    @Test("keys split on the first two colons only", arguments: [
        ("agent_sessions:u1:s1", "u1", "s1"),
        ("agent_sessions:u1:project:alpha:2", "u1", "project:alpha:2"),
        ("agent_sessions:cli-user-42:glob*?[chars]\\and/slash%", "cli-user-42", "glob*?[chars]\\and/slash%"),
        ("agent_sessions:u::", "u", ":"),
        // Python splits on code points: a combining mark after a colon leaves it a colon.
        ("agent_sessions:u:\u{301}s", "u", "\u{301}s"),
        ("agent_sessions:\u{E9}t\u{E9}:\u{301}:x", "\u{E9}t\u{E9}", "\u{301}:x"),
    ])
    func keys(_ key: String, _ user: String, _ session: String) throws {
        let parsed = try #require(SessionKey(cacheKey: key))
        #expect(parsed.userID == user)
        #expect(parsed.sessionID == session)
        #expect(parsed.cacheKey == key)
    }

    @Test("not session keys", arguments: ["agent_traces:u:s", "agent_sessions\u{301}:u:s", "agent_sessions:", "agent_sessions:u", "agent_sessions::s", "agent_sessions:u:"])
    func notKeys(_ key: String) {
        #expect(SessionKey(cacheKey: key) == nil)
    }

    @Test("glob characters are escaped for SCAN MATCH")
    func globEscape() {
        #expect(redisGlobEscape("glob*?[chars]\\and/slash%") == "glob\\*\\?\\[chars\\]\\\\and/slash%")
        #expect(RedisCacheSource.scanPattern(for: SessionFilter(userIDs: ["u*"])) == "agent_sessions:u\\*:*")
        #expect(RedisCacheSource.scanPattern(for: SessionFilter(sessionIDs: ["a?b"])) == "agent_sessions:*:a\\?b")
        #expect(RedisCacheSource.scanPattern(for: .all) == "agent_sessions:*")
    }

    @Test("Redis URLs: credentials, database, and a password never shown")
    func redisURLs() throws {
        let url = try RedisURL(parsing: "redis://worker:s%40cret@cache.internal:6380/2")
        #expect(url == RedisURL(host: "cache.internal", port: 6380, database: 2, username: "worker", password: "s@cret"))
        #expect(!url.description.contains("cret"))
        #expect(url.description == "redis://worker:***@cache.internal:6380/2")
        #expect(try RedisURL(parsing: "redis://localhost") == RedisURL(host: "localhost"))
        #expect(try RedisURL(parsing: "redis://:pw@[::1]:7000") == RedisURL(host: "::1", port: 7000, password: "pw"))
    }

    @Test("malformed Redis URLs are usage errors")
    func badURLs() {
        #expect(throws: WorkerError.self) { try RedisURL(parsing: "redis://h:notaport") }
        #expect(throws: WorkerError.self) { try RedisURL(parsing: "redis://h:6379/x") }
    }

    @Test("timestamps cognee writes, with and without microseconds or offset")
    func timestamps() {
        #expect(parseTimestamp("2026-11-24T18:56:24.911681+00:00") == 1_795_546_584.911681)
        #expect(parseTimestamp("2026-09-01T10:01:00+00:00") == parseTimestamp("2026-09-01T10:01:00"))
        #expect(parseTimestamp("2026-09-01T12:01:00+02:00") == parseTimestamp("2026-09-01T10:01:00Z"))
        #expect(parseTimestamp("2026-09-01") == parseTimestamp("2026-09-01T00:00:00"))
        #expect(parseTimestamp("1795546584") == 1_795_546_584)
        #expect(parseTimestamp("yesterday") == nil)
        #expect(parseTimestamp("2026-13-01") == nil)
        #expect(SyntheticCorpus.isoTime(1_795_546_584.911681) == "2026-11-24T18:56:24.911681+00:00")
        #expect(SyntheticCorpus.isoTime(1_788_256_860) == "2026-09-01T10:01:00+00:00")
    }

    @Test("history text is cognee's format_entries, character for character")
    func history() {
        let entries = [
            SessionQAEntry(time: "2026-09-01T10:00:00.123456+00:00", question: "What is Cognee?", context: "ctx", answer: "A memory layer."),
            SessionQAEntry(time: "2026-09-01T10:01:00+00:00", question: "And sessions?", context: "", answer: "Cached Q&A."),
        ]
        #expect(HistoryFormatter.format(entries, includeContext: false)
            == "Previous conversation:\n\n[2026-09-01T10:00:00.123456+00:00]\nQUESTION: What is Cognee?\nANSWER: A memory layer.\n\n[2026-09-01T10:01:00+00:00]\nQUESTION: And sessions?\nANSWER: Cached Q&A.\n\n")
        #expect(HistoryFormatter.format(entries, includeContext: true).contains("QUESTION: And sessions?\nCONTEXT: \nANSWER: Cached Q&A.\n\n"))
        #expect(HistoryFormatter.format([], includeContext: true) == "")
    }

    @Test("a diskcache list is split so that one bad element hides no other")
    func splitter() throws {
        let good = #"{"time": "t", "question": "q", "context": "", "answer": "a"}"#
        let value = "[" + good + ", {\"time\": 1}, [1, \"]\", {\"x\": \"}\"}], " + good + "]"
        var read = SessionRead(key: SessionKey(userID: "u", sessionID: "s"), location: "test")
        read.decode(diskcacheValue: Array(value.utf8))
        #expect(read.elements.map(\.index) == [0, 3])
        #expect(read.errors.map(\.index) == [1, 2])
        #expect(read.errors[0].raw == Array(#"{"time": 1}"#.utf8), "a bad element keeps its exact bytes")

        var notList = SessionRead(key: SessionKey(userID: "u", sessionID: "s"), location: "test")
        notList.decode(diskcacheValue: Array(good.utf8))
        #expect(notList.sessionError?.reason.contains("dict, not a list") == true)
        var broken = SessionRead(key: SessionKey(userID: "u", sessionID: "s"), location: "test")
        broken.decode(diskcacheValue: Array("[\(good), ".utf8))
        #expect(broken.sessionError?.reason.contains("not terminated") == true)
    }

    @Test("the synthetic corpus is deterministic and about the size asked for")
    func synthetic() throws {
        let a = SyntheticCorpus(seed: 7, users: 3, sessions: 10, turnsPerSession: 4, entryBytes: 1000)
        let b = SyntheticCorpus(seed: 7, users: 3, sessions: 10, turnsPerSession: 4, entryBytes: 1000)
        #expect(a.entries(session: 5) == b.entries(session: 5))
        #expect(a.key(session: 5) == b.key(session: 5))
        #expect(a.entries(session: 5) != a.entries(session: 6))
        let sizes = a.entries(session: 1).map { $0.cogneeJSON.count }
        #expect(sizes.allSatisfy { (800...1300).contains($0) }, "\(sizes)")
        for entry in a.entries(session: 2) {
            #expect(try SessionQAEntry.decode(entry.cogneeJSON).get() == entry)
        }
    }
}
