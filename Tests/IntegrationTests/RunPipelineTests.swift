import Foundation
import Synchronization
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import TestSupport
import Testing

/// `memify-worker run` end to end, as cron runs it: the built binary, a real Redis (database 6,
/// one user id per test so tests never see each other's sessions), a real PostgreSQL (one schema
/// per graph), and a state database in a temporary folder.
@Suite("persist-sessions runs (Redis → PostgreSQL)",
       .enabled(if: TestEnvironment.redisURL != nil && TestEnvironment.postgresURL != nil,
                "set MEMIFY_TEST_REDIS_URL and MEMIFY_TEST_POSTGRES_URL (scripts/test starts both)"))
struct RunPipelineTests {
    // MARK: helpers

    struct Harness {
        let user = "run-user-\(UUID().uuidString.prefix(8))"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memify-run-\(UUID().uuidString)").path
        let redis: RedisURL
        let postgres: String
        let executor = BlockingExecutor(label: "test.redis")

        init() throws {
            let base = try RedisURL(parsing: try #require(TestEnvironment.redisURL))
            redis = RedisURL(host: base.host, port: base.port, database: 6, username: base.username, password: base.password)
            postgres = try #require(TestEnvironment.postgresURL)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }

        var cacheURL: String { "redis://\(redis.host):\(redis.port)/6" }
        func schema(_ name: String) -> String { "t_" + user.replacingOccurrences(of: "-", with: "_").lowercased() + "_" + name }
        func state(_ name: String) -> String { directory + "/\(name).db" }

        func key(_ session: String) -> SessionKey { SessionKey(userID: user, sessionID: session) }

        func redisCommand(_ args: [[UInt8]]) async throws -> RedisReply {
            let url = redis
            return try await executor.run { try RedisConnection(url: url).command(args) }
        }

        /// Replaces a session's whole list.
        func put(_ session: String, _ elements: [[UInt8]]) async throws {
            let key = self.key(session)
            let url = redis
            try await executor.run {
                let connection = try RedisConnection(url: url)
                _ = try connection.command([Array("DEL".utf8), Array(key.cacheKey.utf8)])
                try RedisCacheWriter(connection: connection, ttlSeconds: nil).append([(key, elements)])
            }
        }

        /// Writes `sessions` sessions named prefix0, prefix1, … of `turns` turns each, in one pipeline.
        func fill(prefix: String, sessions: Int, turns: Int) async throws {
            let url = redis
            let user = self.user
            try await executor.run {
                let writer = RedisCacheWriter(connection: try RedisConnection(url: url), ttlSeconds: nil)
                try writer.append((0..<sessions).map { s in
                    (SessionKey(userID: user, sessionID: "\(prefix)\(s)"),
                     (0..<turns).map { RunPipelineTests.entry($0, session: "\(prefix)\(s)").cogneeJSON })
                })
            }
        }

        func put(_ session: String, entries: [SessionQAEntry]) async throws {
            try await put(session, entries.map(\.cogneeJSON))
        }

        func run(_ graphSchema: String, state: String, _ extra: [String] = []) throws -> WorkerProcess.Outcome {
            try WorkerProcess.run(["run", "--cache", cacheURL, "--graph", postgres, "--schema", graphSchema, "--state", self.state(state),
                                   "--user", user, "--json", "--no-progress"] + extra)
        }

        func graph(_ graphSchema: String) async throws -> GraphRows {
            let writer = try await PostgresGraphWriter.connect(conninfo: postgres, placement: .shared(schema: graphSchema))
            return GraphRows(try await writer.snapshot())
        }
    }

    /// A graph compared by what it says: ids, names, types, properties and ownership; run ids and
    /// timestamps aside (a node shared by many turns, such as the NodeSet, carries the time of
    /// whichever turn wrote it last, as in cognee).
    struct GraphRows: Equatable, CustomStringConvertible {
        var nodes: [String]
        var edges: [String]
        var texts: [String]
        init(_ s: GraphSnapshot) {
            texts = s.nodes.compactMap {
                guard $0.node.type == "DocumentChunk", case .string(let text)? = $0.node.properties["text"] else { return nil }
                return text
            }
            nodes = s.nodes.map {
                "\($0.node.id)|\($0.node.type)|\($0.node.name)|\(Self.timeless($0.node.properties))|\($0.sourceRefKeys)|\($0.sourceDatasetIDs)"
            }
            edges = s.edges.map {
                "\($0.edge.sourceID)|\($0.edge.relationshipName)|\($0.edge.targetID)|\(Self.timeless($0.edge.properties))|\($0.sourceRefKeys)"
            }
        }
        static func timeless(_ properties: JSONObject) -> String {
            var p = properties
            p["created_at"] = nil
            p["updated_at"] = nil
            return JSONWriter.string(.object(p), style: .compact)
        }
        var description: String { "\(nodes.count) nodes, \(edges.count) edges" }
        func chunkTexts() -> [String] { texts }
        /// The rows of one that the other lacks, for failure messages.
        func difference(_ other: GraphRows) -> String {
            let n = Set(nodes).symmetricDifference(other.nodes), e = Set(edges).symmetricDifference(other.edges)
            return "nodes: \(n.map { String($0.prefix(4000)) }.sorted())\nedges: \(e.map { String($0.prefix(300)) }.sorted())"
        }
    }

    static func summary(_ outcome: WorkerProcess.Outcome) throws -> [String: Int] {
        let line = try #require(outcome.stdoutText.split(separator: "\n").last, "no summary line; stderr: \(outcome.stderr)")
        guard case .object(let object) = try JSONParser.parse(Array(line.utf8)) else { throw FixtureError("summary is not an object") }
        var out: [String: Int] = [:]
        for (key, value) in object.pairs { if case .number(let n) = value, let i = Int(n.literal) { out[key] = i } }
        return out
    }

    static func entry(_ i: Int, session: String, answer: String? = nil, feedback: String? = nil) -> SessionQAEntry {
        SessionQAEntry(time: SyntheticCorpus.isoTime(1_795_000_000 + Double(i) * 60), question: "Question \(i) about \(session)?",
                       context: "ctx", answer: answer ?? "Answer \(i): Alice moved to Paris in \(2000 + i).",
                       qaID: "qa-\(session)-\(i)", feedbackText: feedback)
    }

    // MARK: tests

    @Test("new turns persist; an unchanged cache costs no extractor call and no row; edits, feedback and deletions show up; a vanished session retracts nothing",
          .timeLimit(.minutes(10)))
    func incremental() async throws {
        let h = try Harness()
        let g = h.schema("g")
        for s in 0..<4 { try await h.put("s\(s)", entries: (0..<4).map { Self.entry($0, session: "s\(s)") }) }

        let first = try h.run(g, state: "a")
        #expect(first.status == 0, "\(first.stderr)")
        let s1 = try Self.summary(first)
        #expect(s1["turns_new"] == 16 && s1["turns_persisted"] == 16 && s1["extractor_calls"] == 16)
        #expect((s1["rows_written"] ?? 0) > 16 * 5)
        let afterFirst = try await h.graph(g)
        #expect(afterFirst.chunkTexts().count == 16)

        let second = try h.run(g, state: "a")
        #expect(second.status == 0)
        let s2 = try Self.summary(second)
        #expect(s2["turns_unchanged"] == 16 && s2["extractor_calls"] == 0 && s2["rows_written"] == 0 && s2["turns_persisted"] == 0)
        #expect(try await h.graph(g) == afterFirst)
        #expect(s1["sessions_unchanged"] == 0 && s2["sessions_unchanged"] == 4, "the second run skips every session by its fingerprint")

        // Edit an answer (s0 turn 1), change feedback (s0 turn 2), delete s0 turn 3, add s0 turn 4.
        var s0 = (0..<4).map { Self.entry($0, session: "s0") }
        s0[1] = Self.entry(1, session: "s0", answer: "Answer 1 edited: Bob lives in Berlin.")
        s0[2] = Self.entry(2, session: "s0", feedback: "helpful")
        s0.remove(at: 3)
        s0.append(Self.entry(4, session: "s0"))
        try await h.put("s0", entries: s0)
        let third = try h.run(g, state: "a")
        #expect(third.status == 0, "\(third.stderr)")
        let s3 = try Self.summary(third)
        #expect(s3["turns_changed"] == 2 && s3["turns_new"] == 1 && s3["turns_deleted"] == 1 && s3["extractor_calls"] == 3)
        #expect(s3["sessions_unchanged"] == 3, "only the edited session is decoded: \(s3)")
        let edited = try await h.graph(g)
        let texts = edited.chunkTexts()
        #expect(texts.count == 16)
        #expect(texts.contains { $0.contains("Answer 1 edited: Bob lives in Berlin.") })
        #expect(!texts.contains { $0.contains("Answer 1: Alice moved to Paris in 2001.") && $0.contains("Session ID: s0\n") })
        #expect(!texts.contains { $0.contains("Question 3 about s0?") })
        #expect(texts.contains { $0.contains("Question 4 about s0?") })
        #expect(edited.nodes.contains { $0.contains("|DocumentChunk|") && $0.contains("feedback_text") && $0.contains("helpful") })
        #expect(edited.nodes.filter { $0.contains("|TextDocument|") }.count == 16)
        #expect(edited.nodes.filter { $0.contains("|NodeSet|") }.count == 1)

        // s1 vanishes (expiry, flush): nothing is retracted.
        _ = try await h.redisCommand([Array("DEL".utf8), Array(h.key("s1").cacheKey.utf8)])
        let fourth = try h.run(g, state: "a")
        #expect(fourth.status == 0)
        let s4 = try Self.summary(fourth)
        #expect(s4["turns_deleted"] == 0 && s4["rows_written"] == 0 && s4["sessions_seen"] == 3, "\(s4)")
        let afterVanish = try await h.graph(g)
        #expect(afterVanish == edited, "\(afterVanish.difference(edited))")

        // Losing the state database: the next run reconciles with the graph's turn registry,
        // which already holds every turn: nothing is extracted or written, and the graph is unchanged.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: h.state("a") + suffix) }
        let rebuilt = try h.run(g, state: "a")
        #expect(rebuilt.status == 0)
        let s5 = try Self.summary(rebuilt)
        #expect(s5["turns_new"] == 0 && s5["turns_unchanged"] == 12 && s5["extractor_calls"] == 0 && s5["rows_written"] == 0, "\(s5)")
        #expect(rebuilt.stdoutText.contains(#""reconciled":true"#))
        let afterRebuild = try await h.graph(g)
        #expect(afterRebuild == edited, "\(afterRebuild.difference(edited))")
    }

    @Test("20 runs killed with SIGKILL at random moments, then one clean run, give the graph of one uninterrupted run; SIGTERM exits 130",
          .timeLimit(.minutes(10)))
    func crashSafety() async throws {
        let h = try Harness()
        let sessions = 120
        try await h.fill(prefix: "c", sessions: sessions, turns: 6)
        let reference = h.schema("ref"), crashed = h.schema("crash")
        let clean = try h.run(reference, state: "ref")
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(try Self.summary(clean)["turns_persisted"] == sessions * 6)

        // SIGTERM: stop after the batch in flight, exit 130, checkpoints consistent.
        let terminated = try Self.launch(h, crashed, state: "crash", extra: ["--concurrency", "1"])
        usleep(useconds_t(400_000))
        kill(terminated.processIdentifier, SIGTERM)
        terminated.waitUntilExit()
        #expect([130, 0].contains(terminated.terminationStatus), "SIGTERM gave \(terminated.terminationStatus)")

        var generator = SystemRandomNumberGenerator()
        var killedMidRun = 0
        for _ in 0..<20 {
            let process = try Self.launch(h, crashed, state: "crash")
            usleep(useconds_t.random(in: 20_000...900_000, using: &generator))
            if process.isRunning { killedMidRun += 1 }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let last = try h.run(crashed, state: "crash")
        #expect(last.status == 0, "\(last.stderr)")
        let expected = try await h.graph(reference)
        let got = try await h.graph(crashed)
        #expect(got.nodes.count == expected.nodes.count && got.edges.count == expected.edges.count)
        #expect(got == expected)
        #expect(killedMidRun > 0, "no kill landed while a run was going")
        // And the checkpoints say every turn is done exactly once.
        let again = try Self.summary(try h.run(crashed, state: "crash"))
        #expect(again["turns_unchanged"] == sessions * 6 && again["rows_written"] == 0)
        // The runs the kills cut short are recorded as aborted, not left "running".
        let runs = try SQLiteDatabase(path: h.state("crash"), mode: .readOnly).withStatement(
            "SELECT status, count(*) FROM runs GROUP BY status", operation: "count runs") { stmt throws(DatabaseError) -> [String: Int] in
            var out: [String: Int] = [:]
            while try stmt.step() { out[stmt.text(0) ?? ""] = Int(stmt.text(1) ?? "") ?? 0 }
            return out
        }
        #expect(runs["running"] == nil && (runs["aborted"] ?? 0) > 0, "\(runs)")
    }

    @Test("PostgreSQL drops the run's connections mid-run (as a restart does): exit 69 naming PostgreSQL; the next run completes; nothing lost",
          .timeLimit(.minutes(10)))
    func postgresGoesAway() async throws {
        let h = try Harness()
        let sessions = 300
        try await h.fill(prefix: "p", sessions: sessions, turns: 6)
        let reference = h.schema("pref"), victim = h.schema("pvictim")
        #expect(try h.run(reference, state: "pref").status == 0)

        // The victim run's graph connections carry this application_name, and its run lock's connection
        // holds the lock; terminating them all is what a server restart does to its clients (SQLSTATE 57P01).
        let tag = "memify-victim-\(UUID().uuidString.prefix(8))"
        let separator = h.postgres.contains("?") ? "&" : "?"
        let victimURL = h.postgres + separator + "application_name=" + tag
        let process = Process()
        process.executableURL = URL(fileURLWithPath: WorkerProcess.executable)
        process.arguments = ["run", "--cache", h.cacheURL, "--graph", victimURL, "--schema", victim, "--state", h.state("pvictim"),
                             "--user", h.user, "--no-progress", "--concurrency", "1"]
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        // Wait until the first batches are committed (or the run has been connected for a
        // while), then drop the run's connections. One polling connection, so polls are cheap.
        let tagged = tag, table = "\(victim).graph_node", admin = h.postgres, pid = process.processIdentifier
        let key = PostgresRunLock.key(scope: "\(victim):\(RunOptions.defaultDatasetID)")
        let high = UInt32(truncatingIfNeeded: UInt64(bitPattern: key) >> 32), low = UInt32(truncatingIfNeeded: UInt64(bitPattern: key))
        let terminated = try await BlockingExecutor(label: "test.terminate").run { () throws -> Int in
            let connection = try PostgresConnection(conninfo: admin)
            var connectedPolls = 0
            for _ in 0..<4000 where pid > 0 && kill(pid, 0) == 0 {
                usleep(2_000)
                let connected = try connection.query("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", [tagged],
                                                     operation: "poll").first?.first ?? "0"
                guard connected != "0" else { continue }
                connectedPolls += 1
                let rows = (try? connection.query("SELECT count(*) FROM \(table)", operation: "poll").first?.first ?? "0") ?? "0"
                guard rows != "0" || connectedPolls > 100 else { continue }
                // The run lock's connection names its run instead: it is found by the lock it holds.
                let killed = try connection.query("""
                    SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1
                      OR pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $2::bigint::oid
                                   AND objid = $3::bigint::oid AND objsubid = 1)) t
                    """, [tagged, String(high), String(low)], operation: "terminate")
                return Int(killed.first?.first.flatMap { $0 } ?? "0") ?? 0
            }
            return 0
        }
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(terminated > 0, "the run ended before its connections could be dropped")
        #expect(process.terminationStatus == 69, "\(stderr)")
        #expect(stderr.contains("postgresql://") && stderr.contains(tag), "the error names PostgreSQL and where: \(stderr)")
        #expect(stderr.contains("the next run resumes"), "the error says what to do: \(stderr)")
        let next = try h.run(victim, state: "pvictim")
        #expect(next.status == 0, "\(next.stderr)")
        let expected = try await h.graph(reference)
        let got = try await h.graph(victim)
        #expect(got == expected, "\(got.difference(expected))")
    }

    @Test("PostgreSQL drops the graph writer's connection mid-run (the locks' connection lives): the run says so, reconnects for its next read and completes with a clean run's graph",
          .timeLimit(.minutes(10)))
    func postgresWriterDropped() async throws {
        let h = try Harness()
        try await h.fill(prefix: "d", sessions: 300, turns: 6)
        let reference = h.schema("dref"), victim = h.schema("dvictim")
        #expect(try h.run(reference, state: "dref").status == 0)
        let tag = "memify-dropped-\(UUID().uuidString.prefix(8))"
        let separator = h.postgres.contains("?") ? "&" : "?"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: WorkerProcess.executable)
        process.arguments = ["run", "--cache", h.cacheURL, "--graph", h.postgres + separator + "application_name=" + tag, "--schema", victim,
                             "--state", h.state("dvictim"), "--user", h.user, "--no-progress", "--concurrency", "1"]
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        // Once batches are committed, the backend that holds no advisory lock (the writer's, not
        // the run lock's), while it is idle, the run stopped (SIGSTOP) so that it stays so: its
        // next use is a read of the graph or a commit's BEGIN, both tried again.
        let tagged = tag, table = "\(victim).graph_node", admin = h.postgres, pid = process.processIdentifier
        let terminated = try await BlockingExecutor(label: "test.drop").run { () throws -> Int in
            let connection = try PostgresConnection(conninfo: admin)
            for _ in 0..<20_000 where kill(pid, 0) == 0 {
                usleep(2_000)
                let rows = (try? connection.query("SELECT count(*) FROM \(table)", operation: "poll").first?.first ?? "0") ?? "0"
                guard rows != "0" else { continue }
                kill(pid, SIGSTOP)
                defer { kill(pid, SIGCONT) }
                usleep(50_000)
                let killed = try connection.query("""
                    SELECT count(*) FROM (SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a
                      WHERE a.application_name = $1 AND a.state = 'idle'
                        AND NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory')) t
                    """, [tagged], operation: "terminate")
                let n = Int(killed.first?.first.flatMap { $0 } ?? "0") ?? 0
                if n > 0 { return n }
            }
            return 0
        }
        let stderr = try await Self.readToEnd(errors)
        process.waitUntilExit()
        try #require(terminated > 0, "the run ended before its writer's connection could be dropped")
        #expect(process.terminationStatus == 0, "\(stderr)")
        #expect(stderr.contains("lost the connection to the graph; reconnecting once"), "never silently: \(stderr)")
        let got = try await h.graph(victim), expected = try await h.graph(reference)
        #expect(got == expected, "\(got.difference(expected))")
    }

    @Test("Redis drops the run's connections mid-run, and again after the run reconnects: exit 69 naming Redis and where, the run recorded failed, the next run completes; nothing lost",
          .timeLimit(.minutes(10)))
    func redisGoesAway() async throws {
        let h = try Harness()
        try await h.fill(prefix: "r", sessions: 5000, turns: 2)
        let reference = h.schema("rref"), victim = h.schema("rvictim")
        #expect(try h.run(reference, state: "rref").status == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: WorkerProcess.executable)
        process.arguments = ["run", "--cache", h.cacheURL, "--graph", h.postgres, "--schema", victim, "--state", h.state("rvictim"),
                             "--user", h.user, "--no-progress", "--concurrency", "1", "--json"]
        let errors = Pipe(), output = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // While the run reads, Redis drops its connections (CLIENT KILL, as a failover or a
        // restart does); only the run's: other tests share the server. The run reads far ahead
        // of what it writes, so the kill comes as soon as its connections show; the run
        // reconnects once, and its new connections are dropped too.
        let pid = process.processIdentifier, redis = h.redis
        try await Self.dropRedisConnections(of: pid, redis: redis, times: 2, process: process, errors: errors, output: output,
                                            h: h, victim: victim, reference: reference)
    }

    @Test("Redis drops the run's connections once mid-run: the run says so, reconnects, reads on and completes with a clean run's graph",
          .timeLimit(.minutes(10)))
    func redisDropsOnce() async throws {
        let h = try Harness()
        try await h.fill(prefix: "o", sessions: 2000, turns: 2)
        let reference = h.schema("oref"), victim = h.schema("ovictim")
        #expect(try h.run(reference, state: "oref").status == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: WorkerProcess.executable)
        process.arguments = ["run", "--cache", h.cacheURL, "--graph", h.postgres, "--schema", victim, "--state", h.state("ovictim"),
                             "--user", h.user, "--no-progress", "--concurrency", "1", "--json"]
        let errors = Pipe(), output = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        try await Self.dropRedisConnections(of: process.processIdentifier, redis: h.redis, times: 1, process: process, errors: errors,
                                            output: output, h: h, victim: victim, reference: reference)
    }

    /// A pipe's text to its end, read off the cooperative pool (a run takes a while; the pool's
    /// threads are few and other tests' readers need them).
    static func readToEnd(_ pipe: Pipe) async throws -> String {
        let handle = pipe.fileHandleForReading
        return try await BlockingExecutor(label: "test.pipe").run { String(decoding: handle.readDataToEndOfFile(), as: UTF8.self) }
    }

    /// Drops the worker's Redis connections `times` times (each time new ones show), then checks
    /// the outcome: one drop is survived (a warning, exit 0), a second fails the run (exit 69).
    static func dropRedisConnections(of pid: Int32, redis: RedisURL, times: Int, process: Process, errors: Pipe, output: Pipe,
                                     h: Harness, victim: String, reference: String) async throws {
        let diagnostics = Mutex<String>("")
        let killed = try await BlockingExecutor(label: "test.kill").run { () throws -> Bool in
            var rounds = 0
            var dropped: Set<String> = []
            let connection = try RedisConnection(url: redis)
            let deadline = Date().addingTimeInterval(150)
            while kill(pid, 0) == 0, Date() < deadline {
                usleep(1_000)
                guard let list = try connection.command(["CLIENT", "LIST"]).text else { continue }
                let seen = "Redis clients \(list.split(separator: "\n").compactMap { $0.split(separator: " ").first { $0.hasPrefix("name=") } })"
                diagnostics.withLock { $0 = seen }
                var victims = 0
                for line in list.split(separator: "\n") {
                    let fields = Dictionary(line.split(separator: " ").compactMap { field -> (String, String)? in
                        let kv = field.split(separator: "=", maxSplits: 1)
                        return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
                    }, uniquingKeysWith: { a, _ in a })
                    // The worker names its connections memify-worker-<pid>.
                    guard fields["name"] == "memify-worker-\(pid)", let id = fields["id"], !dropped.contains(id) else { continue }
                    _ = try connection.command(["CLIENT", "KILL", "ID", id])
                    dropped.insert(id)
                    victims += 1
                }
                if victims > 0 {
                    rounds += 1
                    if rounds == times { return true }
                    // The rest of this round's connections (they may show in a later listing) and
                    // the run's reconnection: the next round then drops the connections it reads on.
                    usleep(300_000)
                }
            }
            return rounds == times
        }
        let stdout = try await Self.readToEnd(output), stderr = try await Self.readToEnd(errors)
        process.waitUntilExit()
        try #require(killed, "the run ended (status \(process.terminationStatus)) before Redis could drop it \(times) times; last poll: \(diagnostics.withLock { $0 })")
        #expect(stderr.contains("lost the connection to the Redis cache while reading; reconnecting once"), "never silently: \(stderr)")
        #expect(process.terminationReason == .exit, "killed by a signal (SIGPIPE?)")
        let state = victim == h.schema("rvictim") ? "rvictim" : "ovictim"
        if times == 1 {
            #expect(process.terminationStatus == 0, "\(stderr)")
            let got = try await h.graph(victim), expected = try await h.graph(reference)
            #expect(got == expected, "\(got.difference(expected))")
            return
        }
        #expect(process.terminationStatus == 69, "\(stderr)")
        #expect(stderr.contains("Redis at \(h.redis.host):\(h.redis.port)"), "\(stderr)")
        #expect(stderr.contains("the next run resumes"), "\(stderr)")
        #expect(stdout.split(separator: "\n").last?.contains("\"exit_status\":69") == true, "\(stdout)")
        let status = try WorkerProcess.run(["status", "--state", h.state(state)])
        #expect(status.stdoutText.contains("failed"), "\(status.stdoutText)")
        let next = try h.run(victim, state: state)
        #expect(next.status == 0, "\(next.stderr)")
        let expected = try await h.graph(reference)
        let got = try await h.graph(victim)
        #expect(got == expected, "\(got.difference(expected))")
    }

    @Test("PostgreSQL: a state bound to one schema refuses another, a dropped and recreated one, and another state's graph, with or without turns to write")
    func postgresStateBoundToGraph() async throws {
        let h = try Harness()
        let g = h.schema("bind"), other = h.schema("bind_other")
        try await h.put("s0", entries: (0..<2).map { Self.entry($0, session: "s0") })
        let first = try h.run(g, state: "a")
        #expect(first.status == 0, "\(first.stderr)")
        // Nothing to write: the graph is checked on the run lock's connection, no writer opened.
        let again = try h.run(g, state: "a")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Self.summary(again)["rows_written"] == 0)

        // Another schema with the same state (it is made, then found to be another graph).
        let elsewhere = try h.run(other, state: "a")
        #expect(elsewhere.status == 64 && elsewhere.stderr.contains("its own --state"), "\(elsewhere.stderr)")
        // A current graph that another state persisted into: refused before anything is skipped.
        #expect(try h.run(other, state: "b").status == 0)
        let swapped = try h.run(g, state: "b")
        #expect(swapped.status == 64, "\(swapped.stderr)")

        // The schema dropped and made again: its checkpoints vouch for nothing, even when unchanged.
        let writer = try await PostgresGraphWriter.connect(conninfo: h.postgres, placement: .shared(schema: g))
        try await writer.execute("DROP SCHEMA \"\(g)\" CASCADE")
        let recreated = try h.run(g, state: "a")
        #expect(recreated.status == 64, "\(recreated.stderr)")

        // Turns to write after a run that wrote none: the writer connects when needed.
        try await h.put("s0", entries: (0..<3).map { Self.entry($0, session: "s0") })
        let grown = try h.run(other, state: "b")
        #expect(grown.status == 0, "\(grown.stderr)")
        let s = try Self.summary(grown)
        #expect(s["turns_new"] == 1 && (s["rows_written"] ?? 0) > 0, "\(s)")
        #expect(try await h.graph(other).chunkTexts().count == 3)
    }

