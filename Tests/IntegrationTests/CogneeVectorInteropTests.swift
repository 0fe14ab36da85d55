import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import TestSupport
import Testing

/// cognee 1.6.5's own searches find what the worker persisted with vectors on (issue 19): the
/// built worker runs on a SQLite cache of 60 turns with an embedding endpoint, then
/// `scripts/cognee-vector-interop.py` asks cognee's HybridRetriever and GraphCompletionRetriever
/// one question per turn (distinctive words of its answer) and reports whether the turn's chunk,
/// or one of the entities the worker linked to it, came back. The PostgreSQL case also lets
/// cognee cognify two documents of its own into the same graph and delete one: every row the
/// worker wrote must still be there.
///
/// Embeddings come from `scripts/probe-vectors-embed-server.py` (deterministic bag-of-words
/// hashes), started here; the worker's in-process `EmbeddingTestServer` computes the same vectors.
/// Needs `MEMIFY_COGNEE_PYTHON` (scripts/cognee-venv, with pyturso for the SQLite case) and, for
/// PostgreSQL, a server with pgvector (`MEMIFY_TEST_PGVECTOR=1`: scripts/servers with
/// `MEMIFY_PG_BIN=$(scripts/pgvector-bin)`); under `MEMIFY_REQUIRE_SERVERS=1` a missing pgvector
/// fails. Skipped while the built worker has no `--embedding-endpoint` option.
@Suite("cognee 1.6.5 searches the worker's vectors",
       .enabled(if: TestEnvironment.cogneePython != nil, "set MEMIFY_COGNEE_PYTHON (scripts/cognee-venv)"),
       .enabled(if: WorkerEmbeddingOptions.present,
                "the built memify-worker has no --embedding-endpoint option yet (issue 19), or .build/debug/memify-worker is missing"))
struct CogneeVectorInteropTests {
    /// Turns in the corpus; one probe each.
    static let turnCount = 60
    /// Share of probes cognee must answer with the turn's chunk or entities, per retriever. The
    /// probe vectors and the stored ones come from the same deterministic embedder and every
    /// probe's words occur in exactly one turn, so every probe is expected to be found.
    static let requiredShare = 1.0
    static let dimensions = 64
    static let model = "memify-test-embed"

    // MARK: corpus

    struct Turn {
        var session: String
        var question: String
        var answer: String
        /// Words that occur in this turn only: the probe question is made of them.
        var probe: String
    }

    /// 12 sessions of 5 turns; every answer names a made-up person, thing and place nobody else has.
    static func corpus() -> [Turn] {
        var random = SplitMix64(seed: 19)
        let syllables = ["zor", "vak", "que", "lith", "bran", "dle", "moor", "kes", "trin", "olo", "pha", "gur", "vex", "ilm",
                         "sarn", "udo", "wyr", "ceth", "nob", "rix", "tal", "emb", "fyn", "hask"]
        var used = Set<String>()
        func word() -> String {
            while true {
                let parts = (0..<3).map { _ in syllables[Int(random.next() % UInt64(syllables.count))] }
                let w = parts.joined()
                if used.insert(w).inserted { return w }
            }
        }
        let verbs = ["repaired", "painted", "sold", "buried", "found"]
        return (0..<turnCount).map { i in
            let first = word().capitalized, last = word().capitalized, thing = word(), place = word().capitalized
            let year = 1900 + i
            let session = "vec-session-\(i / 5)"
            return Turn(session: session, question: "What happened to the \(thing)?",
                        answer: "\(first) \(last) \(verbs[i % verbs.count]) the \(thing) in \(place) during \(year).",
                        probe: "What did \(first) \(last) do with the \(thing) in \(place)?")
        }
    }

    static func writeCache(_ turns: [Turn], directory: String) throws {
        let writer = try SQLCacheWriter(database: .sqlite(path: directory + "/cache.db"), ttlSeconds: nil)
        defer { writer.close() }
        var sessions: [(SessionKey, [SessionQAEntry])] = []
        for (i, turn) in turns.enumerated() {
            let entry = SessionQAEntry(time: SyntheticCorpus.isoTime(1_795_000_000 + Double(i) * 60), question: turn.question,
                                       context: "", answer: turn.answer, qaID: "qa-vec-\(i)")
            if let last = sessions.indices.last, sessions[last].0.sessionID == turn.session {
                sessions[last].1.append(entry)
            } else {
                sessions.append((SessionKey(userID: "vec-user", sessionID: turn.session), [entry]))
            }
        }
        try writer.append(entries: sessions)
    }

