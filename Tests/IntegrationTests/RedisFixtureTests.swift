import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import TestSupport
import Testing

/// cognee 1.6.5's real Redis cache, restored into a loopback Redis, read by our reader and by
/// the CLI, compared with what cognee itself read back (`expected/redis.json`).
@Suite("Redis cache fixture (cognee 1.6.5)", .serialized,
       .enabled(if: TestEnvironment.redisURL != nil, "set MEMIFY_TEST_REDIS_URL (scripts/test starts a Redis)"))
struct RedisFixtureTests {
    static let database = 9
    let expected: JSONObject
    let url: String

    init() async throws {
        expected = try CogneeFixture.expected(.redis)
        url = try #require(TestEnvironment.redisURL) + "/\(Self.database)"
        let redisURL = try RedisURL(parsing: url)
        try await BlockingExecutor(label: "test").run {
            try CogneeFixture.loadRedis(into: RedisConnection(url: redisURL))
        }
    }

    func readAll(filter: SessionFilter = .all, batchSize: Int = 100) async throws -> [SessionKey: ObservedSession] {
        let source = RedisCacheSource(url: try RedisURL(parsing: url), options: CacheReadOptions(batchSize: batchSize))
        var observed: [SessionKey: ObservedSession] = [:]
        for try await read in source.sessions(filter: filter) {
            #expect(observed[read.key] == nil, "\(read.key) returned twice")
            observed[read.key] = ObservedSession(read)
        }
        return observed
    }