    @Test("two and four concurrent workers on disjoint shards, and five on overlapping ones, build exactly one worker's graph",
          .timeLimit(.minutes(10)))
    func shards() async throws {
        let h = try Harness()
        let sessions = 160, turns = 4
        try await h.fill(prefix: "sh", sessions: sessions, turns: turns)
        let reference = h.schema("shref")
        #expect(try h.run(reference, state: "shref").status == 0)
        let expected = try await h.graph(reference)
        #expect(expected.texts.count == sessions * turns)

        // Every session is in exactly one shard of N.
        let keys = (0..<sessions).map { h.key("sh\($0)") }
        for n in [2, 4] {
            let counts = try (1...n).map { k in keys.filter(try Shard(index: k, count: n).contains).count }
            #expect(counts.reduce(0, +) == sessions && counts.allSatisfy { $0 > 0 })
        }

        for (name, shards) in [("two", ["1/2", "2/2"]), ("four", ["1/4", "2/4", "3/4", "4/4"]),
                               ("overlap", ["1/2", "2/2", "1/4", "2/4", "3/4"])] {
            let schema = h.schema(name)
            let workers = try shards.enumerated().map { i, shard in
                try Self.launch(h, schema, state: "\(name)-\(i)", extra: ["--shard", shard])
            }
            for worker in workers { worker.waitUntilExit() }
            #expect(workers.allSatisfy { $0.terminationStatus == 0 }, "\(name): \(workers.map(\.terminationStatus))")
            // Overlapping shards: a session skipped because another worker held it was persisted by that worker;
            // one more pass of every worker finds nothing left to do.
            let got = try await h.graph(schema)
            #expect(got == expected, "\(name): \(got.difference(expected))")
            #expect(got.texts.count == Set(got.texts).count, "\(name): duplicate chunks")
        }
    }

