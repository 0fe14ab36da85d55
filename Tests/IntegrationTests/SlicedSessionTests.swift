import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import TestSupport
import Testing

/// A session larger than a batch is persisted in slices of about `batch_rows` rows, each committed
/// and checkpointed on its own: memory is bounded by the batch, not the session; a stop comes
/// between two slices; and the graph is the one an unsliced run gives.
@Suite("large sessions in slices (Redis → PostgreSQL)", .serialized,
       .enabled(if: TestEnvironment.redisURL != nil && TestEnvironment.postgresURL != nil,
                "set MEMIFY_TEST_REDIS_URL and MEMIFY_TEST_POSTGRES_URL (scripts/test starts both)"))
struct SlicedSessionTests {
    typealias Harness = RunPipelineTests.Harness

    /// A pipeline file like the shipped one with another `batch_rows` (the runner slices a
    /// session into parts of `batch_rows / 12` turns).
    static func pipeline(_ h: Harness, batchRows: Int) throws -> String {
        let path = h.directory + "/batch-\(batchRows).yml"
        let stages = PipelineDefinition.persistSessionsStages.map { "  - \($0)" }.joined(separator: "\n")
        try "name: persist-sessions\nstages:\n\(stages)\noptions:\n  batch_rows: \(batchRows)\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func run(_ h: Harness, _ schema: String, state: String, _ extra: [String] = [], expect status: Int32 = 0) throws -> [String: Int] {
        let outcome = try h.run(schema, state: state, extra)
        #expect(outcome.status == status, "\(outcome.stderr)")
        return try RunPipelineTests.summary(outcome)
    }

    /// Turns the state database has checkpointed (0 before it has the table).
    static func checkpointed(_ path: String) -> Int {
        guard let db = try? SQLiteDatabase(path: path, mode: .readOnly) else { return 0 }
        defer { db.close(checkpoint: false) }
        return (try? db.withStatement("SELECT count(*) FROM turns", operation: "count") { stmt throws(DatabaseError) -> Int in
            _ = try stmt.step()
            return Int(stmt.int64(0))
        }) ?? 0
    }

    static func registered(_ h: Harness, _ schema: String) async throws -> Int {
        let postgres = h.postgres
        return try await BlockingExecutor(label: "test.count").run {
            let rows = try PostgresConnection(conninfo: postgres).query("SELECT count(*) FROM \"\(schema)\".memify_turn", operation: "count")
            return Int(rows.first?.first.flatMap { $0 } ?? "0") ?? 0
        }
    }

    @Test("a session cut into slices gives an unsliced run's graph, through edits, feedback, deletions, new turns and a quarantined element; its fingerprint is recorded with the last slice",
          .timeLimit(.minutes(10)))
    func slicedEqualsWhole() async throws {
        let h = try Harness()
        let tiny = try Self.pipeline(h, batchRows: 36)  // 3 turns a slice
        let sliced = h.schema("sliced"), whole = h.schema("whole")
        func entry(_ i: Int, answer: String? = nil, feedback: String? = nil) -> SessionQAEntry {
            RunPipelineTests.entry(i, session: "big", answer: answer, feedback: feedback)
        }
        var big = (0..<40).map { entry($0) }
        try await h.put("big", entries: big)
        for s in 0..<3 { try await h.put("s\(s)", entries: (0..<4).map { RunPipelineTests.entry($0, session: "s\(s)") }) }

        let first = try Self.run(h, sliced, state: "sliced", ["--pipeline", tiny])
        #expect(first["turns_new"] == 52 && first["sessions_seen"] == 4, "\(first)")
        #expect(try await Self.registered(h, sliced) == 52)
        _ = try Self.run(h, whole, state: "whole")
        var got = try await h.graph(sliced), expected = try await h.graph(whole)
        #expect(got == expected, "\(got.difference(expected))")

        // Edits, feedback and deletions in several slices, new turns at the end.
        big[5] = entry(5, answer: "Answer 5 edited: Bob lives in Berlin.")
        big[22] = entry(22, feedback: "helpful")
        big[30] = entry(30, answer: "Answer 30 edited: Carla works at Globex.")
        for i in [39, 17, 3] { big.remove(at: i) }
        big += [entry(40), entry(41)]
        try await h.put("big", entries: big)
        let edited = try Self.run(h, sliced, state: "sliced", ["--pipeline", tiny])
        #expect(edited["turns_changed"] == 3 && edited["turns_new"] == 2 && edited["turns_deleted"] == 3
                && edited["sessions_unchanged"] == 3, "\(edited)")
        let editedWhole = try Self.run(h, whole, state: "whole")
        #expect(editedWhole["turns_deleted"] == 3)
        got = try await h.graph(sliced)
        expected = try await h.graph(whole)
        #expect(got == expected, "\(got.difference(expected))")
        #expect(!got.chunkTexts().contains { $0.contains("Question 17 about big?") })
        #expect(got.chunkTexts().contains { $0.contains("Answer 30 edited: Carla works at Globex.") })
        let clean = h.schema("clean")
        _ = try Self.run(h, clean, state: "clean", ["--pipeline", tiny])
        #expect(try await h.graph(clean) == got, "a clean run of the edited cache gives the same graph")