    @Test("every session, entry and corrupt element agrees with cognee", arguments: [100, 7, 1])
    func library(batchSize: Int) async throws {
        let observed = try await readAll(batchSize: batchSize)
        let problems = FixtureComparison.differences(observed: observed, expected: expected)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test("keys of the wrong type are a clear per-session error naming the type")
    func wrongType() async throws {
        let user = "0790003e-bc6e-4b83-bf57-1ebee0eb2d43"
        let source = RedisCacheSource(url: try RedisURL(parsing: url))
        var reasons: [String: String] = [:]
        for try await read in source.sessions(filter: SessionFilter(userIDs: [user])) {
            if let error = read.sessionError { reasons[read.key.sessionID] = error.reason }
        }
        #expect(reasons["corrupt__wrong_key_type"]?.contains("holds a Redis string, not a list") == true)
        #expect(reasons["corrupt__hash_key_type"]?.contains("holds a Redis hash, not a list") == true)
    }

    @Test("a bad element is reported with its index and reason; its neighbours are returned")
    func perElement() async throws {
        let key = SessionKey(userID: "0790003e-bc6e-4b83-bf57-1ebee0eb2d43", sessionID: "corrupt__mixed_entries")
        let source = RedisCacheSource(url: try RedisURL(parsing: url))
        var read: SessionRead?
        for try await r in source.sessions(filter: SessionFilter(userIDs: [key.userID], sessionIDs: [key.sessionID])) { read = r }
        let session = try #require(read)
        #expect(session.elements.map(\.index) == [0, 10, 11])
        let reasons = Dictionary(uniqueKeysWithValues: session.errors.map { ($0.index, $0.error.reason) })
        #expect(reasons[1]?.contains("Unterminated string") == true)
        #expect(reasons[3]?.contains("list, not an object") == true)
        #expect(reasons[5]?.contains("between 1 and 5") == true)
        #expect(reasons[6]?.contains("'node_ids' and 'edge_ids'") == true)
        #expect(reasons[7]?.contains("Expecting value") == true)
        #expect(reasons[9]?.contains("Invalid UTF-8") == true)
        #expect(session.errors.first { $0.index == 9 }?.raw.contains(0xFF) == true, "raw bytes kept for quarantine")
    }

    @Test("session ids with glob characters and colons are found exactly")
    func globAndColons() async throws {
        for sessionID in ["glob*?[chars]\\and/slash%", "project:alpha:2", "sess_3_ünïcödé_📚"] {
            let found = try await readAll(filter: SessionFilter(sessionIDs: [sessionID]))
            #expect(found.count == 1, "\(sessionID): \(found.keys)")
            #expect(found.keys.first?.sessionID == sessionID)
        }
        // A pattern character in the filter must not match other sessions.
        #expect(try await readAll(filter: SessionFilter(sessionIDs: ["glob*"])).isEmpty)
        #expect(try await readAll(filter: SessionFilter(userIDs: ["*"])).isEmpty)
    }

    @Test("sessions dump and show from the command line agree with cognee")
    func cli() throws {
        let dump = try WorkerProcess.run(["sessions", "dump", "--cache", url])
        #expect(dump.status == 3, "\(dump.stderr)")
        let observed = try ObservedSession.parse(dump: dump.stdout)
        let problems = FixtureComparison.differences(observed: observed, expected: expected)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")

        for (key, formatted, last3) in FixtureComparison.formattedCases(expected) {
            let show = try WorkerProcess.run(["sessions", "show", key.sessionID, "--user", key.userID, "--include-context", "--cache", url])
            #expect(show.stdoutText == formatted, "\(key): show differs from get_session_formatted (status \(show.status): \(show.stderr))")
            let json = try WorkerProcess.run(["sessions", "show", key.sessionID, "--user", key.userID, "--last-n", "3", "--format", "json", "--cache", url])
            #expect(try JSONParser.parse(json.stdout) == .array(last3), "\(key): --last-n 3 differs (status \(json.status): \(json.stderr))")
        }
        // Without --user: found by session id alone, even with glob characters in it.
        let glob = try WorkerProcess.run(["sessions", "show", "glob*?[chars]\\and/slash%", "--cache", url])
        #expect(glob.status == 0, "\(glob.stderr)")
        #expect(glob.stdoutText.hasPrefix("Previous conversation:\n\n"))
        let ambiguous = try WorkerProcess.run(["sessions", "show", "default_session", "--cache", url])
        #expect(ambiguous.status == 64)
        #expect(ambiguous.stderr.contains("pass --user"))
    }
}

@Suite("Redis connection contract", .enabled(if: TestEnvironment.redisURL != nil, "set MEMIFY_TEST_REDIS_URL"))
struct RedisConnectionTests {
    @Test("user:password@ URLs authenticate; a wrong password fails without echoing it")
    func auth() async throws {
        let base = try RedisURL(parsing: try #require(TestEnvironment.redisURL))
        let executor = BlockingExecutor(label: "test")
        try await executor.run {
            let admin = try RedisConnection(url: base)
            _ = try admin.command(["ACL", "SETUSER", "memify-test", "on", ">s3cret-pw", "~*", "+@all"])
            let ok = try RedisConnection(url: RedisURL(host: base.host, port: base.port, database: 3,
                                                       username: "memify-test", password: "s3cret-pw"))
            #expect(try ok.command(["PING"]) == .status("PONG"))
            do {
                _ = try RedisConnection(url: RedisURL(host: base.host, port: base.port, username: "memify-test", password: "wrong-pw-xyz"))
                Issue.record("a wrong password was accepted")
            } catch let error as WorkerError {
                #expect(error.code == .serviceUnavailable)
                #expect(!"\(error)".contains("wrong-pw-xyz"))
            }
        }
    }

    @Test("an unreachable Redis exits 69 naming where, over TCP, TLS or a unix socket")
    func unreachable() throws {
        for url in ["redis://user:topsecret@127.0.0.1:1/0", "rediss://user:topsecret@127.0.0.1:1/0",
                    "unix://user:topsecret@/nonexistent/redis.sock"] {
            let down = try WorkerProcess.run(["sessions", "list", "--cache", url])
            #expect(down.status == 69, "\(url): \(down.stderr)")
            #expect(down.stderr.contains(url.hasPrefix("unix") ? "/nonexistent/redis.sock" : "127.0.0.1:1"), "\(down.stderr)")
            #expect(!down.stderr.contains("topsecret"))
        }
    }
}

@Suite("CI runs every integration suite")
struct ServersPresentTests {
    @Test("MEMIFY_REQUIRE_SERVERS=1 (set by .ci/run) means the servers must be there",
          .enabled(if: ProcessInfo.processInfo.environment["MEMIFY_REQUIRE_SERVERS"] == "1"))
    func serversPresent() {
        #expect(TestEnvironment.redisURL != nil, "MEMIFY_TEST_REDIS_URL is not set under CI")
        #expect(TestEnvironment.postgresURL != nil, "MEMIFY_TEST_POSTGRES_URL is not set under CI")
        #expect(ProcessInfo.processInfo.environment["MEMIFY_COGNEE_PYTHON"] != nil, "MEMIFY_COGNEE_PYTHON is not set under CI")
        #expect(TestEnvironment.redisUnixURL != nil, "MEMIFY_TEST_REDIS_UNIX is not set under CI")
        #expect(TestEnvironment.redisTLSURL != nil && TestEnvironment.redisMutualTLSURL != nil && TestEnvironment.tlsDirectory != nil,
                "the TLS Redis servers (MEMIFY_TEST_REDIS_TLS_URL, MEMIFY_TEST_REDIS_MTLS_URL, MEMIFY_TEST_TLS_DIR) are not there under CI")
        #expect(TestEnvironment.pgvectorAvailable, "MEMIFY_TEST_PGVECTOR is not set under CI: the test PostgreSQL has no pgvector (MEMIFY_PG_BIN=$(scripts/pgvector-bin))")
    }

    @Test("MEMIFY_REQUIRE_SERVERS=1: the test PostgreSQL creates the vector extension in a new database",
          .enabled(if: ProcessInfo.processInfo.environment["MEMIFY_REQUIRE_SERVERS"] == "1"))
    func pgvectorPresent() async {
        #expect(await PostgresTestDatabase.pgvectorWorks(), "CREATE EXTENSION IF NOT EXISTS vector failed on \(TestEnvironment.postgresURL ?? "no server")")
    }
}