    @Test("shared rows are order-free: shards in either order, and the same cache in another database, give one run's graph, timestamps included",
          .timeLimit(.minutes(10)))
    func orderFreeSharedRows() async throws {
        let h = try Harness()
        // Every turn names Alice and Paris (rows past the provenance cap) at its own time, so the
        // last-written turn differs with the order, and so would a last-writer-wins updated_at.
        let sessions = 60, turns = 3
        @Sendable func entries(_ s: Int) -> [SessionQAEntry] {
            (0..<turns).map { i in
                SessionQAEntry(time: SyntheticCorpus.isoTime(1_795_000_000 + Double(s * turns + i) * 60),
                               question: "Question \(i) about o\(s)?", context: "ctx",
                               answer: "Answer \(i): Alice moved to Paris in \(2000 + s).", qaID: "qa-o\(s)-\(i)")
            }
        }
        for s in 0..<sessions { try await h.put("o\(s)", entries: entries(s)) }
        let one = h.schema("one")
        #expect(try h.run(one, state: "one").status == 0)
        func snapshot(_ schema: String) async throws -> TimedRows {
            let writer = try await PostgresGraphWriter.connect(conninfo: h.postgres, placement: .shared(schema: schema))
            return TimedRows(try await writer.snapshot())
        }
        let expected = try await snapshot(one)
        for (name, shards) in [("ab", ["1/2", "2/2"]), ("ba", ["2/2", "1/2"])] {
            let schema = h.schema(name)
            for shard in shards { #expect(try h.run(schema, state: name, ["--shard", shard]).status == 0) }
            let got = try await snapshot(schema)
            #expect(got == expected, "\(name): \(got.difference(expected))")
        }

        // The same sessions in another Redis database, written in reverse among other keys, so
        // SCAN hands them out in another order.
        let other = RedisURL(host: h.redis.host, port: h.redis.port, database: 7, username: h.redis.username, password: h.redis.password)
        let user = h.user
        try await h.executor.run {
            let connection = try RedisConnection(url: other)
            let writer = RedisCacheWriter(connection: connection, ttlSeconds: nil)
            for s in (0..<sessions).reversed() {
                let key = SessionKey(userID: user, sessionID: "o\(s)")
                _ = try connection.command([Array("DEL".utf8), Array(key.cacheKey.utf8)])
                _ = try connection.command(["SET", "filler:\(user):\(s)", "x"])
                try writer.append(entries: [(key, entries(s))])
            }
        }
        let two = h.schema("two")
        let run = try WorkerProcess.run(["run", "--cache", "redis://\(h.redis.host):\(h.redis.port)/7", "--graph", h.postgres,
                                         "--schema", two, "--state", h.state("two"), "--user", h.user, "--json", "--no-progress",
                                         "--concurrency", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        let got = try await snapshot(two)
        #expect(got == expected, "two databases: \(got.difference(expected))")
    }

    /// A graph compared with its properties' times: ids, names, types, every property and ownership.
    struct TimedRows: Equatable {
        var nodes: Set<String>
        var edges: Set<String>
        init(_ s: GraphSnapshot) {
            nodes = Set(s.nodes.map {
                "\($0.node.id)|\($0.node.type)|\($0.node.name)|\(JSONWriter.string(.object($0.node.properties), style: .compact))|\($0.sourceRefKeys.sorted())"
            })
            edges = Set(s.edges.map {
                "\($0.edge.sourceID)|\($0.edge.relationshipName)|\($0.edge.targetID)|\(JSONWriter.string(.object($0.edge.properties), style: .compact))|\($0.sourceRefKeys.sorted())"
            })
        }
        func difference(_ other: TimedRows) -> String {
            "nodes: \(nodes.symmetricDifference(other.nodes).map { String($0.prefix(600)) }.sorted())\nedges: \(edges.symmetricDifference(other.edges).map { String($0.prefix(400)) }.sorted())"
        }
    }

    static func launch(_ h: Harness, _ schema: String, state: String, extra: [String] = []) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: WorkerProcess.executable)
        process.arguments = ["run", "--cache", h.cacheURL, "--graph", h.postgres, "--schema", schema, "--state", h.state(state),
                             "--user", h.user, "--no-progress"] + extra
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test("a bad element is quarantined with its bytes and reason (exit 3), good turns around it persist, replay after the fix persists it",
          .timeLimit(.minutes(10)))
    func quarantineAndReplay() async throws {
        let h = try Harness()
        let g = h.schema("q")
        let good = (0..<3).map { Self.entry($0, session: "q") }
        let bad = Array(#"{"time": "2026-11-24T10:00:00", "question": "broken"#.utf8)
        try await h.put("q", [good[0].cogneeJSON, bad, good[2].cogneeJSON])
        let first = try h.run(g, state: "q")
        #expect(first.status == 3, "\(first.stderr)")
        let s = try Self.summary(first)
        #expect(s["turns_persisted"] == 2 && s["turns_quarantined"] == 1)

        let list = try WorkerProcess.run(["quarantine", "list", "--state", h.state("q"), "--json"])
        #expect(list.status == 0)
        let lines = list.stdoutText.split(separator: "\n")
        #expect(lines.count == 1)
        guard case .object(let entry) = try JSONParser.parse(Array(lines[0].utf8)) else { Issue.record("not JSON"); return }
        #expect(entry["index"] == .number(JSONNumber(1)))
        #expect(entry["session_id"] == .string("q"))
        if case .string(let reason)? = entry["reason"] { #expect(!reason.isEmpty) } else { Issue.record("no reason") }
        #expect(entry["raw_base64"] == .string(Data(bad).base64EncodedString()))

        // A run over the same cache meets the same element: still one entry, still exit 3.
        #expect(try h.run(g, state: "q").status == 3)
        #expect(try WorkerProcess.run(["quarantine", "list", "--state", h.state("q"), "--json"]).stdoutText
            .split(separator: "\n").count == 1)

        // The application fixes the element; replay persists it and resolves the entry.
        try await h.put("q", good.map(\.cogneeJSON))
        let replay = try WorkerProcess.run(["quarantine", "replay", "--cache", h.cacheURL, "--graph", h.postgres, "--schema", g,
                                            "--state", h.state("q"), "--no-progress"])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stdoutText.contains("1 entries resolved, 0 still open"))
        let texts = try await h.graph(g).chunkTexts()
        #expect(texts.count == 3 && texts.contains { $0.contains("Question 1 about q?") })
        #expect(try WorkerProcess.run(["quarantine", "list", "--state", h.state("q")]).stdoutText.contains("0 open entries"))
    }

    @Test("a second run on the same state, or on the same PostgreSQL scope, exits 75 at once naming the holder")
    func overlappingRuns() async throws {
        let h = try Harness()
        let g = h.schema("l")
        try await h.put("l", entries: [Self.entry(0, session: "l")])
        let lock = try RunLock.acquire(statePath: h.state("l"), runID: "test-holder")
        let blocked = try h.run(g, state: "l")
        #expect(blocked.status == 75)
        #expect(blocked.stderr.contains("another run holds") && blocked.stderr.contains("test-holder"))
        withExtendedLifetime(lock) {}

        // Two real runs on one state: while the first holds the lock, the second exits 75.
        try await h.fill(prefix: "two", sessions: 150, turns: 6)
        let firstRun = try Self.launch(h, g, state: "two")
        let lockFile = h.state("two") + ".lock"
        for _ in 0..<500 where ((try? String(contentsOfFile: lockFile, encoding: .utf8)) ?? "").isEmpty { usleep(5_000) }
        let second = try h.run(g, state: "two")
        let firstStillRunning = firstRun.isRunning
        firstRun.waitUntilExit()
        #expect(firstRun.terminationStatus == 0)
        if firstStillRunning {
            #expect(second.status == 75, "\(second.stderr)")
            #expect(second.stderr.contains("pid \(firstRun.processIdentifier)"))
        }

        let (pgLock, _) = try await PostgresRunLock.acquire(conninfo: h.postgres, scope: "\(g):\(RunOptions.defaultDatasetID)",
                                                            holderName: "test holder")
        let held = try #require(pgLock)
        let blockedPG = try h.run(g, state: "other")
        #expect(blockedPG.status == 75, "\(blockedPG.stderr)")
        #expect(blockedPG.stderr.contains("test holder"))
        await held.release()
        #expect(try h.run(g, state: "other").status == 0)
    }

    @Test("hostile session ids and texts (quotes, SQL, ../, NUL, 1 MB) persist exactly and disturb nothing else", .timeLimit(.minutes(10)))
    func hostileInput() async throws {
        let h = try Harness()
        let g = h.schema("h")
        let big = String(repeating: "x", count: 1_000_000) + " end"
        let hostile = ["it's \"quoted\"", "'); DROP TABLE graph_node; --", "../../etc/passwd", "nul\u{0}inside", "colon:and*glob?[x]\\"]
        for (i, session) in hostile.enumerated() {
            try await h.put(session, entries: [Self.entry(i, session: session, answer: i == 0 ? big : "answer with \u{0} NUL and 'quotes' \(session)")])
        }
        try await h.put("plain", entries: [Self.entry(9, session: "plain")])
        let first = try h.run(g, state: "h")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try Self.summary(first)["turns_persisted"] == hostile.count + 1)
        let texts = try await h.graph(g).chunkTexts()
        #expect(texts.count == hostile.count + 1)
        #expect(texts.contains { $0.hasSuffix("Answer: \(big)\n\n") })
        #expect(texts.contains { $0.hasPrefix("Session ID: '); DROP TABLE graph_node; --\n\n") })
        #expect(texts.contains { $0.hasPrefix("Session ID: nulinside\n\n") })
        #expect(texts.contains { $0.contains("Question 9 about plain?") })
        let second = try Self.summary(try h.run(g, state: "h"))
        #expect(second["turns_unchanged"] == hostile.count + 1 && second["rows_written"] == 0, "\(second)")
    }

    @Test("metrics file, status, dry run, --since/--until and --limit")
    func reportingAndModes() async throws {
        let h = try Harness()
        let g = h.schema("m")
        for s in 0..<3 { try await h.put("m\(s)", entries: (0..<4).map { Self.entry($0, session: "m\(s)") }) }
        let dry = try h.run(g, state: "m", ["--dry-run"])
        #expect(dry.status == 0)
        #expect(try Self.summary(dry)["turns_persisted"] == 12)
        #expect(!FileManager.default.fileExists(atPath: h.state("m")))

        // Turns 1 and 2 only (times 60 s apart from 1_795_000_000).
        let window = try h.run(g, state: "m", ["--since", "1795000060", "--until", "1795000180", "--limit", "2"])
        let w = try Self.summary(window)
        #expect(w["sessions_seen"] == 2 && w["turns_persisted"] == 4 && w["turns_out_of_window"] == 4)

        let metrics = h.directory + "/memify.prom"
        let full = try h.run(g, state: "m", ["--metrics-file", metrics, "--log-format", "json"])
        #expect(full.status == 0)
        // --log-format json: every stderr line is one JSON object with time, level and message.
        let logLines = full.stderr.split(separator: "\n")
        #expect(logLines.count >= 2)
        for line in logLines {
            guard case .object(let record) = try JSONParser.parse(Array(line.utf8)) else { Issue.record("not JSON: \(line)"); continue }
            #expect(record["level"] != nil && record["message"] != nil && record["time"] != nil)
            #expect({ if case .string(let id)? = record["run_id"] { return !id.isEmpty }; return false }(), "every line of a run names it: \(line)")
            if record["message"] == .string("run done") {
                #expect(record["turns_seen"] == .number(JSONNumber(12)) && record["exit_status"] == .number(JSONNumber(0)),
                        "counts are JSON numbers: \(line)")
            }
        }
        #expect(full.stderr.contains(#""message":"run done""#))
        let text = try String(contentsOfFile: metrics, encoding: .utf8)
        #expect(text.contains("memify_turns_persisted{pipeline=\"persist-sessions\",shard=\"all\"} 8\n"))
        #expect(text.contains("memify_turns_seen{pipeline=\"persist-sessions\",shard=\"all\"} 12\n"))
        #expect(text.contains("memify_last_success_timestamp_seconds"))
        #expect(text.contains("# TYPE memify_rows_written gauge"))
        #expect(text.contains("memify_quarantine_open{pipeline=\"persist-sessions\",shard=\"all\"} 0\n"))
        #expect(text.range(of: #"memify_build_info\{pipeline="persist-sessions",shard="all",version="\d+\.\d+\.\d+[^"]*"\} 1\n"#,
                           options: .regularExpression) != nil, "\(text)")
        let sharded = h.directory + "/memify-shard.prom"
        #expect(try h.run(g + "s", state: "m2", ["--metrics-file", sharded, "--shard", "2/3"]).status == 0)
        #expect(try String(contentsOfFile: sharded, encoding: .utf8).contains("memify_turns_seen{pipeline=\"persist-sessions\",shard=\"2/3\"}"))