    /// One probe per turn: the turn's chunk (found by its answer in the chunk text) and the
    /// entities the chunk `contains`.
    static func probes(_ turns: [Turn], graph: GraphSnapshot) throws -> [[String: Any]] {
        let chunks = graph.nodes.filter { $0.node.type == "DocumentChunk" }
        return try turns.map { turn in
            let matching = chunks.filter {
                if case .string(let text)? = $0.node.properties["text"] { return text.contains(turn.answer) }
                return false
            }
            guard matching.count == 1, let chunk = matching.first, case .string(let text)? = chunk.node.properties["text"] else {
                throw FixtureError("\(matching.count) chunks hold the answer \(turn.answer.debugDescription)")
            }
            let entities = graph.edges.filter { $0.edge.sourceID == chunk.node.id && $0.edge.relationshipName == "contains" }
                .map(\.edge.targetID)
            return ["question": turn.probe, "chunk_id": chunk.node.id, "chunk_text": text, "entities": entities]
        }
    }

    // MARK: processes

    /// `scripts/probe-vectors-embed-server.py` on a free loopback port; returns it and its base URL.
    /// Stop it with ``stop(_:)``.
    static func startEmbeddingServer(python: String) throws -> (Process, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [TestEnvironment.repositoryDirectory + "/scripts/probe-vectors-embed-server.py", "0", "-", "\(dimensions)"]
        let out = Pipe()
        process.standardOutput = out
        // Not the test's own stderr: a child holding that pipe would keep `swift test` waiting.
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let url = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard url.hasPrefix("http://127.0.0.1:") else {
            stop(process)
            throw FixtureError("the embedding server did not start: \(url.debugDescription)")
        }
        return (process, url)
    }

    /// SIGKILL, not terminate(): a child spawned from a test thread may inherit a blocked SIGTERM.
    static func stop(_ process: Process) {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    struct ScriptRun {
        var status: Int32
        var report: [String: Any]
        var stdout: String
        var stderrTail: String
    }

    /// Runs `scripts/cognee-vector-interop.py` with cognee's python; its report is one JSON object on stdout.
    static func interop(_ arguments: [String], python: String, tag: String) throws -> ScriptRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [TestEnvironment.repositoryDirectory + "/scripts/cognee-vector-interop.py"] + arguments
        let out = Pipe()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("memify-vector-interop-\(tag).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let report = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        let tail = String((try? String(contentsOf: log, encoding: .utf8))?.suffix(4000) ?? "")
        return ScriptRun(status: process.terminationStatus, report: report, stdout: String(text.suffix(4000)), stderrTail: tail)
    }

    /// The search report's totals, checked against ``requiredShare``.
    static func expectFound(_ run: ScriptRun, probes: Int, _ label: String) {
        #expect(run.status == 0 || run.status == 1, "\(label): the script failed: \(run.stdout)\n\(run.stderrTail)")
        guard let totals = run.report["totals"] as? [String: Any] else {
            Issue.record("\(label): no totals in the report: \(run.stdout)\n\(run.stderrTail)")
            return
        }
        let required = Int((Double(probes) * requiredShare).rounded(.up))
        let hybrid = totals["hybrid_found"] as? Int ?? -1, graph = totals["graph_found"] as? Int ?? -1
        let misses = (run.report["probes"] as? [[String: Any]] ?? []).filter {
            ($0["hybrid_found"] as? Bool) != true || ($0["graph_found"] as? Bool) != true
        }.prefix(5)
        #expect(totals["probes"] as? Int == probes, "\(label): \(totals)")
        #expect(hybrid >= required, "\(label): HybridRetriever found \(hybrid) of \(probes) (need \(required)); \(totals); first misses: \(misses)")
        #expect(graph >= required, "\(label): GraphCompletionRetriever found \(graph) of \(probes) (need \(required)); \(totals); first misses: \(misses)")
        #expect((run.report["errors"] as? [Any])?.isEmpty ?? false, "\(label): \(run.report["errors"] ?? "no errors field")")
    }

    /// The same three options for the worker and for the script.
    func embeddingArguments(_ url: String) -> [String] {
        ["--embedding-endpoint", url, "--embedding-model", Self.model, "--embedding-dimensions", "\(Self.dimensions)"]
    }

    // MARK: tests

    @Test("PostgreSQL + pgvector: hybrid and graph-completion search find every turn; cognee's own cognify and delete leave the worker's rows",
          .enabled(if: TestEnvironment.pgvectorAvailable || TestEnvironment.serversRequired,
                   "needs a PostgreSQL with pgvector: MEMIFY_PG_BIN=$(scripts/pgvector-bin) scripts/servers start"),
          .timeLimit(.minutes(10)))
    func postgres() async throws {
        try #require(TestEnvironment.pgvectorAvailable,
                     "MEMIFY_REQUIRE_SERVERS=1 but the test PostgreSQL has no pgvector (MEMIFY_TEST_PGVECTOR unset)")
        let python = try #require(TestEnvironment.cogneePython)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memify-vec-pg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let turns = Self.corpus()
        try Self.writeCache(turns, directory: directory)
        let (server, embedURL) = try Self.startEmbeddingServer(python: python)
        defer { Self.stop(server) }
        let url = try await PostgresTestDatabase.create(prefix: "memify_vec")

        let run = try WorkerProcess.run(["run", "--cache", "sqlite:" + directory, "--graph", url, "--state", directory + "/state.db",
                                         "--json", "--no-progress"] + embeddingArguments(embedURL))
        try #require(run.status == 0, "worker: \(run.stderr)")
        let writer = try await PostgresGraphWriter.connect(conninfo: url)
        let probes = try Self.probes(turns, graph: try await writer.snapshot())
        let file = directory + "/probes.json"
        try JSONSerialization.data(withJSONObject: probes).write(to: URL(fileURLWithPath: file))

        let search = try Self.interop(["search", "--postgres", url] + embeddingArguments(embedURL) + ["--probes", file],
                                      python: python, tag: "pg-search")
        Self.expectFound(search, probes: turns.count, "pgvector")

        let cognify = try Self.interop(["cognify", "--postgres", url] + embeddingArguments(embedURL), python: python, tag: "pg-cognify")
        #expect(cognify.status == 0, "cognify: \(cognify.stdout)\n\(cognify.stderrTail)")
        #expect((cognify.report["problems"] as? [Any])?.isEmpty == true, "cognify: \(cognify.stdout)")
        // The worker's rows are still searchable after cognee wrote and deleted its own.
        let again = try Self.interop(["search", "--postgres", url] + embeddingArguments(embedURL) + ["--probes", file],
                                     python: python, tag: "pg-search-after")
        Self.expectFound(again, probes: turns.count, "pgvector after cognee's cognify and delete")
        try? await PostgresTestDatabase.drop(url)
    }

