import Synchronization
import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import TestSupport
import Testing

/// One contract, run against both backends: the embedded SQLite graph and PostgreSQL.
enum GraphContract {
    static let dataset = "f7b28d3e-b465-5c84-bbd5-93c5529d6536"
    static let nodeSet = GraphIdentity.nodeSet("user_sessions_from_cache")

    static func entity(_ name: String, _ description: String, key: String) -> GraphNode {
        GraphNode(id: GraphIdentity.entity(name), name: GraphIdentity.displayName(name), type: "Entity",
                  properties: JSONObject([("description", .string(description)),
                                          ("belongs_to_set", .array([.string("user_sessions_from_cache")])),
                                          ("metadata", .object(JSONObject([("index_fields", .array([.string("name")]))]))),
                                          ("created_at", .number(JSONNumber(1_795_546_584_000))),
                                          ("feedback_weight", .number(JSONNumber(literal: "0.5", isInteger: false)))]),
                  sourceRefKey: key)
    }

    static func edge(_ from: String, _ relationship: String, _ to: String, text: String, key: String) -> GraphEdge {
        let source = GraphIdentity.entity(from), target = GraphIdentity.entity(to)
        return GraphEdge(sourceID: source, targetID: target, relationshipName: relationship,
                         properties: JSONObject([("source_node_id", .string(source)), ("target_node_id", .string(target)),
                                                 ("relationship_name", .string(relationship)), ("edge_text", .string(text)),
                                                 ("edge_object_id", .string(GraphIdentity.edgeObject(source: source, relationship: relationship, target: target))),
                                                 ("feedback_weight", .number(JSONNumber(literal: "0.5", isInteger: false)))]),
                         sourceRefKey: key)
    }

    static func key(_ n: Int) -> String { SourceRef.chunk(datasetID: dataset, dataID: "doc-\(n)", chunkID: "chunk-\(n)") }

    static func aliceBatch(run: String? = "run-1") -> GraphBatch {
        GraphBatch(nodes: [entity("Alice", "Alice, who moved to Paris in 2010", key: key(1)),
                           entity("Paris", "Capital of France", key: key(1))],
                   edges: [edge("Alice", "moved_to", "Paris", text: "Alice moved to Paris in 2010.", key: key(1))], runID: run)
    }

    static func roundTrip(_ writer: any GraphWriter) async throws {
        let stats = try await writer.write(aliceBatch())
        #expect(stats.nodesWritten == 2 && stats.edgesWritten == 1)
        let snapshot = try await writer.snapshot()
        let alice = try #require(snapshot.nodes.first { $0.node.id == "afc75e41-4df3-5db9-907e-dcf55750efec" })
        #expect(alice.node.name == "alice")
        #expect(alice.node.type == "Entity")
        #expect(JSONValue.object(alice.node.properties).isEquivalent(to: .object(aliceBatch().nodes[0].properties)))
        #expect(alice.sourceRefKeys == [key(1)])
        #expect(alice.sourceDatasetIDs == [dataset])
        #expect(alice.sourceRunIDs == ["run-1"])
        #expect(alice.sourceRunRefs == [SourceRef.runRef(runID: "run-1", key: key(1))])
        let edge = try #require(snapshot.edges.first)
        #expect(edge.edge.relationshipName == "moved_to")
        #expect(edge.edge.properties["edge_object_id"] == .string("f9f17c0b-61eb-5674-bb9f-d49255c47461"))
        #expect(snapshot.metadata["provenance_version"] == "1")
        #expect(snapshot.metadata["delete_mode"] == "graph_native")
    }