        let status = try WorkerProcess.run(["status", "--state", h.state("m"), "--json"])
        guard case .object(let o) = try JSONParser.parse(status.stdout) else { Issue.record("status is not JSON"); return }
        #expect(o["turns"] == .number(JSONNumber(12)) && o["sessions"] == .number(JSONNumber(3)))
        #expect(o["quarantine_open"] == .number(JSONNumber(0)))
    }

    @Test("unreachable Redis or PostgreSQL: exit 69 naming which and where")
    func unreachable() async throws {
        let h = try Harness()
        let noRedis = try WorkerProcess.run(["run", "--cache", "redis://127.0.0.1:1/0", "--graph", "sqlite:\(h.directory)/g.db",
                                             "--state", h.state("u")])
        #expect(noRedis.status == 69)
        #expect(noRedis.stderr.contains("Redis") && noRedis.stderr.contains("127.0.0.1:1"))
        let noPG = try WorkerProcess.run(["run", "--cache", h.cacheURL, "--graph", "postgresql://memify:secret-pw@127.0.0.1:1/x",
                                          "--state", h.state("u2"), "--json"])
        #expect(noPG.status == 69)
        #expect(noPG.stderr.contains("PostgreSQL") && noPG.stderr.contains("127.0.0.1:1") && !noPG.stderr.contains("secret-pw"))
        #expect(noPG.stderr.contains("the next run resumes"), "\(noPG.stderr)")
        // Down before the run began: still a failed run, in the runs table and on the --json line.
        let last = noPG.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.contains("\"failed\":true") && last.contains("\"exit_status\":69") && !last.contains("secret-pw"), "\(last)")
        let status = try WorkerProcess.run(["status", "--state", h.state("u2")])
        #expect(status.stdoutText.contains("failed"), "\(status.stdoutText)")
    }
}

