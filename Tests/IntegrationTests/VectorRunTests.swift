import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import TestSupport
import Testing

/// `run` with vectors on, end to end: the built worker, a filesystem cache, a loopback
/// embedding server in this process, the embedded graph and PostgreSQL + pgvector. After every
/// run the collections hold exactly the vectors of the rows the graph holds.
enum VectorRun {
    static let dimensions = 16

    enum Backend {
        case sqlite(path: String)
        case postgres(url: String, schema: String)

        var arguments: [String] {
            switch self {
            case .sqlite(let path): return ["--graph", "sqlite:" + path]
            case .postgres(let url, let schema): return ["--graph", url, "--schema", schema]
            }
        }

        func writer() async throws -> any GraphWriter {
            switch self {
            case .sqlite(let path): return try await SQLiteGraphWriter.open(path: path)
            case .postgres(let url, let schema): return try await PostgresGraphWriter.connect(conninfo: url, placement: .shared(schema: schema))
            }
        }

        /// Every collection's rows: id → stored text.
        func vectors() async throws -> [String: [String: String]] {
            switch self {
            case .sqlite(let path):
                let db = try SQLiteDatabase(path: path, mode: .readOnly)
                var out: [String: [String: String]] = [:]
                let tables = try db.withStatement("SELECT name FROM sqlite_master WHERE type = 'table'", operation: "t") {
                    stmt throws(DatabaseError) -> [String] in
                    var names: [String] = []
                    while try stmt.step() { if let n = stmt.text(0) { names.append(n) } }
                    return names
                }
                for collection in VectorIndex.collections where tables.contains(collection) {
                    out[collection] = try db.withStatement("SELECT id, json_extract(payload, '$.text') FROM \"\(collection)\"", operation: "read") {
                        stmt throws(DatabaseError) -> [String: String] in
                        var rows: [String: String] = [:]
                        while try stmt.step() { rows[stmt.text(0) ?? ""] = stmt.text(1) ?? "" }
                        return rows
                    }
                }
                return out
            case .postgres(let url, let schema):
                return try await BlockingExecutor(label: "test.vectors").run { () throws -> [String: [String: String]] in
                    let connection = try PostgresConnection(conninfo: url)
                    defer { connection.close() }
                    var out: [String: [String: String]] = [:]
                    for collection in VectorIndex.collections {
                        let exists = try connection.query("SELECT to_regclass(format('%I.%I', $1::text, $2::text)) IS NOT NULL", [schema, collection],
                                                          operation: "t")
                        guard exists.first?[0] == "t" else { continue }
                        var rows: [String: String] = [:]
                        for row in try connection.query("SELECT id::text, payload->>'text' FROM \"\(schema)\".\"\(collection)\"", operation: "read") {
                            rows[row[0] ?? ""] = row[1] ?? ""
                        }
                        out[collection] = rows
                    }
                    return out
                }
            }
        }
    }

    static func entry(_ session: String, _ i: Int, answer: String? = nil) -> SessionQAEntry {
        SessionQAEntry(time: SyntheticCorpus.isoTime(1_795_000_000 + Double(i) * 60), question: "Where did traveller \(i) of \(session) go?",
                       context: "", answer: answer ?? "Traveller \(i) Quillon moved to Paris in \(2000 + i).", qaID: "qa-\(session)-\(i)")
    }

    static func cache(_ root: String, _ name: String, _ sessions: [String: [SessionQAEntry]]) throws -> String {
        let path = root + "/" + name
        try FileCacheWriter(directory: path + "/.cognee_fs_cache/sessions_db", ttlSeconds: nil).write(
            entries: sessions.sorted { $0.key < $1.key }.map { (SessionKey(userID: "u-vectors", sessionID: $0.key), $0.value) })
        return path
    }