        // Persisted whole, though in slices: the next run skips the session by its fingerprint.
        let again = try Self.run(h, sliced, state: "sliced", ["--pipeline", tiny])
        #expect(again["sessions_unchanged"] == 4 && again["rows_written"] == 0, "\(again)")

        // A bad element (it goes with the first slice): nothing of the session is taken for
        // deleted, although turn 0 is gone; its fingerprint is not recorded.
        var raw = big.dropFirst().map(\.cogneeJSON)
        raw.append(Array("not json".utf8))
        try await h.put("big", raw)
        let quarantined = try Self.run(h, sliced, state: "sliced", ["--pipeline", tiny], expect: 3)
        #expect(quarantined["turns_quarantined"] == 1 && quarantined["turns_deleted"] == 0, "\(quarantined)")
        let quarantinedWhole = try Self.run(h, whole, state: "whole", expect: 3)
        #expect(quarantinedWhole["turns_deleted"] == 0)
        #expect(try await h.graph(sliced) == (try await h.graph(whole)))
        // Fixed: now turn 0 is deleted, with the last slice.
        try await h.put("big", entries: Array(big.dropFirst()))
        let fixed = try Self.run(h, sliced, state: "sliced", ["--pipeline", tiny])
        #expect(fixed["turns_deleted"] == 1 && fixed["turns_quarantined"] == 0, "\(fixed)")
        _ = try Self.run(h, whole, state: "whole")
        got = try await h.graph(sliced)
        expected = try await h.graph(whole)
        #expect(got == expected, "\(got.difference(expected))")
        #expect(!got.chunkTexts().contains { $0.contains("Question 0 about big?") })
    }

    @Test("a run killed (SIGKILL) between two slices of a session keeps the slices committed; after turns are deleted and edited meanwhile, the next run gives a clean run's graph",
          .timeLimit(.minutes(10)))
    func killedBetweenSlices() async throws {
        let h = try Harness()
        let tiny = try Self.pipeline(h, batchRows: 36)
        let turns = 300
        var big = (0..<turns).map { RunPipelineTests.entry($0, session: "k") }
        try await h.put("k", entries: big)
        let g = h.schema("killed")
        let process = try RunPipelineTests.launch(h, g, state: "k", extra: ["--pipeline", tiny, "--concurrency", "1"])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let state = h.state("k"), pid = process.processIdentifier
        let seen = try await BlockingExecutor(label: "test.kill").run { () -> Int in
            for _ in 0..<20_000 where kill(pid, 0) == 0 {
                usleep(2_000)
                let n = Self.checkpointed(state)
                if n >= 30 {
                    kill(pid, SIGKILL)
                    return n
                }
            }
            return 0
        }
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the run was killed, not finished")
        try #require(seen > 0)
        let committed = try await Self.registered(h, g)
        #expect(committed >= seen && committed < turns, "some slices committed, not all: \(committed) of \(turns)")

        // Meanwhile cognee deletes a committed turn and one not yet persisted, and edits one.
        big[1] = RunPipelineTests.entry(1, session: "k", answer: "Answer 1 edited: Emeka moved to Lagos.")
        big.remove(at: 250)
        big.remove(at: 2)
        try await h.put("k", entries: big)
        let next = try Self.run(h, g, state: "k", ["--pipeline", tiny])
        #expect(next["turns_deleted"] == 1 && next["turns_changed"] == 1, "\(next)")
        let clean = h.schema("killed_ref")
        _ = try Self.run(h, clean, state: "killed_ref")
        let got = try await h.graph(g), expected = try await h.graph(clean)
        #expect(got == expected, "\(got.difference(expected))")
        let after = try Self.run(h, g, state: "k", ["--pipeline", tiny])
        #expect(after["rows_written"] == 0 && after["sessions_unchanged"] == 1, "\(after)")
    }
}