/// The embedded default, as the README's first command runs it: the example filesystem cache
/// into the SQLite graph, and cognee's corrupt fixture sessions quarantined element by element.
@Suite("persist-sessions runs (filesystem cache → SQLite graph)")
struct EmbeddedRunTests {
    @Test("the corrupt fixture sessions: exit 3, each rejected element quarantined by index with cognee's reason, every good turn persisted")
    func corruptFixtures() async throws {
        let root = try CogneeFixture.unpackFileCache()
        let expected = try CogneeFixture.expected(.fs)
        let now = String(try CogneeFixture.generatedAt(expected))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memify-emb-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let common = ["--cache", "fs:" + root, "--now", now]
        let dump = try WorkerProcess.run(["sessions", "dump"] + common)
        #expect(dump.status == 3, "sessions dump exits 3 when some elements are bad")
        var errors: Set<String> = []
        var goodTurns = 0
        for line in dump.stdoutText.split(separator: "\n") {
            guard case .object(let o) = try JSONParser.parse(Array(line.utf8)), case .string(let user)? = o["user_id"],
                  case .string(let session)? = o["session_id"], case .array(let entries)? = o["entries"],
                  case .array(let errs)? = o["errors"] else { continue }
            var ids: Set<String> = []
            for case .object(let e) in entries {
                if case .string(let id)? = e["qa_id"] { if ids.insert(id).inserted { goodTurns += 1 } } else { goodTurns += 1 }
            }
            for case .object(let e) in errs { if case .number(let i)? = e["index"] { errors.insert("\(user)|\(session)|\(i.literal)") } }
        }
        #expect(!errors.isEmpty)

        let run = try WorkerProcess.run(["run", "--graph", "sqlite:\(directory)/graph.db", "--state", "\(directory)/state.db", "--json"] + common)
        #expect(run.status == 3, "\(run.stderr)")
        let list = try WorkerProcess.run(["quarantine", "list", "--json", "--state", "\(directory)/state.db"])
        var quarantined: Set<String> = []
        for line in list.stdoutText.split(separator: "\n") {
            guard case .object(let o) = try JSONParser.parse(Array(line.utf8)), case .string(let user)? = o["user_id"],
                  case .string(let session)? = o["session_id"], case .number(let i)? = o["index"],
                  case .string(let reason)? = o["reason"] else { continue }
            #expect(!reason.isEmpty)
            quarantined.insert("\(user)|\(session)|\(i.literal)")
        }
        #expect(errors.isSubset(of: quarantined), "missing from quarantine: \(errors.subtracting(quarantined))")
        let status = try WorkerProcess.run(["status", "--json", "--state", "\(directory)/state.db"])
        guard case .object(let o) = try JSONParser.parse(status.stdout) else { Issue.record("status is not JSON"); return }
        #expect(o["turns"] == .number(JSONNumber(goodTurns)))
    }