    static func run(_ cache: String, _ backend: Backend, state: String, server: EmbeddingTestServer, dimensions: Int = dimensions,
                    environment: [String: String] = [:]) throws -> WorkerProcess.Outcome {
        try WorkerProcess.run(["run", "--cache", "fs:" + cache, "--state", state, "--json", "--no-progress",
                               "--embedding-endpoint", server.endpoint, "--embedding-provider", "openai_compatible",
                               "--embedding-model", "test-embed", "--embedding-dimensions", "\(dimensions)"] + backend.arguments,
                              environment: environment)
    }

    /// The collections hold one vector per indexed node of the graph and one per distinct edge
    /// text, nothing else, each with the text it was embedded from.
    static func expectInStep(_ backend: Backend, _ label: String) async throws {
        let snapshot = try await backend.writer().snapshot()
        let points = VectorIndex.points(for: GraphBatch(nodes: snapshot.nodes.map(\.node), edges: snapshot.edges.map(\.edge)))
        var expected: [String: [String: String]] = [:]
        for point in points { expected[point.collection, default: [:]][point.id] = point.text }
        let stored = try await backend.vectors()
        for collection in VectorIndex.collections {
            let have = stored[collection] ?? [:], want = expected[collection] ?? [:]
            let extra = have.filter { want[$0.key] != $0.value }.map(\.value).sorted()
            let missing = want.filter { have[$0.key] != $0.value }.map(\.value).sorted()
            #expect(extra.isEmpty && missing.isEmpty, "\(label): \(collection) is not in step with the graph: extra \(extra), missing \(missing)")
        }
    }

    static func sentTexts(_ server: EmbeddingTestServer) -> [String] { server.requests.flatMap(\.texts) }

    static func lifecycle(_ backend: Backend, root: String) async throws {
        let server = EmbeddingTestServer(dimensions: dimensions)
        _ = try server.start()
        defer { server.stop() }
        let state = root + "/state.db"
        let v1 = try cache(root, "v1", ["s0": (0..<3).map { entry("s0", $0) }, "s1": (0..<2).map { entry("s1", $0) }])
        let first = try run(v1, backend, state: state, server: server)
        #expect(first.status == 0, "\(first.stderr)")
        let summary = try RunPipelineTests.summary(first)
        let sentFirst = sentTexts(server)
        #expect(summary["turns_new"] == 5)
        #expect(!sentFirst.isEmpty && summary["texts_embedded"] == sentFirst.count, "the summary counts what was sent")
        #expect(Set(sentFirst).count == sentFirst.count, "no text is sent twice, even one every turn names")
        try await expectInStep(backend, "first run")
        #expect(try await backend.vectors()["DocumentChunk_text"]?.count == 5)

        // A rerun sends nothing.
        server.resetRecording()
        let again = try run(v1, backend, state: state, server: server)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(server.requests.isEmpty, "a rerun makes no embedding request")

        // An edit: only texts never embedded before are sent, all of them from the edited turn.
        server.resetRecording()
        let edited = "Traveller 1 Quillon moved to Lyon in 2031."
        var s0 = (0..<3).map { entry("s0", $0) }
        s0[1] = entry("s0", 1, answer: edited)
        let v2 = try cache(root, "v2", ["s0": s0, "s1": (0..<2).map { entry("s1", $0) }])
        let third = try run(v2, backend, state: state, server: server)
        #expect(third.status == 0, "\(third.stderr)")
        let sentEdit = sentTexts(server)
        #expect(!sentEdit.isEmpty)
        #expect(Set(sentEdit).isDisjoint(with: sentFirst), "a text embedded once is never paid for again")
        #expect(sentEdit.count * 3 < sentFirst.count, "only the edited turn's new texts: \(sentEdit)")
        #expect(sentEdit.contains { $0.lowercased().contains("lyon") }, "the edited turn's texts are embedded: \(sentEdit)")
        #expect(!sentEdit.contains("paris"), "an entity embedded before comes from the cache")
        try await expectInStep(backend, "after an edit")

        // A deletion: the turn's vectors go with its rows; shared rows keep theirs.
        let v3 = try cache(root, "v3", ["s0": [s0[0], s0[1]], "s1": (0..<2).map { entry("s1", $0) }])
        let fourth = try run(v3, backend, state: state, server: server)
        #expect(fourth.status == 0, "\(fourth.stderr)")
        #expect(try RunPipelineTests.summary(fourth)["turns_deleted"] == 1)
        #expect(try RunPipelineTests.summary(fourth)["vectors_deleted"] ?? 0 > 0)
        let chunks = try await backend.vectors()["DocumentChunk_text"] ?? [:]
        #expect(chunks.count == 4 && !chunks.values.contains { $0.contains("in 2002") }, "the deleted turn's chunk vector is gone")
        #expect(try await backend.vectors()["Entity_name"]?.values.contains("paris") == true, "an entity other turns name keeps its vector")
        try await expectInStep(backend, "after a deletion")

        // Another width: exit 64 before anything is embedded or written.
        server.resetRecording()
        let nodesBefore = try await backend.writer().snapshot().nodes.count
        let v4 = try cache(root, "v4", ["s0": [s0[0], s0[1]], "s1": (0..<2).map { entry("s1", $0) }, "s2": [entry("s2", 7)]])
        let wrong = try run(v4, backend, state: state, server: server, dimensions: 8)
        #expect(wrong.status == 64, "\(wrong.stderr)")
        #expect(wrong.stderr.contains("16-dimensional") && wrong.stderr.contains("test-embed@8"), "\(wrong.stderr)")
        #expect(server.requests.isEmpty, "nothing was embedded")
        #expect(try await backend.writer().snapshot().nodes.count == nodesBefore, "nothing was written")
    }
}