    /// A graph written before run ids were UUIDs: `migrate` rewrites them to their uuid5 in both
    /// provenance arrays, keeps cognee's own (UUID) run ids, and keeps the arrays sorted.
    static func runIDUpgrade(_ writer: any GraphWriter, forgetUpgrade: () async throws -> Void) async throws {
        let old = "run-20261204T000253Z-750622e0", cognee = "0c8f2e1a-5b3c-4d7e-9f10-a1b2c3d4e5f6"
        _ = try await writer.write(aliceBatch(run: old))
        _ = try await writer.write(GraphBatch(nodes: [entity("Alice", "Alice, who moved to Paris in 2010", key: key(2))], runID: cognee))
        try await forgetUpgrade()
        try await writer.migrate()
        let new = GraphIdentity.graphRunID(old)
        #expect(GraphIdentity.isUUID(new) && new != old)
        let snapshot = try await writer.snapshot()
        let alice = try #require(snapshot.nodes.first { $0.node.id == GraphIdentity.entity("Alice") })
        #expect(alice.sourceRunIDs == [cognee, new].sorted())
        #expect(alice.sourceRunRefs == [SourceRef.runRef(runID: new, key: key(1)), SourceRef.runRef(runID: cognee, key: key(2))].sorted())
        let edge = try #require(snapshot.edges.first)
        #expect(edge.sourceRunIDs == [new])
        #expect(edge.sourceRunRefs == [SourceRef.runRef(runID: new, key: key(1))])
        for row in snapshot.nodes { #expect(row.sourceRunIDs.allSatisfy(GraphIdentity.isUUID), "\(row.node.id): \(row.sourceRunIDs)") }
        // Written again by the same batches (run ids now as the runner gives them): nothing changes.
        #expect(try await writer.write(aliceBatch(run: new)).nodesWritten == 0)
    }

    static func idempotent(_ writer: any GraphWriter) async throws {
        _ = try await writer.write(aliceBatch())
        let first = try await writer.snapshot()
        let again = try await writer.write(aliceBatch())
        #expect(again.rowsWritten == 0, "an unchanged batch writes nothing")
        #expect(again.nodesUnchanged == 2 && again.edgesUnchanged == 1)
        #expect(try await writer.snapshot() == first)
    }

    static func upsertReplaces(_ writer: any GraphWriter) async throws {
        _ = try await writer.write(aliceBatch())
        var batch = aliceBatch(run: "run-2")
        batch.nodes[0].properties["description"] = .string("Alice, a physicist")
        let stats = try await writer.write(batch)
        #expect(stats.nodesWritten == 1, "only the changed node is rewritten")
        let alice = try #require(try await writer.snapshot().nodes.first { $0.node.id == GraphIdentity.entity("Alice") })
        #expect(alice.node.properties["description"] == .string("Alice, a physicist"))
        #expect(alice.sourceRunIDs == ["run-1"], "the key is not new, so no new run ref")
    }

    static func edgesNeedNodes(_ writer: any GraphWriter) async throws {
        var batch = aliceBatch()
        batch.edges.append(edge("Alice", "met", "Nobody", text: "Alice met nobody.", key: key(1)))
        let error = await #expect(throws: DatabaseError.self) { try await writer.write(batch) }
        #expect(error?.message.contains(GraphIdentity.entity("Nobody")) == true)
        #expect(try await writer.snapshot().nodes.isEmpty, "nothing of the failed batch is written")
    }

    static func retraction(_ writer: any GraphWriter) async throws {
        _ = try await writer.write(aliceBatch())
        _ = try await writer.write(GraphBatch(
            nodes: [entity("Alice", "Alice, who moved to Paris in 2010", key: key(2)), entity("Berlin", "A city", key: key(2))],
            edges: [edge("Alice", "visited", "Berlin", text: "Alice visited Berlin.", key: key(2))], runID: "run-2"))
        let stats = try await writer.retract(sourceRefKey: key(1))
        #expect(stats.nodesDeleted == 1)
        let snapshot = try await writer.snapshot()
        #expect(Set(snapshot.nodes.map(\.node.name)) == ["alice", "berlin"], "paris only had the retracted source")
        let alice = try #require(snapshot.nodes.first { $0.node.name == "alice" })
        #expect(alice.sourceRefKeys == [key(2)])
        #expect(alice.sourceRunRefs == [SourceRef.runRef(runID: "run-2", key: key(2))])
        #expect(alice.sourceRunIDs == ["run-2"])
        #expect(snapshot.edges.map(\.edge.relationshipName) == ["visited"])
        let none = try await writer.retract(sourceRefKey: "source_ref:v2:nothing:here:at-all")
        #expect(none.nodesDeleted == 0 && none.nodesWritten == 0)
    }

    /// A popular entity stops collecting one key per chunk once it has more than the cap: it
    /// owns a key of its own, is not rewritten again, and outlives the retraction of every
    /// chunk that named it; a rarely named one keeps exact provenance and goes with its chunks.
    static func provenanceCap(_ writer: any GraphWriter) async throws {
        let mentions = GraphMerge.provenanceCap + 6
        for n in 1...mentions {
            var nodes = [entity("Alice", "Alice", key: key(n))]
            var edges: [GraphEdge] = []
            if n <= 3 {
                nodes.append(entity("Paris", "Capital of France", key: key(n)))
                edges.append(edge("Alice", "moved_to", "Paris", text: "Alice moved to Paris.", key: key(n)))
            }
            let stats = try await writer.write(GraphBatch(nodes: nodes, edges: edges, runID: "run-\(n)"))
            if n > GraphMerge.provenanceCap + 1 { #expect(stats.rowsWritten == 0, "a capped row is not rewritten (mention \(n))") }
        }
        var snapshot = try await writer.snapshot()
        let alice = try #require(snapshot.nodes.first { $0.node.name == "alice" })
        #expect(alice.sourceRefKeys.count == 1 && alice.sourceRefKeys[0].hasPrefix("source_ref:v1:\(dataset):"),
                "only the row's own key, whichever chunks came first: \(alice.sourceRefKeys.prefix(3))")
        #expect(alice.sourceDatasetIDs == [dataset])
        for n in 1...mentions { _ = try await writer.retract(sourceRefKey: key(n)) }
        snapshot = try await writer.snapshot()
        #expect(snapshot.nodes.map(\.node.name) == ["alice"], "paris went with its three chunks; alice stays")
        #expect(snapshot.nodes.first?.sourceRefKeys.count == 1)
        #expect(snapshot.edges.isEmpty)
    }

    /// The cap counts and collapses only the writing dataset's keys: another dataset's (or
    /// cognee's) keys on the same row are never dropped.
    static func capKeepsOtherDatasets(_ writer: any GraphWriter) async throws {
        let other = "0c0ffee0-0000-4000-8000-000000000000"
        // Fewer than the cap, so the other dataset's own write does not cap the row for it.
        let foreign = (1...(GraphMerge.provenanceCap - 4)).map { SourceRef.chunk(datasetID: other, dataID: "doc-b\($0)", chunkID: "chunk-b\($0)") }
        var first = entity("Alice", "Alice", key: foreign[0])
        first.sourceRefKeys = foreign
        _ = try await writer.write(GraphBatch(nodes: [first], edges: [], runID: "run-b"))
        for n in 1...(GraphMerge.provenanceCap + 5) {
            _ = try await writer.write(GraphBatch(nodes: [entity("Alice", "Alice", key: key(n))], edges: [], runID: "run-a\(n)"))
        }
        let alice = try #require(try await writer.snapshot().nodes.first { $0.node.name == "alice" })
        #expect(Set(foreign).isSubset(of: Set(alice.sourceRefKeys)), "the other dataset's keys stay")
        let ours = alice.sourceRefKeys.filter { SourceRef.datasetID(of: $0) == dataset }
        #expect(ours.count == 1 && ours[0].hasPrefix("source_ref:v1:\(dataset):"), "\(ours.prefix(3))")
        #expect(Set(alice.sourceDatasetIDs) == [dataset, other])
    }

    /// A relationship already stored keeps its properties (cognee's feedback_weight, say); it
    /// only gains provenance.
    static func relationshipKeepsState(_ writer: any GraphWriter) async throws {
        _ = try await writer.write(aliceBatch())
        // Another turn states the same fact with another text: the stored edge is not rewritten.
        var again = aliceBatch(run: "run-3")
        again.nodes = again.nodes.map { var n = $0; n.sourceRefKeys = [key(2)]; return n }
        again.edges[0].sourceRefKeys = [key(2)]
        again.edges[0].properties["edge_text"] = .string("Something else entirely.")
        _ = try await writer.write(again)
        let edge = try #require(try await writer.snapshot().edges.first)
        #expect(edge.edge.properties["edge_text"] == .string("Alice moved to Paris in 2010."), "the stored text stays")
        #expect(edge.sourceRefKeys == [key(1), key(2)])
    }

    static func hostileValues(_ writer: any GraphWriter) async throws {
        let big = String(repeating: "x", count: 1_000_000)
        let nasty = "it's \"quoted\" \\back\\slash\t\ttab\nnewline \u{0}nul '); DROP TABLE graph_node; -- 🧠 \u{2028}"
        var batch = aliceBatch()
        batch.nodes.append(GraphNode(id: "id with 'quote' and \\ backslash", name: nasty, type: "Entity",
                                     properties: JSONObject([("text", .string(big)), ("nasty", .string(nasty))]), sourceRefKey: key(1)))
        _ = try await writer.write(batch)
        let snapshot = try await writer.snapshot()
        #expect(snapshot.nodes.count == 3, "the other rows of the batch are there")
        let odd = try #require(snapshot.nodes.first { $0.node.id == "id with 'quote' and \\ backslash" })
        let expected = nasty.replacingOccurrences(of: "\u{0}", with: "")
        #expect(odd.node.name == expected, "NUL is stripped, everything else kept")
        #expect(odd.node.properties["nasty"] == .string(expected))
        #expect(odd.node.properties["text"] == .string(big))
    }
}

@Suite("Graph contract: embedded SQLite")
struct SQLiteGraphContractTests {
    func writer() async throws -> SQLiteGraphWriter {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("memify-graph-\(UUID().uuidString).db").path
        let writer = try await SQLiteGraphWriter.open(path: path)
        try await writer.migrate()
        try await writer.migrate()  // idempotent
        return writer
    }

