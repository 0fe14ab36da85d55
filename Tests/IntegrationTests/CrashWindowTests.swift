import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import TestSupport
import Testing

/// The graph commits a batch before its checkpoint. A state database that is behind the graph (a
/// crash between the two, `state.db` lost, or restored from an older copy) must not keep a turn in
/// the graph once it is deleted from the cache: after any of these, the next run leaves the graph
/// equal to a clean run (fresh schema, fresh state) of the cache as it then is.
@Suite("crash window: checkpoints behind the graph (Redis → PostgreSQL)", .serialized,
       .enabled(if: TestEnvironment.redisURL != nil && TestEnvironment.postgresURL != nil,
                "set MEMIFY_TEST_REDIS_URL and MEMIFY_TEST_POSTGRES_URL (scripts/test starts both)"))
struct CrashWindowTests {
    typealias Harness = RunPipelineTests.Harness

    static func entries(_ session: String, _ turns: [Int]) -> [SessionQAEntry] {
        turns.map { RunPipelineTests.entry($0, session: session) }
    }

    /// The summary's `reconciled` flag (the harness's summary keeps only numbers).
    static func reconciled(_ outcome: WorkerProcess.Outcome) throws -> Bool {
        let line = try #require(outcome.stdoutText.split(separator: "\n").last, "no summary line; stderr: \(outcome.stderr)")
        guard case .object(let object) = try JSONParser.parse(Array(line.utf8)), case .bool(let flag)? = object["reconciled"] else {
            throw FixtureError("no reconciled flag in \(line)")
        }
        return flag
    }

    static func removeState(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// Runs `g` with `state`, expecting success; returns the summary and the reconciled flag.
    static func run(_ h: Harness, _ g: String, state: String) throws -> (summary: [String: Int], reconciled: Bool) {
        let outcome = try h.run(g, state: state)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        return (try RunPipelineTests.summary(outcome), try reconciled(outcome))
    }

    /// A clean run of the cache as it is now: a fresh schema and a fresh state.
    static func cleanGraph(_ h: Harness, _ name: String) async throws -> RunPipelineTests.GraphRows {
        let g = h.schema(name)
        let clean = try run(h, g, state: name)
        #expect(!clean.reconciled, "a fresh state on a fresh graph has nothing to reconcile")
        return try await h.graph(g)
    }

    /// Run 1 persists s0…s2; run 2 persists turns added to s0 and s1; then `damage` happens to
    /// the state (restored to its copy after run 1, or deleted), and one of run 2's turns is
    /// deleted from the cache the way cognee deletes one (DEL, RPUSH the rest).
    func behindTheGraph(_ tag: String, damage: (Harness, _ state: String, _ copy: String) throws -> Void) async throws {
        let h = try Harness()
        let g = h.schema(tag)
        for s in 0..<3 { try await h.put("s\(s)", entries: Self.entries("s\(s)", [0, 1, 2])) }
        let first = try Self.run(h, g, state: "a")
        #expect(first.summary["turns_new"] == 9 && !first.reconciled)
        let copy = h.state("a-copy")
        try FileManager.default.copyItem(atPath: h.state("a"), toPath: copy)

        try await h.put("s0", entries: Self.entries("s0", [0, 1, 2, 3]))
        try await h.put("s1", entries: Self.entries("s1", [0, 1, 2, 3]))
        let second = try Self.run(h, g, state: "a")
        #expect(second.summary["turns_new"] == 2 && !second.reconciled)

        try damage(h, h.state("a"), copy)
        try await h.put("s0", entries: Self.entries("s0", [0, 1, 2]))  // s0's turn 3 deleted

        let third = try Self.run(h, g, state: "a")
        #expect(third.reconciled, "the checkpoints are behind the graph: the run reconciles")
        #expect(third.summary["turns_deleted"] == 1 && (third.summary["rows_deleted"] ?? 0) > 0, "\(third.summary)")
        let got = try await h.graph(g)
        #expect(!got.chunkTexts().contains { $0.contains("Question 3 about s0?") }, "the deleted turn's chunk is gone")
        #expect(got.chunkTexts().contains { $0.contains("Question 3 about s1?") }, "the kept turn of run 2 is still there")
        let expected = try await Self.cleanGraph(h, tag + "_ref")
        #expect(got == expected, "\(got.difference(expected))")

        // Back in step: the next runs are normal, and write nothing.
        let fourth = try Self.run(h, g, state: "a")
        #expect(!fourth.reconciled, "a run after a complete reconciling run is a normal one")
        #expect(fourth.summary["rows_written"] == 0 && fourth.summary["turns_new"] == 0 && fourth.summary["turns_deleted"] == 0,
                "\(fourth.summary)")
        #expect(try await h.graph(g) == expected)
    }