@Suite("run with vectors: embedded SQLite (Turso layout)")
struct SQLiteVectorRunTests {
    @Test("rerun sends nothing, an edit only its new texts, a deletion removes its vectors, another width exits 64")
    func lifecycle() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("memify-vecrun-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try await VectorRun.lifecycle(.sqlite(path: root + "/graph.db"), root: root)
    }

    @Test("another model of the same width re-derives every turn once, embedding every text again; then nothing")
    func modelChange() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("memify-vecrun-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let server = EmbeddingTestServer(dimensions: VectorRun.dimensions)
        _ = try server.start()
        defer { server.stop() }
        let backend = VectorRun.Backend.sqlite(path: root + "/graph.db")
        let cache = try VectorRun.cache(root, "c", ["s0": (0..<3).map { VectorRun.entry("s0", $0) }])
        func run(model: String) throws -> [String: Int] {
            let outcome = try WorkerProcess.run(["run", "--cache", "fs:" + cache, "--state", root + "/state.db", "--json", "--no-progress",
                                                 "--embedding-endpoint", server.endpoint, "--embedding-provider", "openai_compatible",
                                                 "--embedding-model", model, "--embedding-dimensions", "\(VectorRun.dimensions)"] + backend.arguments)
            #expect(outcome.status == 0, "\(outcome.stderr)")
            return try RunPipelineTests.summary(outcome)
        }
        let first = try run(model: "model-a")
        let sentA = VectorRun.sentTexts(server)
        server.resetRecording()
        let switched = try run(model: "model-b")
        #expect(switched["turns_changed"] == 3 && first["turns_new"] == 3, "every turn is re-derived once: \(switched)")
        #expect(Set(VectorRun.sentTexts(server)) == Set(sentA), "every text is embedded again by the new model (the cache is per model)")
        try await VectorRun.expectInStep(backend, "after a model change")
        server.resetRecording()
        let again = try run(model: "model-b")
        #expect(again["turns_unchanged"] == 3 && server.requests.isEmpty, "once")
    }