    @Test("one session split over the shared and a tenant diskcache folder: both parts persist, nothing is taken for deleted")
    func sessionInTwoFolders() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("memify-split-\(UUID().uuidString)").path
        let key = SessionKey(userID: "u-split", sessionID: "s-split")
        func entry(_ i: Int) -> SessionQAEntry {
            SessionQAEntry(time: SyntheticCorpus.isoTime(1_795_000_000 + Double(i)), question: "Q\(i)?", context: "", answer: "A\(i).",
                           qaID: "qa-split-\(i)")
        }
        try FileCacheWriter(directory: root + "/.cognee_fs_cache/sessions_db", ttlSeconds: nil).write(entries: [(key, [entry(1), entry(2)])])
        try FileCacheWriter(directory: root + "/tenant-a/.cognee_fs_cache/sessions_db", ttlSeconds: nil).write(entries: [(key, [entry(3)])])
        let args = ["run", "--cache", "fs:" + root, "--graph", "sqlite:\(root)/graph.db", "--state", "\(root)/state.db", "--json", "--no-progress"]
        for pass in 0..<2 {
            let run = try WorkerProcess.run(args)
            #expect(run.status == 0, "\(run.stderr)")
            let line = String(try #require(run.stdoutText.split(separator: "\n").last))
            #expect(line.contains(#""turns_deleted":0"#) && line.contains(#""rows_deleted":0"#), "pass \(pass): \(line)")
        }
        let status = try WorkerProcess.run(["status", "--json", "--state", "\(root)/state.db"])
        guard case .object(let o) = try JSONParser.parse(status.stdout) else { Issue.record("status is not JSON"); return }
        #expect(o["turns"] == .number(JSONNumber(3)))
    }