    @Test func roundTrip() async throws { try await GraphContract.roundTrip(writer()) }
    @Test func idempotent() async throws { try await GraphContract.idempotent(writer()) }
    @Test func upsertReplaces() async throws { try await GraphContract.upsertReplaces(writer()) }
    @Test func edgesNeedNodes() async throws { try await GraphContract.edgesNeedNodes(writer()) }
    @Test func retraction() async throws { try await GraphContract.retraction(writer()) }
    @Test func hostileValues() async throws { try await GraphContract.hostileValues(writer()) }
    @Test func provenanceCap() async throws { try await GraphContract.provenanceCap(writer()) }
    @Test func capKeepsOtherDatasets() async throws { try await GraphContract.capKeepsOtherDatasets(writer()) }
    @Test func relationshipKeepsState() async throws { try await GraphContract.relationshipKeepsState(writer()) }
    @Test func runIDUpgrade() async throws {
        let writer = try await writer()
        try await GraphContract.runIDUpgrade(writer) {
            try SQLiteDatabase(path: writer.path, mode: .readWrite).execute("DELETE FROM graph_metadata WHERE key = 'memify_run_ids'")
        }
    }
}

@Suite("Graph contract: PostgreSQL",
       .enabled(if: TestEnvironment.postgresURL != nil, "set MEMIFY_TEST_POSTGRES_URL (scripts/test starts a PostgreSQL)"))
struct PostgresGraphContractTests {
    /// A fresh schema per test, so tests run in parallel on one database.
    func writer(_ placement: GraphPlacement? = nil) async throws -> PostgresGraphWriter {
        let url = try #require(TestEnvironment.postgresURL)
        let writer = try await PostgresGraphWriter.connect(
            conninfo: url, placement: placement ?? .shared(schema: "t_" + UUID().uuidString.prefix(8).lowercased()))
        try await writer.migrate()
        try await writer.migrate()  // idempotent
        return writer
    }