    @Test("state.db restored from an older copy, a turn deleted: the next run reconciles and the graph equals a clean run; the run after is normal",
          .timeLimit(.minutes(10)))
    func restoredState() async throws {
        try await behindTheGraph("restored") { _, state, copy in
            Self.removeState(state)
            try FileManager.default.copyItem(atPath: copy, toPath: state)
        }
    }

    @Test("state.db lost, a turn deleted: the next run reconciles and the graph equals a clean run; the run after is normal",
          .timeLimit(.minutes(10)))
    func lostState() async throws {
        try await behindTheGraph("lost") { _, state, _ in Self.removeState(state) }
    }

    @Test("a run killed between a batch's graph commit and its checkpoint, a committed but unchecked turn deleted: the next run gives a clean run's graph",
          .timeLimit(.minutes(10)))
    func killedInTheWindow() async throws {
        let h = try Harness()
        let g = h.schema("window")
        let sessions = 120
        try await h.fill(prefix: "w", sessions: sessions, turns: 6)
        let process = try RunPipelineTests.launch(h, g, state: "w", extra: ["--concurrency", "1"])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let statePath = h.state("w"), postgres = h.postgres, user = h.user, pid = process.processIdentifier
        // Once the first batch is checkpointed, the test takes the state database's write lock:
        // the run's next batch commits to the graph and then waits for its checkpoint. When the
        // graph holds turns the state does not, the run is killed right there.
        let (graphTurns, stateTurns) = try await BlockingExecutor(label: "test.window").run { () throws -> (Int, Int) in
            let graph = try PostgresConnection(conninfo: postgres)
            func registered() throws -> Int {
                let rows = try? graph.query("SELECT count(*) FROM \"\(g)\".memify_turn WHERE user_id = $1",
                                            [user], operation: "poll")
                return Int(rows?.first?.first.flatMap { $0 } ?? "0") ?? 0
            }
            func checkpointed(_ db: SQLiteDatabase) throws -> Int {
                try db.withStatement("SELECT count(*) FROM turns", operation: "poll") { stmt throws(DatabaseError) -> Int in
                    _ = try stmt.step()
                    return Int(stmt.int64(0))
                }
            }
            var locked: SQLiteDatabase?
            for _ in 0..<6000 where kill(pid, 0) == 0 {
                usleep(5_000)
                guard FileManager.default.fileExists(atPath: statePath) else { continue }
                if locked == nil {
                    let db = try SQLiteDatabase(path: statePath, mode: .readWrite)
                    guard (try? db.hasTable("turns")) == true, (try? checkpointed(db)) ?? 0 > 0 else { db.close(checkpoint: false); continue }
                    try db.execute("BEGIN IMMEDIATE")
                    locked = db
                }
                guard let db = locked else { continue }
                let inGraph = try registered(), inState = try checkpointed(db)
                if inGraph > inState {
                    kill(pid, SIGKILL)
                    try db.execute("ROLLBACK")
                    db.close(checkpoint: false)
                    return (inGraph, inState)
                }
            }
            return (0, 0)
        }
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the run was killed, not finished")
        try #require(graphTurns > stateTurns, "the run never stopped with the graph ahead of its checkpoints")

        // A turn the graph committed and the checkpoints never recorded.
        let checkpointed = try SQLiteDatabase(path: statePath, mode: .readOnly).withStatement(
            "SELECT session_id || '|' || turn_id FROM turns", operation: "read") { stmt throws(DatabaseError) -> Set<String> in
            var out: Set<String> = []
            while try stmt.step() { out.insert(stmt.text(0) ?? "") }
            return out
        }
        let writer = try await PostgresGraphWriter.connect(conninfo: h.postgres, placement: .shared(schema: g))
        let inGraph = try await writer.registeredTurns(datasetID: RunOptions.defaultDatasetID,
                                                       sessions: (0..<sessions).map { (user, "w\($0)") })
        let unchecked = try #require(inGraph.first { !checkpointed.contains("\($0.sessionID)|\($0.turnID)") })
        let session = unchecked.sessionID
        let index = try #require(unchecked.turnID.split(separator: "-").last.flatMap { Int($0) })
        try await h.put(session, entries: Self.entries(session, (0..<6).filter { $0 != index }))

        let next = try Self.run(h, g, state: "w")
        #expect(next.reconciled, "the graph's counter is ahead of the checkpoints: the run reconciles")
        #expect(next.summary["turns_deleted"] == 1, "\(next.summary)")
        let got = try await h.graph(g)
        let expected = try await Self.cleanGraph(h, "window_ref")
        #expect(got.nodes.count == expected.nodes.count && got.edges.count == expected.edges.count)
        #expect(got == expected, "\(got.difference(expected))")
        let after = try Self.run(h, g, state: "w")
        #expect(!after.reconciled && after.summary["rows_written"] == 0, "\(after.summary)")
    }
}

