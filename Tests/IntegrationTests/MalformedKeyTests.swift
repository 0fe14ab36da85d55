import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import TestSupport
import Testing

/// Keys that look like cognee's session keys but name no session are reported, not passed over
/// without a word: listed by `sessions list --all`, counted in a run's summary.
@Suite("malformed session keys", .enabled(if: TestEnvironment.redisURL != nil, "set MEMIFY_TEST_REDIS_URL (scripts/test starts Redis)"))
struct MalformedKeyTests {
    static let database = 14

    @Test("agent_sessions:x, agent_sessions::, agent_sessions:<user>: are listed with why and counted; the good session persists")
    func reported() async throws {
        let base = try RedisURL(parsing: try #require(TestEnvironment.redisURL))
        let url = RedisURL(host: base.host, port: base.port, database: Self.database, username: base.username, password: base.password)
        let good = SessionKey(userID: "u-malformed", sessionID: "fine")
        try await BlockingExecutor(label: "test").run {
            let connection = try RedisConnection(url: url)
            _ = try connection.command(["FLUSHDB"])
            let entry = SyntheticCorpus(seed: 9, users: 1, sessions: 1, turnsPerSession: 1).entries(session: 0)[0].cogneeJSON
            for key in ["agent_sessions:x", "agent_sessions::", "agent_sessions:u-malformed:"] {
                _ = try connection.command([Array("RPUSH".utf8), Array(key.utf8), entry])
            }
            try RedisCacheWriter(connection: connection, ttlSeconds: nil).append([(good, [entry])])
        }
        let cache = "redis://\(url.host):\(url.port)/\(Self.database)"
        let list = try WorkerProcess.run(["sessions", "list", "--cache", cache, "--all"])
        #expect(list.status == 0, "\(list.stderr)")
        let lines = list.stdoutText.split(separator: "\n").map(String.init)
        #expect(lines.contains("u-malformed\tfine\t1\t0"), "\(lines)")
        #expect(lines.contains("malformed\tagent_sessions:x\tno ':' between a user id and a session id"), "\(lines)")
        #expect(lines.contains("malformed\tagent_sessions::\tempty user id"), "\(lines)")
        #expect(lines.contains("malformed\tagent_sessions:u-malformed:\tempty session id"), "\(lines)")
        #expect(list.stderr.contains("3 keys look like cognee session keys but name no session"))

        let plain = try WorkerProcess.run(["sessions", "list", "--cache", cache])
        #expect(!plain.stdoutText.split(separator: "\n").contains { $0.hasPrefix("malformed\t") } && plain.stderr.contains("`sessions list --all` lists them"))

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memify-malformed-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let run = try WorkerProcess.run(["run", "--cache", cache, "--graph", "sqlite:\(directory)/g.db", "--state", "\(directory)/s.db",
                                         "--json", "--no-progress"])
        #expect(run.status == 0, "\(run.stderr)")
        let summary = run.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        #expect(summary.contains("\"keys_malformed\":3") && summary.contains("\"turns_persisted\":1"), "\(summary)")
        #expect(run.stderr.contains("name no session"), "\(run.stderr)")
    }
}