    @Test func roundTrip() async throws { try await GraphContract.roundTrip(writer()) }
    @Test func idempotent() async throws { try await GraphContract.idempotent(writer()) }
    @Test func upsertReplaces() async throws { try await GraphContract.upsertReplaces(writer()) }
    @Test func edgesNeedNodes() async throws { try await GraphContract.edgesNeedNodes(writer()) }
    @Test func retraction() async throws { try await GraphContract.retraction(writer()) }
    @Test func hostileValues() async throws { try await GraphContract.hostileValues(writer()) }
    @Test func provenanceCap() async throws { try await GraphContract.provenanceCap(writer()) }
    @Test func capKeepsOtherDatasets() async throws { try await GraphContract.capKeepsOtherDatasets(writer()) }
    @Test func relationshipKeepsState() async throws { try await GraphContract.relationshipKeepsState(writer()) }
    @Test func runIDUpgrade() async throws {
        let writer = try await writer()
        try await GraphContract.runIDUpgrade(writer) { try await writer.execute("DELETE FROM memify_schema_version") }
    }

    @Test("both backends store the same graph for the same batches")
    func backendsAgree() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("memify-graph-\(UUID().uuidString).db").path
        let sqlite = try await SQLiteGraphWriter.open(path: path)
        try await sqlite.migrate()
        let postgres = try await writer()
        for w in [sqlite as any GraphWriter, postgres as any GraphWriter] {
            _ = try await w.write(GraphContract.aliceBatch())
            _ = try await w.retract(sourceRefKey: GraphContract.key(9))
        }
        let a = try await sqlite.snapshot(), b = try await postgres.snapshot()
        #expect(a.nodes.map(\.node.id) == b.nodes.map(\.node.id))
        #expect(a.edges.map(\.edge.key) == b.edges.map(\.edge.key))
        #expect(zip(a.nodes, b.nodes).allSatisfy { JSONValue.object($0.node.properties).isEquivalent(to: .object($1.node.properties)) && $0.provenance == $1.provenance })
    }