    @Test("embedded SQLite file read by cognee's turso providers: hybrid and graph-completion search find every turn",
          .timeLimit(.minutes(10)))
    func turso() async throws {
        let python = try #require(TestEnvironment.cogneePython)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memify-vec-turso-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let turns = Self.corpus()
        try Self.writeCache(turns, directory: directory)
        let (server, embedURL) = try Self.startEmbeddingServer(python: python)
        defer { Self.stop(server) }
        let graphPath = directory + "/graph.db"

        let run = try WorkerProcess.run(["run", "--cache", "sqlite:" + directory, "--graph", "sqlite:" + graphPath,
                                         "--state", directory + "/state.db", "--json", "--no-progress"] + embeddingArguments(embedURL))
        try #require(run.status == 0, "worker: \(run.stderr)")
        let probes = try Self.probes(turns, graph: try await SQLiteGraphWriter.open(path: graphPath).snapshot())
        let file = directory + "/probes.json"
        try JSONSerialization.data(withJSONObject: probes).write(to: URL(fileURLWithPath: file))

        // The worker is done with the file: pyturso and stock SQLite must never have it open at once.
        let search = try Self.interop(["search", "--turso", graphPath] + embeddingArguments(embedURL) + ["--probes", file],
                                      python: python, tag: "turso-search")
        Self.expectFound(search, probes: turns.count, "turso")
    }
}

/// Whether the built worker takes `--embedding-endpoint` (issue 19's worker side): asked once.
enum WorkerEmbeddingOptions {
    static let present: Bool = {
        guard let help = try? WorkerProcess.run(["run", "--help"]) else { return false }
        return (help.stdoutText + help.stderr).contains("--embedding-endpoint")
    }()
}

@Suite("pgvector on the test PostgreSQL")
struct PgvectorServerTests {
    @Test("CREATE EXTENSION vector works in a new database", .enabled(if: TestEnvironment.pgvectorAvailable, "MEMIFY_TEST_PGVECTOR is not set"))
    func extensionAvailable() async {
        #expect(await PostgresTestDatabase.pgvectorWorks())
    }
}