@Suite("crash window: checkpoints behind the graph (filesystem cache → SQLite graph)")
struct EmbeddedCrashWindowTests {
    @Test("SQLite graph, state.db lost, a turn deleted: the next run reconciles and equals a clean run; the run after is normal")
    func lostState() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("memify-window-\(UUID().uuidString)").path
        func entry(_ session: String, _ i: Int) -> SessionQAEntry {
            SessionQAEntry(time: SyntheticCorpus.isoTime(1_795_000_000 + Double(i) * 60), question: "Question \(i) about \(session)?",
                           context: "", answer: "Answer \(i): Alice moved to Paris in \(2000 + i).", qaID: "qa-\(session)-\(i)")
        }
        // A cache folder per moment: the turn deleted is the same cache, rewritten without it.
        func cache(_ name: String, _ sessions: [String: [Int]]) throws -> String {
            let path = root + "/" + name
            let contents = sessions.sorted { $0.key < $1.key }.map { session, turns in
                (SessionKey(userID: "u-window", sessionID: session), turns.map { entry(session, $0) })
            }
            try FileCacheWriter(directory: path + "/.cognee_fs_cache/sessions_db", ttlSeconds: nil).write(entries: contents)
            return path
        }
        func run(_ cache: String, graph: String, state: String) throws -> (WorkerProcess.Outcome, Bool) {
            let outcome = try WorkerProcess.run(["run", "--cache", "fs:" + cache, "--graph", "sqlite:\(root)/\(graph)",
                                                 "--state", "\(root)/\(state)", "--json", "--no-progress"])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            return (outcome, try CrashWindowTests.reconciled(outcome))
        }
        func rows(_ graph: String) async throws -> RunPipelineTests.GraphRows {
            RunPipelineTests.GraphRows(try await SQLiteGraphWriter.open(path: "\(root)/\(graph)").snapshot())
        }
        let before = try cache("before", ["s0": [0, 1, 2], "s1": [0, 1]])
        let (first, firstReconciled) = try run(before, graph: "g.db", state: "state.db")
        let firstSummary = try RunPipelineTests.summary(first)
        #expect(!firstReconciled && firstSummary["turns_new"] == 5)
        CrashWindowTests.removeState("\(root)/state.db")
        let after = try cache("after", ["s0": [0, 2], "s1": [0, 1]])  // s0's turn 1 deleted

        let (third, reconciled) = try run(after, graph: "g.db", state: "state.db")
        #expect(reconciled, "a new state on a graph holding turns of the dataset reconciles")
        let thirdSummary = try RunPipelineTests.summary(third)
        #expect(thirdSummary["turns_deleted"] == 1)
        let (_, cleanReconciled) = try run(after, graph: "clean.db", state: "clean.db.state")
        #expect(!cleanReconciled)
        let got = try await rows("g.db"), expected = try await rows("clean.db")
        #expect(!got.chunkTexts().contains { $0.contains("Question 1 about s0?") })
        #expect(got == expected, "\(got.difference(expected))")
        let (fourth, fourthReconciled) = try run(after, graph: "g.db", state: "state.db")
        let fourthSummary = try RunPipelineTests.summary(fourth)
        #expect(!fourthReconciled && fourthSummary["rows_written"] == 0)
    }
}