    @Test("one schema per dataset: ds_<uuid hex>, isolated from the shared graph")
    func perDataset() async throws {
        let dataset = UUID().uuidString.lowercased()
        let writer = try await writer(.perDataset(datasetID: dataset))
        #expect(writer.placement.schema == "ds_" + dataset.replacingOccurrences(of: "-", with: ""))
        _ = try await writer.write(GraphContract.aliceBatch())
        #expect(try await writer.snapshot().nodes.count == 2)
        let other = try await self.writer()
        #expect(try await other.snapshot().nodes.isEmpty)
    }

    @Test("the run lock's connection reads a current graph's identity; a deferred writer connects once, on its first write")
    func deferredWriter() async throws {
        let url = try #require(TestEnvironment.postgresURL)
        let placement = GraphPlacement.shared(schema: "t_defer_" + UUID().uuidString.prefix(8).lowercased())
        let lock = try #require(try await PostgresRunLock.acquire(conninfo: url, scope: "deferred \(placement.schema)", holderName: "test").lock)
        #expect(try await lock.currentGraphIdentity(placement: placement) == nil, "no schema yet")
        let direct = try await writer(placement)
        #expect(try await lock.currentGraphIdentity(placement: placement) == nil, "migrated, but no identity made yet")
        let identity = try await direct.identity()
        #expect(try await lock.currentGraphIdentity(placement: placement) == identity)

        let opens = Mutex(0)
        let deferred = DeferredGraphWriter(location: "test", identity: identity) {
            opens.withLock { $0 += 1 }
            return try await PostgresGraphWriter.connect(conninfo: url, placement: placement)
        }
        #expect(try await deferred.identity() == identity)
        #expect(opens.withLock { $0 } == 0 && !deferred.isConnected, "asking for the identity connects nothing")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<4 { group.addTask { _ = try await deferred.write(GraphContract.aliceBatch(run: "run-\(i)")) } }
            try await group.waitForAll()
        }
        #expect(opens.withLock { $0 } == 1, "concurrent first writes share one connection")
        let viaDeferred = try await deferred.snapshot(), viaDirect = try await direct.snapshot()
        #expect(viaDeferred.nodes.map(\.node.id) == viaDirect.nodes.map(\.node.id) && viaDirect.nodes.count == 2)

