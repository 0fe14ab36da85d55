import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import Foundation
import TestSupport
import Testing

/// cognee 1.6.5's real filesystem cache, read by our reader and by the CLI, compared with what
/// cognee itself read back (`expected/fs.json`). The clock is fixed to the fixture's
/// `generated_at`, so expiry is judged as cognee judged it.
@Suite("Filesystem cache fixture (cognee 1.6.5)", .serialized)
struct FileCacheFixtureTests {
    let expected: JSONObject
    let now: Double
    let root: String

    init() throws {
        expected = try CogneeFixture.expected(.fs)
        now = try CogneeFixture.generatedAt(expected)
        root = try CogneeFixture.unpackFileCache()
    }

    func readAll(includeExpired: Bool = false, filter: SessionFilter = .all) async throws -> [SessionKey: ObservedSession] {
        let source = try FileCacheSource(path: root, options: CacheReadOptions(includeExpired: includeExpired, now: now))
        var observed: [SessionKey: ObservedSession] = [:]
        for try await read in source.sessions(filter: filter) {
            #expect(observed[read.key] == nil, "\(read.key) returned twice")
            observed[read.key] = ObservedSession(read)
        }
        return observed
    }

    @Test("every session, entry and corrupt element agrees with cognee")
    func library() async throws {
        let observed = try await readAll()
        #expect(observed.count >= 40)
        let problems = FixtureComparison.differences(observed: observed, expected: expected)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test("the path may be the data root, .cognee_fs_cache, sessions_db or cache.db")
    func locations() throws {
        let dir = root + "/.cognee_fs_cache/sessions_db"
        for path in [root, root + "/.cognee_fs_cache", dir, dir + "/cache.db", dir + "/"] {
            #expect(try FileCacheSource(path: path).directories == [dir], "\(path)")
        }
        let error = #expect(throws: WorkerError.self) { try FileCacheSource(path: root + "/.cognee_fs_cache/sessions_db/08") }
        #expect(error?.code == .usage)
        #expect(error?.message.contains("no cognee session cache") == true)
    }

    @Test("per-tenant caches under the data root are read too")
    func tenants() async throws {
        let tenant = root + "/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee/.cognee_fs_cache/sessions_db"
        let writer = try FileCacheWriter(directory: tenant, ttlSeconds: nil)
        let key = SessionKey(userID: "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", sessionID: "tenant-session")
        try writer.write(entries: [(key, SyntheticCorpus(sessions: 1, turnsPerSession: 2).entries(session: 0))])
        let source = try FileCacheSource(path: root, options: CacheReadOptions(now: now))
        #expect(source.directories.count == 2)
        var found: SessionRead?
        for try await read in source.sessions(filter: SessionFilter(userIDs: [key.userID])) { found = read }
        #expect(found?.key == key)
        #expect(found?.elements.count == 2)
        #expect(found?.location == tenant)
    }

    @Test("expired rows are skipped as cognee skips them; --include-expired rescues them")
    func expiry() async throws {
        let expiredKey = SessionKey(userID: "0790003e-bc6e-4b83-bf57-1ebee0eb2d43", sessionID: "planted__expired_ttl")
        #expect(try await readAll()[expiredKey] == nil)
        let rescued = try await readAll(includeExpired: true)
        #expect(rescued[expiredKey]?.entries.count == 1)
        #expect(rescued[expiredKey]?.errorIndexes.isEmpty == true)
    }

    @Test("filters by user and by exact session, including ids with glob characters")
    func filters() async throws {
        let alice = "56c5d0a9-c55e-5e10-9fc1-fe626bbe13b8"
        let byUser = try await readAll(filter: SessionFilter(userIDs: [alice]))
        #expect(!byUser.isEmpty)
        #expect(byUser.keys.allSatisfy { $0.userID == alice })
        let glob = SessionKey(userID: alice, sessionID: "glob*?[chars]\\and/slash%")
        let exact = try await readAll(filter: SessionFilter(userIDs: [alice], sessionIDs: [glob.sessionID]))
        #expect(Array(exact.keys) == [glob])
        #expect(exact[glob]?.entries.count == 3)
        let bySession = try await readAll(filter: SessionFilter(sessionIDs: ["default_session"]))
        #expect(bySession.count == 2)
    }

    /// SQLite's read-only connections may create the `-shm` index and an empty `-wal` beside a
    /// WAL database (cognee's own process does too); nothing else may appear or change.
    @Test("reading never writes: cache.db, the .val files and the folder are unchanged")
    func readOnly() async throws {
        let dir = root + "/.cognee_fs_cache/sessions_db"
        func snapshot() throws -> [String: Data] {
            var out: [String: Data] = [:]
            for name in try FileManager.default.subpathsOfDirectory(atPath: dir) where !name.hasSuffix("-shm") {
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: dir + "/" + name, isDirectory: &isDir), !isDir.boolValue {
                    let data = FileManager.default.contents(atPath: dir + "/" + name)
                    if name.hasSuffix("-wal"), data?.isEmpty == true { continue }
                    out[name] = data
                }
            }
            return out
        }
        let before = try snapshot()
        _ = try await readAll()
        _ = try await readAll(includeExpired: true)
        #expect(try snapshot() == before)
    }

    @Test("sessions dump, show and list from the command line agree with cognee")
    func cli() throws {
        let nowText = String(now)
        let dump = try WorkerProcess.run(["sessions", "dump", "--cache", "fs:" + root, "--now", nowText])
        #expect(dump.status == 3, "corrupt sessions make the dump partial: \(dump.stderr)")
        let observed = try ObservedSession.parse(dump: dump.stdout)
        let problems = FixtureComparison.differences(observed: observed, expected: expected)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")

        for (key, formatted, last3) in FixtureComparison.formattedCases(expected) {
            let show = try WorkerProcess.run(["sessions", "show", key.sessionID, "--user", key.userID, "--include-context",
                                              "--cache", "fs:" + root, "--now", nowText])
            #expect(show.status == 0, "\(key): \(show.stderr)")
            #expect(show.stdoutText == formatted, "\(key): show differs from get_session_formatted (status \(show.status): \(show.stderr))")
            let json = try WorkerProcess.run(["sessions", "show", key.sessionID, "--user", key.userID, "--last-n", "3",
                                              "--format", "json", "--cache", "fs:" + root, "--now", nowText])
            #expect(try JSONParser.parse(json.stdout) == .array(last3), "\(key): --last-n 3 differs (status \(json.status): \(json.stderr))")
        }

        let list = try WorkerProcess.run(["sessions", "list", "--cache", "fs:" + root, "--now", nowText])
        #expect(list.status == 3)
        #expect(list.stdoutText.split(separator: "\n").count == observed.count)
        #expect(list.stdoutText.contains("56c5d0a9-c55e-5e10-9fc1-fe626bbe13b8\tglob*?[chars]\\and/slash%\t3\t0\n"))
    }
}