/// One session of 100,000 turns against one of 1,000, run by the optimised worker (a debug build
/// takes minutes over it): peak RSS (the child's own `ru_maxrss`, from `wait4`) bounded by the
/// batch, not the session; SIGTERM between two of its slices.
@Suite("a 100,000-turn session (Redis → PostgreSQL, release build)", .serialized,
       .enabled(if: TestEnvironment.redisURL != nil && TestEnvironment.postgresURL != nil,
                "set MEMIFY_TEST_REDIS_URL and MEMIFY_TEST_POSTGRES_URL (scripts/test starts both)"))
struct LargeSessionTests {
    typealias Harness = RunPipelineTests.Harness

    /// Short turns (a few rows each): the sizes are in the turn count, and the test stays quick.
    static func entries(_ session: String, _ count: Int) -> [[UInt8]] {
        (0..<count).map { i in
            SessionQAEntry(time: SyntheticCorpus.isoTime(1_795_000_000 + Double(i)), question: "q\(i)?", context: "",
                           answer: "a\(i).", qaID: "\(session)-\(i)").cogneeJSON
        }
    }

    /// Rows of one schema's graph the other lacks, counted in PostgreSQL (timestamps and run ids
    /// aside, as ``RunPipelineTests/GraphRows`` compares them): 0 when the graphs are equal.
    static func difference(_ h: Harness, _ a: String, _ b: String) async throws -> Int {
        let node = "id, name, type, properties - 'created_at' - 'updated_at', source_ref_keys, source_dataset_ids"
        let edge = "source_id, target_id, relationship_name, properties - 'created_at' - 'updated_at', source_ref_keys, source_dataset_ids"
        func except(_ columns: String, _ table: String, _ x: String, _ y: String) -> String {
            "(SELECT count(*) FROM (SELECT \(columns) FROM \"\(x)\".\(table) EXCEPT ALL SELECT \(columns) FROM \"\(y)\".\(table)) d)"
        }
        let sql = "SELECT " + [except(node, "graph_node", a, b), except(node, "graph_node", b, a),
                               except(edge, "graph_edge", a, b), except(edge, "graph_edge", b, a)].joined(separator: " + ")
        let postgres = h.postgres
        return try await BlockingExecutor(label: "test.compare").run {
            let rows = try PostgresConnection(conninfo: postgres).query(sql, operation: "compare graphs")
            return Int(rows.first?.first.flatMap { $0 } ?? "-1") ?? -1
        }
    }

