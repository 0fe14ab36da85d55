import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import TestSupport
import Testing

/// cognee's SQL session cache (`cache_qa_entries`), on a real SQLite file and, where the server
/// is there, a real PostgreSQL: paging, filters, expiry, bad rows, and `run` on it.
@Suite("SQL cache (SQLite and PostgreSQL)")
struct SQLCacheTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memify-sql-\(UUID().uuidString)").path

    init() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    var cacheFile: String { directory + "/cache.db" }

    /// 7 turns a session, so sessions straddle the reader's 2,000-row pages.
    static let corpus = SyntheticCorpus(users: 7, sessions: 500, turnsPerSession: 7, entryBytes: 400)

    static func write(_ corpus: SyntheticCorpus, to database: SQLCacheSource.Database, ttl: Double? = nil, now: Double? = nil) throws {
        let writer = try SQLCacheWriter(database: database, ttlSeconds: ttl)
        defer { writer.close() }
        for start in stride(from: 0, to: corpus.sessions, by: 100) {
            try writer.append(entries: (start..<min(corpus.sessions, start + 100)).map { (corpus.key(session: $0), corpus.entries(session: $0)) },
                              now: now)
        }
    }

    static func read(_ database: SQLCacheSource.Database, filter: SessionFilter = .all,
                     options: CacheReadOptions = CacheReadOptions()) async throws -> [SessionKey: SessionRead] {
        let source = try SQLCacheSource(database: database, options: options)
        var out: [SessionKey: SessionRead] = [:]
        for try await read in source.sessions(filter: filter) {
            #expect(out[read.key] == nil, "\(read.key) returned twice")
            out[read.key] = read
        }
        return out
    }

    static func expectCorpus(_ reads: [SessionKey: SessionRead], _ corpus: SyntheticCorpus, sessions: some Sequence<Int>) {
        var count = 0
        for s in sessions {
            count += 1
            let key = corpus.key(session: s)
            guard let read = reads[key] else { Issue.record("\(key) missing"); continue }
            #expect(!read.hasErrors, "\(key): \(read.errors)")
            #expect(read.entries.map(\.jsonValue) == corpus.entries(session: s).map(\.jsonValue), "\(key)")
        }
        #expect(reads.count == count)
    }

    @Test("every session of a SQLite cache.db, across pages, by filter, by shard")
    func sqliteSessions() async throws {
        let corpus = Self.corpus
        try Self.write(corpus, to: .sqlite(path: cacheFile))
        let all = try await Self.read(.sqlite(path: directory))  // the folder (cognee's DB_PATH) or the file
        Self.expectCorpus(all, corpus, sessions: 0..<corpus.sessions)

        let user = corpus.key(session: 3).userID
        let mine = try await Self.read(.sqlite(path: cacheFile), filter: SessionFilter(userIDs: [user]))
        Self.expectCorpus(mine, corpus, sessions: (0..<corpus.sessions).filter { corpus.key(session: $0).userID == user })

        let picked = [corpus.key(session: 10), corpus.key(session: 499)]
        let exact = try await Self.read(.sqlite(path: cacheFile), filter: SessionFilter(keys: Set(picked)))
        Self.expectCorpus(exact, corpus, sessions: [10, 499])

        let named = try await Self.read(.sqlite(path: cacheFile), filter: SessionFilter(sessionIDs: [picked[0].sessionID]))
        #expect(named.keys.contains(picked[0]))
        #expect(named.keys.allSatisfy { $0.sessionID == picked[0].sessionID })

        var union: [SessionKey: SessionRead] = [:]
        for k in 1...2 {
            var filter = SessionFilter()
            filter.shard = try Shard(index: k, count: 2)
            let part = try await Self.read(.sqlite(path: cacheFile), filter: filter)
            #expect(!part.isEmpty && part.count < corpus.sessions)
            union.merge(part) { a, _ in Issue.record("\(a.key) in both shards"); return a }
        }
        #expect(Set(union.keys) == Set(all.keys))
    }

    @Test("expiry is judged row by row as cognee does; --include-expired reads the rest")
    func expiry() async throws {
        let now = 1_795_000_000.0
        let old = SyntheticCorpus(seed: 1, users: 1, sessions: 3, turnsPerSession: 2)
        try Self.write(old, to: .sqlite(path: cacheFile), ttl: 3600, now: now - 7200)  // expired an hour ago
        let writer = try SQLCacheWriter(database: .sqlite(path: cacheFile), ttlSeconds: 3600)
        // One more turn in session 0, written now: only it is still visible there.
        var fresh = old.entries(session: 0)[0]
        fresh.qaID = "fresh-turn"
        try writer.append(entries: [(old.key(session: 0), [fresh])], now: now)
        writer.close()

        let visible = try await Self.read(.sqlite(path: cacheFile), options: CacheReadOptions(now: now))
        #expect(visible.count == 1)
        #expect(visible[old.key(session: 0)]?.entries.map(\.qaID) == ["fresh-turn"])

        let rescued = try await Self.read(.sqlite(path: cacheFile), options: CacheReadOptions(includeExpired: true, now: now))
        #expect(rescued.count == 3)
        #expect(rescued[old.key(session: 0)]?.entries.count == 3)
        // As SQLAlchemy stores a naive UTC DateTime on SQLite, which cognee compares as text.
        let stored = try SQLiteDatabase(path: cacheFile, mode: .readOnly).withStatement(
            "SELECT expires_at FROM cache_qa_entries WHERE qa_id = 'fresh-turn'", operation: "expiry") { stmt throws(DatabaseError) -> String? in
            try stmt.step() ? stmt.text(0) : nil
        }
        #expect(stored == "2026-11-18 12:06:40.000000")
    }

    @Test("a bad row is reported with its seq; the good rows around it are read")
    func badRows() async throws {
        let corpus = SyntheticCorpus(seed: 2, users: 1, sessions: 1, turnsPerSession: 3)
        try Self.write(corpus, to: .sqlite(path: cacheFile))
        let key = corpus.key(session: 0)
        let db = try SQLiteDatabase(path: cacheFile, mode: .readWrite)
        func insert(_ qaID: String, _ bind: (inout SQLiteStatement) throws(DatabaseError) -> Void) throws {
            try db.withStatement("INSERT INTO cache_qa_entries (user_id, session_id, qa_id, payload) VALUES (?1, ?2, ?3, ?4)",
                                 operation: "plant") { stmt throws(DatabaseError) in
                try stmt.bind(1, key.userID)
                try stmt.bind(2, key.sessionID)
                try stmt.bind(3, qaID)
                try bind(&stmt)
                _ = try stmt.step()
            }
        }
        try insert("bad-json") { stmt throws(DatabaseError) in try stmt.bind(4, "{not json") }
        try insert("bad-array") { stmt throws(DatabaseError) in try stmt.bind(4, "[1, 2]") }
        try insert("bad-utf8") { stmt throws(DatabaseError) in try stmt.bindText(4, bytes: Array("{\"question\": \"".utf8) + [0xFF, 0xFE] + Array("\"}".utf8)) }
        var blobEntry = corpus.entries(session: 0)[0]
        blobEntry.qaID = "blob-payload"
        try insert("blob") { stmt throws(DatabaseError) in try stmt.bindBlob(4, bytes: blobEntry.cogneeJSON) }
        let seqs = try db.withStatement("SELECT seq FROM cache_qa_entries ORDER BY seq", operation: "seqs") { stmt throws(DatabaseError) -> [Int64] in
            var out: [Int64] = []
            while try stmt.step() { out.append(stmt.int64(0)) }
            return out
        }
        db.close()

        let read = try #require(try await Self.read(.sqlite(path: cacheFile))[key])
        #expect(read.entries.map(\.qaID) == corpus.entries(session: 0).map(\.qaID) + ["blob-payload"])
        #expect(read.errors.map(\.index) == [3, 4, 5])
        for (error, seq) in zip(read.errors, seqs[3...5]) {
            #expect(error.error.reason.hasPrefix("row seq \(seq): "), "\(error.error.reason)")
        }
        #expect(read.errors.map(\.error.kind) == [.invalidJSON, .notAnObject, .invalidJSON])
        #expect(read.errors[0].raw == Array("{not json".utf8))
    }

    @Test("diskcache's cache.db and a missing file are refused with what to do instead")
    func wrongFiles() async throws {
        _ = try FileCacheWriter(directory: directory, ttlSeconds: nil)
        let source = try SQLCacheSource(database: .sqlite(path: cacheFile))
        let diskcache = await #expect(throws: WorkerError.self) { _ = try await source.makeCursor(filter: .all) }
        #expect(diskcache?.message.contains("--cache fs:PATH") == true)
        let missing = #expect(throws: WorkerError.self) { try SQLCacheSource(database: .sqlite(path: directory + "/nope")) }
        #expect(missing?.code == .usage)
        #expect(throws: WorkerError.self) { try CacheSourceFactory.sqlDatabase("sqlite://host/x") }
        #expect(try CacheSourceFactory.sqlDatabase("sqlite+aiosqlite:////abs/cache.db") == .sqlite(path: "/abs/cache.db"))
        #expect(try CacheSourceFactory.sqlDatabase("sqlite:rel/cache.db") == .sqlite(path: "rel/cache.db"))
        #expect(try CacheSourceFactory.sqlDatabase("postgresql+asyncpg://u@h:5/db") == .postgres(conninfo: "postgresql://u@h:5/db"))
        #expect(try CacheSourceFactory.sqlDatabase("redis://h:1") == nil)
    }

    @Test("PostgreSQL (JSONB payloads) reads the same sessions as SQLite",
          .enabled(if: TestEnvironment.postgresURL != nil, "set MEMIFY_TEST_POSTGRES_URL (scripts/test starts PostgreSQL)"))
    func postgres() async throws {
        let conninfo = try await PostgresCacheSchema.make()
        let corpus = Self.corpus
        try Self.write(corpus, to: .postgres(conninfo: conninfo), ttl: 3600)
        let all = try await Self.read(.postgres(conninfo: conninfo))
        Self.expectCorpus(all, corpus, sessions: 0..<corpus.sessions)
        let user = corpus.key(session: 3).userID
        let mine = try await Self.read(.postgres(conninfo: conninfo), filter: SessionFilter(userIDs: [user]))
        Self.expectCorpus(mine, corpus, sessions: (0..<corpus.sessions).filter { corpus.key(session: $0).userID == user })
        let later = try await Self.read(.postgres(conninfo: conninfo), options: CacheReadOptions(now: Date().timeIntervalSince1970 + 7200))
        #expect(later.isEmpty, "rows expired an hour ago are not read")
    }

    @Test("run on a SQLite cache: persist, no-op, an edit, a deletion")
    func run() throws {
        let corpus = SyntheticCorpus(seed: 3, users: 2, sessions: 6, turnsPerSession: 3)
        try Self.write(corpus, to: .sqlite(path: cacheFile))
        func run() throws -> JSONObject {
            let outcome = try WorkerProcess.run(["run", "--cache", "sqlite:" + directory, "--graph", "sqlite:" + directory + "/graph.db",
                                                 "--state", directory + "/state.db", "--json", "--no-progress"])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let last = try #require(outcome.stdoutText.split(separator: "\n").last)
            guard case .object(let summary) = try JSONParser.parse(String(last)) else { throw FixtureError("no summary") }
            return summary
        }
        func number(_ s: JSONObject, _ field: String) -> Int? {
            if case .number(let n)? = s[field] { return Int(n.literal) }
            return nil
        }
        let first = try run()
        #expect(number(first, "turns_persisted") == 18)
        // The graph names the run by a UUID (cognee's provenance code parses run ids as UUIDs).
        let runIDs = try SQLiteDatabase(path: directory + "/graph.db", mode: .readOnly).withStatement(
            "SELECT DISTINCT value FROM graph_node, json_each(graph_node.source_run_ids)", operation: "run ids") { stmt throws(DatabaseError) -> [String] in
            var out: [String] = []
            while try stmt.step() { out.append(stmt.text(0) ?? "") }
            return out
        }
        guard case .string(let runName)? = first["run_id"] else { throw FixtureError("no run_id") }
        #expect(runIDs == [GraphIdentity.graphRunID(runName)], "\(runIDs)")
        let again = try run()
        #expect(number(again, "sessions_unchanged") == 6)
        #expect(number(again, "turns_persisted") == 0)
        #expect(number(again, "extractor_calls") == 0)

        let db = try SQLiteDatabase(path: cacheFile, mode: .readWrite)
        var edited = corpus.entries(session: 1)[1]
        edited.answer = "An edited answer: Bob moved to Oslo."
        try db.withStatement("UPDATE cache_qa_entries SET payload = ?1 WHERE qa_id = ?2", operation: "edit") { stmt throws(DatabaseError) in
            try stmt.bindText(1, bytes: edited.cogneeJSON)
            try stmt.bind(2, edited.qaID)
            _ = try stmt.step()
        }
        try db.withStatement("DELETE FROM cache_qa_entries WHERE qa_id = ?1", operation: "delete") { stmt throws(DatabaseError) in
            try stmt.bind(1, corpus.entries(session: 2)[0].qaID)
            _ = try stmt.step()
        }
        db.close()
        let third = try run()
        #expect(number(third, "turns_changed") == 1)
        #expect(number(third, "turns_deleted") == 1)
        #expect(number(third, "sessions_unchanged") == 4)
    }

    @Test("CACHE_BACKEND=sqlite finds DB_PATH/cache.db as cognee does; unknown backends and a missing DB_PATH are usage errors")
    func environment() throws {
        try Self.write(SyntheticCorpus(seed: 4, users: 1, sessions: 2, turnsPerSession: 1), to: .sqlite(path: cacheFile))
        let listed = try WorkerProcess.run(["sessions", "list"], environment: ["CACHE_BACKEND": "sqlite", "DB_PATH": directory])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdoutText.split(separator: "\n").count == 2)
        let viaURL = try WorkerProcess.run(["sessions", "list"], environment: ["CACHE_BACKEND": "sqlite", "CACHE_DB_URL": "sqlite+aiosqlite:///" + cacheFile])
        #expect(viaURL.stdoutText == listed.stdoutText)
        let noPath = try WorkerProcess.run(["sessions", "list"], environment: ["CACHE_BACKEND": "sqlite", "DB_PATH": "", "SYSTEM_ROOT_DIRECTORY": ""].filter { !$0.value.isEmpty })
        #expect(noPath.status == 64)
        #expect(noPath.stderr.contains("DB_PATH"))
        let unknown = try WorkerProcess.run(["sessions", "list"], environment: ["CACHE_BACKEND": "memcached"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("CACHE_BACKEND=memcached"))
        let postgres = try WorkerProcess.run(["sessions", "list"], environment: ["CACHE_BACKEND": "postgres", "DB_PROVIDER": "sqlite"])
        #expect(postgres.status == 64)
        #expect(postgres.stderr.contains("DB_PROVIDER"))
    }
}

/// A PostgreSQL schema of its own for one test's cache tables: the conninfo sets its search_path.
enum PostgresCacheSchema {
    static func make() async throws -> String {
        let base = try #require(TestEnvironment.postgresURL)
        let schema = "cache_" + UUID().uuidString.prefix(8).lowercased()
        let executor = BlockingExecutor(label: "test.pg")
        try await executor.run {
            let connection = try PostgresConnection(conninfo: base)
            try connection.execute("CREATE SCHEMA \(schema)", operation: "create schema")
            connection.close()
        }
        return base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
    }
}