        // A writer that reaches another graph (a conninfo with several hosts) writes nothing.
        let otherPlacement = GraphPlacement.shared(schema: placement.schema + "_other")
        let misdirected = DeferredGraphWriter(location: "test", identity: identity) {
            try await PostgresGraphWriter.connect(conninfo: url, placement: otherPlacement)
        }
        await #expect(throws: DatabaseError.self) { _ = try await misdirected.write(GraphContract.aliceBatch()) }
        let other = try await PostgresGraphWriter.connect(conninfo: url, placement: otherPlacement)
        #expect(try await other.snapshot().nodes.isEmpty)

        // A schema version other than this build's: not current, the writer must migrate.
        try await direct.execute("DELETE FROM memify_schema_version")
        #expect(try await lock.currentGraphIdentity(placement: placement) == nil)
        await lock.release()
    }

    @Test("migrate upgrades tables cognee created before provenance, keeping their rows")
    func upgradesCogneeTables() async throws {
        let schema = "t_old_" + UUID().uuidString.prefix(8).lowercased()
        let url = try #require(TestEnvironment.postgresURL)
        let writer = try await PostgresGraphWriter.connect(conninfo: url, placement: .shared(schema: schema))
        try await writer.execute("""
            CREATE SCHEMA \(schema);
            CREATE TABLE \(schema).graph_metadata (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
            CREATE TABLE \(schema).graph_node (id VARCHAR PRIMARY KEY, name VARCHAR, type VARCHAR, properties JSONB,
              created_at TIMESTAMPTZ DEFAULT now(), updated_at TIMESTAMPTZ DEFAULT now());
            CREATE TABLE \(schema).graph_edge (source_id VARCHAR NOT NULL REFERENCES \(schema).graph_node(id) ON DELETE CASCADE,
              target_id VARCHAR NOT NULL REFERENCES \(schema).graph_node(id) ON DELETE CASCADE, relationship_name VARCHAR NOT NULL,
              properties JSONB, created_at TIMESTAMPTZ DEFAULT now(), updated_at TIMESTAMPTZ DEFAULT now(),
              PRIMARY KEY (source_id, target_id, relationship_name));
            INSERT INTO \(schema).graph_node (id, name, type, properties) VALUES ('cognee-node', 'bob', 'Entity', '{"description": "written by cognee"}');
            """)
        try await writer.migrate()
        try await writer.migrate()
        let snapshot = try await writer.snapshot()
        let old = try #require(snapshot.nodes.first { $0.node.id == "cognee-node" })
        #expect(old.node.properties["description"] == .string("written by cognee"))
        #expect(old.sourceRefKeys.isEmpty)
        _ = try await writer.write(GraphContract.aliceBatch())
        let after = try await writer.snapshot()
        #expect(after.nodes.count == 3)
        #expect(after.metadata["provenance_version"] == nil, "a non-empty unmarked graph is never marked")
    }

    @Test("an unreachable PostgreSQL is a connection error naming where, without the password")
    func unreachable() async throws {
        let error = await #expect(throws: DatabaseError.self) {
            _ = try await PostgresGraphWriter.connect(conninfo: "postgresql://worker:hunter2@127.0.0.1:1/graph?connect_timeout=2")
        }
        #expect(error?.code == .connectionFailed)
        #expect(error?.description.contains("127.0.0.1") == true)
        #expect(error?.description.contains("hunter2") == false)
    }
}