    @Test("a state database belongs to one graph and dataset: another graph, another dataset or a recreated graph exit 64 and write nothing")
    func stateBoundToGraph() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("memify-bind-\(UUID().uuidString)").path
        let key = SessionKey(userID: "u-bind", sessionID: "s-bind")
        let entries = (1...3).map {
            SessionQAEntry(time: SyntheticCorpus.isoTime(1_795_000_000 + Double($0)), question: "Where does Anna live?",
                           context: "", answer: "Anna Schmidt lives in Berlin (turn \($0)).", qaID: "qa-bind-\($0)")
        }
        try FileCacheWriter(directory: root + "/.cognee_fs_cache/sessions_db", ttlSeconds: nil).write(entries: [(key, entries)])
        func run(_ graph: String, _ extra: [String] = []) throws -> WorkerProcess.Outcome {
            try WorkerProcess.run(["run", "--cache", "fs:" + root, "--graph", "sqlite:\(root)/\(graph)", "--state", "\(root)/state.db",
                                   "--json", "--no-progress"] + extra)
        }
        let first = try run("a.db")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try run("a.db").status == 0, "the same graph again is fine")

        let other = try run("b.db")
        #expect(other.status == 64, "\(other.stderr)")
        #expect(other.stderr.contains("state.db") && other.stderr.contains("its own --state"), "\(other.stderr)")
        let failureLine = String(other.stdoutText.split(separator: "\n").last ?? "")
        #expect(failureLine.contains(#""failed":true"#) && failureLine.contains(#""exit_status":64"#),
                "with --json a failed run still ends stdout with its summary: \(failureLine)")
        let otherDataset = try run("a.db", ["--dataset-id", GraphIdentity.uuid5("another dataset")])
        #expect(otherDataset.status == 64, "\(otherDataset.stderr)")

        // The same path, but the graph was deleted and made again: its checkpoints vouch for nothing.
        try FileManager.default.removeItem(atPath: "\(root)/a.db")
        let recreated = try run("a.db")
        #expect(recreated.status == 64, "\(recreated.stderr)")

        // A fresh state persists everything into the new graph.
        try FileManager.default.removeItem(atPath: "\(root)/state.db")
        let fresh = try run("a.db")
        #expect(fresh.status == 0, "\(fresh.stderr)")
        let line = String(try #require(fresh.stdoutText.split(separator: "\n").last))
        #expect(line.contains(#""turns_new":3"#), "\(line)")
    }

    @Test("a chunk written just before a crash lost its checkpoint is retracted when the turn was edited meanwhile")
    func staleChunkAfterCrash() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("memify-stale-\(UUID().uuidString)").path
        let key = SessionKey(userID: "u-stale", sessionID: "s-stale")
        let cache = root + "/.cognee_fs_cache/sessions_db"
        func write(_ answer: String) throws {
            try? FileManager.default.removeItem(atPath: cache)
            try FileCacheWriter(directory: cache, ttlSeconds: nil).write(entries: [(key, [
                SessionQAEntry(time: SyntheticCorpus.isoTime(1_795_000_000), question: "Where does Anna live?", context: "",
                               answer: answer, qaID: "qa-stale-1"),
            ])])
        }
        let args = ["run", "--cache", "fs:" + root, "--graph", "sqlite:\(root)/graph.db", "--state", "\(root)/state.db", "--json", "--no-progress"]
        try write("Anna Schmidt lives in Berlin.")
        #expect(try WorkerProcess.run(args).status == 0)
        // The crash: the graph committed, the checkpoint never did.
        let state = try SQLiteDatabase(path: "\(root)/state.db", mode: .readWrite)
        try state.execute("DELETE FROM turns")
        try write("Anna Schmidt moved to Munich.")
        let run = try WorkerProcess.run(args)
        #expect(run.status == 0, "\(run.stderr)")
        let graph = try await SQLiteGraphWriter.open(path: "\(root)/graph.db").snapshot()
        let chunks = graph.nodes.filter { $0.node.type == "DocumentChunk" }.compactMap { node -> String? in
            if case .string(let text)? = node.node.properties["text"] { return text }
            return nil
        }
        #expect(chunks.count == 1 && chunks[0].contains("Munich"), "\(chunks)")
        #expect(!graph.nodes.contains { $0.node.name == "berlin" }, "the old chunk's entities went with it")
        #expect(graph.nodes.contains { $0.node.name == "munich" })
    }

    @Test("the pipeline file declares what the runner does; a typo names its line")
    func pipelineDefinition() throws {
        var loaded = try PipelineDefinition.parse(file: TestEnvironment.repositoryDirectory + "/pipelines/persist-sessions.yml")
        loaded.origin = PipelineDefinition.builtIn.origin
        #expect(loaded == PipelineDefinition.builtIn)
        #expect(throws: WorkerError.self) {
            try PipelineDefinition.parse("name: x\nstages:\n  - discover\noptions:\n  concurrenci: 3\n", origin: "t.yml")
        }
        do {
            _ = try PipelineDefinition.parse("name: x\noptions:\n  batch_rows: -1\n", origin: "t.yml")
        } catch {
            #expect("\(error)".contains("line 3"))
        }
    }
}