    @Test("100,000 turns: peak RSS under 3× a 1,000-turn session's; SIGTERM in the middle exits 130, interrupted, the slices done committed and checkpointed; the next run completes to a clean run's graph",
          .timeLimit(.minutes(10)))
    func hundredThousandTurns() async throws {
        let binary = WorkerProcess.releaseExecutable
        try #require(FileManager.default.isExecutableFile(atPath: binary),
                     "\(binary) is missing: `swift build -c release --product memify-worker` (scripts/test does)")
        let h = try Harness()
        let large = 100_000
        let executor = BlockingExecutor(label: "test.large")
        let redis = h.redis, user = h.user
        try await executor.run {
            let writer = RedisCacheWriter(connection: try RedisConnection(url: redis), ttlSeconds: nil)
            try writer.append([(SessionKey(userID: user, sessionID: "small"), Self.entries("small", 1_000))])
            try writer.append([(SessionKey(userID: user, sessionID: "large"), Self.entries("large", large))])
        }
        func arguments(_ schema: String, state: String, session: String) -> [String] {
            ["run", "--cache", h.cacheURL, "--graph", h.postgres, "--schema", schema, "--state", h.state(state),
             "--user", h.user, "--session", session, "--json", "--no-progress"]
        }
        func measured(_ schema: String, state: String, session: String) async throws -> MeasuredProcess.Outcome {
            let process = try MeasuredProcess(binary, arguments(schema, state: state, session: session), directory: h.directory)
            return try await executor.run { process.wait() }
        }
        func summary(_ outcome: MeasuredProcess.Outcome) throws -> [String: Int] {
            let line = try #require(outcome.stdout.split(separator: "\n").last, "no summary line; stderr: \(outcome.stderr)")
            guard case .object(let object) = try JSONParser.parse(Array(line.utf8)) else { throw FixtureError("summary is not an object") }
            var out: [String: Int] = [:]
            for (key, value) in object.pairs { if case .number(let n) = value, let i = Int(n.literal) { out[key] = i } }
            return out
        }

        let small = try await measured(h.schema("small"), state: "small", session: "small")
        #expect(small.status == 0, "\(small.stderr)")

        // SIGTERM once some slices are checkpointed: the slice in flight completes, the run stops.
        let g = h.schema("large")
        let stopped = try MeasuredProcess(binary, arguments(g, state: "large", session: "large"), directory: h.directory)
        let state = h.state("large")
        let terminated = try await executor.run { () -> MeasuredProcess.Outcome in
            for _ in 0..<60_000 where stopped.isRunning {
                usleep(2_000)
                if SlicedSessionTests.checkpointed(state) >= 5_000 { break }
            }
            stopped.signal(SIGTERM)
            return stopped.wait()
        }
        #expect(terminated.status == 130, "SIGTERM: \(terminated.status.map { "exit \($0)" } ?? "signal \(terminated.signal ?? 0)"): \(terminated.stderr)")
        #expect(terminated.stdout.contains(#""interrupted":true"#), "\(terminated.stdout)")
        let done = SlicedSessionTests.checkpointed(state)
        let inGraph = try await SlicedSessionTests.registered(h, g)
        #expect(done == inGraph, "the checkpoints agree with the graph: \(done) checkpointed, \(inGraph) in the graph")
        #expect(done >= 5_000 && done < large, "some slices committed, not all: \(done) of \(large)")

        // The next run continues from the slices committed while a clean run persists it all.
        async let resumed = measured(g, state: "large", session: "large")
        async let clean = measured(h.schema("clean"), state: "clean", session: "large")
        let (next, reference) = try await (resumed, clean)
        #expect(next.status == 0 && reference.status == 0, "\(next.stderr)\n\(reference.stderr)")
        let resumedSummary = try summary(next)
        #expect(resumedSummary["turns_unchanged"] == done && resumedSummary["turns_new"] == large - done, "\(resumedSummary)")
        #expect(try summary(reference)["turns_new"] == large)
        #expect(try await Self.difference(h, g, h.schema("clean")) == 0, "the resumed graph equals a clean run's")

        print("large session: 1,000 turns peak RSS \(small.maxRSSKiB) KiB in \(String(format: "%.1f", small.seconds)) s; "
              + "\(large) turns peak RSS \(reference.maxRSSKiB) KiB in \(String(format: "%.1f", reference.seconds)) s (clean run), "
              + "resumed after SIGTERM at \(done): \(next.maxRSSKiB) KiB")
        #expect(reference.maxRSSKiB < 3 * small.maxRSSKiB,
                "peak RSS \(reference.maxRSSKiB) KiB for \(large) turns against \(small.maxRSSKiB) KiB for 1,000")
        #expect(next.maxRSSKiB < 3 * small.maxRSSKiB)
    }
}