    @Test("a refused key exits 69 naming the endpoint, never the key, and writes nothing")
    func refusedKey() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("memify-vecrun-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let server = EmbeddingTestServer(dimensions: VectorRun.dimensions)
        _ = try server.start()
        defer { server.stop() }
        server.failNext(1, with: .unauthorized)
        let cache = try VectorRun.cache(root, "c", ["s0": [VectorRun.entry("s0", 0)]])
        let outcome = try VectorRun.run(cache, .sqlite(path: root + "/graph.db"), state: root + "/state.db", server: server,
                                        environment: ["EMBEDDING_API_KEY": "sk-secret-embedding-key-123"])
        #expect(outcome.status == 69, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("127.0.0.1"), "the message names the endpoint: \(outcome.stderr)")
        #expect(!outcome.stderr.contains("sk-secret") && !outcome.stdoutText.contains("sk-secret"), "the key never reaches output")
        #expect(server.requests.first?.headers["authorization"] == "Bearer sk-secret-embedding-key-123", "the key was sent as cognee sends it")
        let snapshot = try await SQLiteGraphWriter.open(path: root + "/graph.db").snapshot()
        #expect(!snapshot.nodes.contains { $0.node.type == "DocumentChunk" }, "a batch without its vectors is not written")
        // The next run, with the key accepted, persists the turn.
        let next = try VectorRun.run(cache, .sqlite(path: root + "/graph.db"), state: root + "/state.db", server: server)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try RunPipelineTests.summary(next)["turns_new"] == 1)
    }

    @Test("429 with Retry-After is waited out and retried")
    func rateLimited() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("memify-vecrun-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let server = EmbeddingTestServer(dimensions: VectorRun.dimensions)
        _ = try server.start()
        defer { server.stop() }
        server.failNext(1, with: .rateLimited(retryAfter: "1"))
        let cache = try VectorRun.cache(root, "c", ["s0": [VectorRun.entry("s0", 0)]])
        let started = Date()
        let outcome = try VectorRun.run(cache, .sqlite(path: root + "/graph.db"), state: root + "/state.db", server: server)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(Date().timeIntervalSince(started) >= 1, "Retry-After: 1 was honoured")
        #expect(server.requests.count >= 2)
        try await VectorRun.expectInStep(.sqlite(path: root + "/graph.db"), "after a 429")
    }

    @Test("no endpoint: graph only, said in a warning, the summary and status")
    func vectorsOff() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("memify-vecrun-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let cache = try VectorRun.cache(root, "c", ["s0": [VectorRun.entry("s0", 0)]])
        let outcome = try WorkerProcess.run(["run", "--cache", "fs:" + cache, "--graph", "sqlite:\(root)/graph.db", "--state", root + "/state.db",
                                             "--json", "--no-progress"], environment: ["EMBEDDING_ENDPOINT": "", "EMBEDDING_API_BASE": ""])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("vectors: off"), "\(outcome.stderr)")
        #expect(outcome.stdoutText.contains("\"vectors\":\"off\""))
        #expect(try await VectorRun.Backend.sqlite(path: root + "/graph.db").vectors().isEmpty, "no collection is made")
        let status = try WorkerProcess.run(["status", "--state", root + "/state.db"])
        #expect(status.stdoutText.contains("vectors:      off"), "\(status.stdoutText)")
    }
}

@Suite("run with vectors: PostgreSQL + pgvector",
       .enabled(if: TestEnvironment.postgresURL != nil, "set MEMIFY_TEST_POSTGRES_URL (scripts/test starts a PostgreSQL)"))
struct PostgresVectorRunTests {
    @Test("rerun sends nothing, an edit only its new texts, a deletion removes its vectors, another width exits 64")
    func lifecycle() async throws {
        guard try await TestEnvironment.hasPgvector(), let url = TestEnvironment.postgresURL else { return }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("memify-vecrun-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try await VectorRun.lifecycle(.postgres(url: url, schema: "vr_" + UUID().uuidString.prefix(8).lowercased()), root: root)
    }
}
