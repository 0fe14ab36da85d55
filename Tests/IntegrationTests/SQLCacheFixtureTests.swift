import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import TestSupport
import Testing

/// cognee 1.6.5's real SQL caches (`Tests/Fixtures/cognee-sql`, written through cognee's own
/// `SqlCacheAdapter` by `scripts/gen-sql-cache-fixtures.py`), read by our reader and the CLI,
/// compared with what cognee itself read back. The clock is the fixture's `generated_at`.
@Suite("SQL cache fixtures (cognee 1.6.5)", .serialized)
struct SQLCacheFixtureTests {
    static let folder = TestEnvironment.repositoryDirectory + "/Tests/Fixtures/cognee-sql"

    static func expected(_ backend: String) throws -> JSONObject {
        let path = folder + "/\(backend)/expected.json"
        guard let data = FileManager.default.contents(atPath: path),
              case .object(let object) = try JSONParser.parse([UInt8](data)) else { throw FixtureError("cannot read \(path)") }
        return object
    }

    /// A copy of the SQLite fixture (the test tree's file is never opened for writing, not even by
    /// SQLite's WAL machinery).
    static func sqliteCopy() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memify-sqlfix-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: folder + "/sqlite/cache.db", toPath: directory + "/cache.db")
        return directory
    }

    static func read(_ database: SQLCacheSource.Database, now: Double, filter: SessionFilter = .all) async throws -> [SessionKey: ObservedSession] {
        let source = try SQLCacheSource(database: database, options: CacheReadOptions(now: now))
        var observed: [SessionKey: ObservedSession] = [:]
        for try await read in source.sessions(filter: filter) {
            #expect(observed[read.key] == nil, "\(read.key) returned twice")
            observed[read.key] = ObservedSession(read)
        }
        return observed
    }

    /// What a run must persist and quarantine: the entries cognee returns, plus the good rows of
    /// sessions cognee cannot read, and one quarantined element per row cognee rejects.
    static func counts(_ expected: JSONObject) -> (entries: Int, rejected: Int) {
        var entries = 0, rejected = 0
        if case .array(let sessions)? = expected["sessions"] {
            for case .object(let s) in sessions {
                if case .object(let r)? = s["get_session"], case .array(let list)? = r["entries"] { entries += list.count }
            }
        }
        if case .array(let corrupt)? = expected["corrupt_sessions"] {
            for case .object(let c) in corrupt {
                guard case .array(let elements)? = c["elements"] else { continue }
                for case .object(let e) in elements {
                    guard case .object(let verdict)? = e["cognee"] else { continue }
                    if verdict["ok"] == .bool(true) { entries += 1 } else { rejected += 1 }
                }
            }
        }
        return (entries, rejected)
    }

    @Test("SQLite cache.db: every session, entry and corrupt row agrees with cognee")
    func sqlite() async throws {
        let expected = try Self.expected("sqlite")
        let now = try CogneeFixture.generatedAt(expected)
        let directory = try Self.sqliteCopy()
        let observed = try await Self.read(.sqlite(path: directory), now: now)
        #expect(observed.count >= 60)
        let problems = FixtureComparison.differences(observed: observed, expected: expected)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test("sessions show and dump on the SQLite cache print what cognee's get_session returns")
    func cli() throws {
        let expected = try Self.expected("sqlite")
        let nowText = String(try CogneeFixture.generatedAt(expected))
        let cache = "sqlite:" + (try Self.sqliteCopy())
        let dump = try WorkerProcess.run(["sessions", "dump", "--cache", cache, "--now", nowText])
        #expect(dump.status == 3, "corrupt rows make the dump partial: \(dump.stderr)")
        let observed = try ObservedSession.parse(dump: dump.stdout)
        let problems = FixtureComparison.differences(observed: observed, expected: expected)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        let cases = FixtureComparison.formattedCases(expected)
        #expect(cases.count >= 40)
        for (key, formatted, last3) in cases {
            let show = try WorkerProcess.run(["sessions", "show", key.sessionID, "--user", key.userID, "--include-context",
                                              "--cache", cache, "--now", nowText])
            #expect(show.stdoutText == formatted, "\(key): show differs from get_session_formatted (status \(show.status): \(show.stderr))")
            let json = try WorkerProcess.run(["sessions", "show", key.sessionID, "--user", key.userID, "--last-n", "3",
                                              "--format", "json", "--cache", cache, "--now", nowText])
            #expect(try JSONParser.parse(json.stdout) == .array(last3), "\(key): --last-n 3 differs")
        }
    }

    @Test("run on the SQLite fixture persists every readable row once and quarantines each bad one with its seq")
    func run() throws {
        let expected = try Self.expected("sqlite")
        let nowText = String(try CogneeFixture.generatedAt(expected))
        let directory = try Self.sqliteCopy()
        let arguments = ["run", "--cache", "sqlite:" + directory, "--graph", "sqlite:" + directory + "/graph.db",
                         "--state", directory + "/state.db", "--json", "--no-progress", "--now", nowText]
        let first = try WorkerProcess.run(arguments)
        #expect(first.status == 3, "\(first.stderr)")
        let (entries, rejected) = Self.counts(expected)
        let summary = try #require(first.stdoutText.split(separator: "\n").last)
        #expect(summary.contains("\"turns_seen\":\(entries),"), "\(summary)")
        #expect(summary.contains("\"turns_persisted\":\(entries),"), "\(summary)")
        #expect(summary.contains("\"turns_quarantined\":\(rejected),"), "\(summary)")
        let quarantine = try WorkerProcess.run(["quarantine", "list", "--state", directory + "/state.db", "--json"])
        #expect(quarantine.stdoutText.contains("row seq "), "\(quarantine.stdoutText.prefix(500))")
        let again = try WorkerProcess.run(arguments)
        #expect(again.stdoutText.contains("\"turns_persisted\":0,"), "\(again.stdoutText)")
    }

    @Test("PostgreSQL (JSONB): every session, entry and corrupt row agrees with cognee",
          .enabled(if: TestEnvironment.postgresURL != nil, "set MEMIFY_TEST_POSTGRES_URL (scripts/test starts PostgreSQL)"))
    func postgres() async throws {
        let expected = try Self.expected("postgres")
        let now = try CogneeFixture.generatedAt(expected)
        let url = try await PostgresTestDatabase.create(prefix: "memify_sqlfix")
        try CogneeFixture.run("/usr/bin/env", ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url,
                                               "-f", Self.folder + "/postgres/cache_qa_entries.sql"])
        let observed = try await Self.read(.postgres(conninfo: url), now: now)
        #expect(observed.count >= 50)
        let problems = FixtureComparison.differences(observed: observed, expected: expected)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        guard case .object(let users)? = expected["users"], case .string(let alice)? = users["alice"] else { throw FixtureError("no users.alice") }
        let mine = try await Self.read(.postgres(conninfo: url), now: now, filter: SessionFilter(userIDs: [alice]))
        #expect(!mine.isEmpty && mine.keys.allSatisfy { $0.userID == alice })
    }
}
