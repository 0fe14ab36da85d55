import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import TestSupport
import Testing

/// What the vector collections hold after commits, read back the way cognee reads them.
struct StoredVector: Equatable {
    var payload: JSONObject
    var vector: [Float]
    var text: String? { if case .string(let s)? = payload["text"] { return s } else { return nil } }
    var sets: [String] {
        guard case .array(let items)? = payload["belongs_to_set"] else { return [] }
        return items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
    }
}

/// One contract for both backends: cognee's collections, filled from a batch's rows, kept in
/// step with retractions, guarded by their width.
enum VectorContract {
    static let dataset = GraphContract.dataset
    static let dimensions = 4

    /// A stand-in model: a vector every text maps to, distinct for distinct lengths and sums.
    static func vector(_ text: String) -> [Float] {
        let bytes = Array(text.utf8)
        return [Float(bytes.count), Float(bytes.reduce(0) { $0 &+ Int($1) } % 101), 1, -0.5]
    }

    static func document(_ n: Int, _ text: String, entities: [ExtractedGraph.Entity]) -> (GraphBatch, builder: CogneeDocumentBuilder) {
        let builder = CogneeDocumentBuilder(datasetID: dataset, documentID: GraphIdentity.uuid5("doc-\(n)"), text: text,
                                            timestampMillis: 1_795_546_584_000 + Int64(n))
        var batch = builder.build(ExtractedGraph(entities: entities, relations: [], summary: "Summary \(n): " + text.prefix(20)))
        batch.runID = GraphIdentity.graphRunID("run-\(n)")
        return (batch, builder)
    }

    static func vectors(_ batch: GraphBatch, dimensions: Int = dimensions) -> VectorBatch {
        var points = VectorIndex.points(for: batch)
        for i in points.indices { points[i].vector = Array(vector(points[i].text).prefix(dimensions)) + Array(repeating: 0, count: max(0, dimensions - 4)) }
        return VectorBatch(dimensions: dimensions, identity: "test-model@\(dimensions)", points: points)
    }

    static let alice = ExtractedGraph.Entity(name: "Alice", type: "person", description: "A traveller")
    static let paris = ExtractedGraph.Entity(name: "Paris", type: "city", description: "Capital of France")
    static let berlin = ExtractedGraph.Entity(name: "Berlin", type: "city", description: "Capital of Germany")

    static func contract(_ writer: any GraphWriter, read: @Sendable () async throws -> [String: [String: StoredVector]]) async throws {
        let (one, b1) = document(1, "Where did Alice move?\nAlice moved to Paris in 2010.", entities: [alice, paris])
        let (two, b2) = document(2, "Did Alice visit Berlin?\nYes, Alice visited Berlin.", entities: [alice, berlin])
        let first = try await writer.commit(GraphCommit(batch: one, datasetID: dataset, vectors: vectors(one)))
        #expect(first.vectorsWritten == VectorIndex.points(for: one).count)
        _ = try await writer.commit(GraphCommit(batch: two, datasetID: dataset, vectors: vectors(two)))
        var stored = try await read()
        #expect(Set(stored.keys) == Set(VectorIndex.collections), "every collection cognee searches exists")
        #expect(try await writer.vectorWidths() == Dictionary(uniqueKeysWithValues: VectorIndex.collections.map { ($0, dimensions) }))

        // One row per indexed node, id = node id, text = the indexed field, vector = its embedding.
        let chunks = try #require(stored["DocumentChunk_text"])
        #expect(Set(chunks.keys) == [b1.chunkID, b2.chunkID])
        let chunk = try #require(chunks[b1.chunkID])
        #expect(chunk.text == b1.text)
        #expect(chunk.vector == vector(b1.text))
        #expect(chunk.sets == ["user_sessions_from_cache"])
        #expect(chunk.payload["document_id"] == .string(b1.documentID))
        #expect(chunk.payload["document_name"] == .string(b1.documentName))
        #expect(chunk.payload["type"] == .string("IndexSchema"))
        let summary = try #require(stored["TextSummary_text"]?[GraphIdentity.textSummary(chunkID: b1.chunkID)])
        #expect(summary.payload["source_chunk_id"] == .string(b1.chunkID), "hybrid search pairs summaries with chunks by it")
        #expect(Set(stored["Entity_name"]?.values.compactMap(\.text) ?? []) == ["alice", "paris", "berlin"])
        #expect(stored["Entity_name"]?[GraphIdentity.entity("Alice")]?.vector == vector("alice"))
        #expect(Set(stored["EntityType_name"]?.values.compactMap(\.text) ?? []) == ["person", "city"])
        #expect(Set(stored["TextDocument_name"]?.keys.map { $0 } ?? []) == [b1.documentID, b2.documentID])
        // Edge texts: one row per distinct text, id from the text.
        let edgeTexts = Set((one.edges + two.edges).map { VectorIndex.edgeText($0.properties, relationshipName: $0.relationshipName) })
        let edgeTypes = try #require(stored[VectorIndex.edgeCollection])
        #expect(Set(edgeTypes.keys) == Set(edgeTexts.map(GraphIdentity.edgeType)))
        #expect(edgeTypes[GraphIdentity.edgeType("alice is a person.")]?.text == "alice is a person.")

        // The same batch again changes nothing.
        let again = try await writer.commit(GraphCommit(batch: two, datasetID: dataset, vectors: vectors(two)))
        #expect(again.vectorsWritten == 0, "unchanged vector rows are not rewritten")

        // Retracting document 1: its chunk, summary and document vectors go; alice, shared with
        // document 2, keeps one vector; paris goes; edge texts no edge has any more go.
        let retracted = try await writer.commit(GraphCommit(retracting: [b1.chunkKey, b1.documentKey], datasetID: dataset))
        #expect(retracted.vectorsDeleted > 0)
        stored = try await read()
        #expect(Set(stored["DocumentChunk_text"]?.keys.map { $0 } ?? []) == [b2.chunkID])
        #expect(stored["TextSummary_text"]?.count == 1)
        #expect(Set(stored["TextDocument_name"]?.keys.map { $0 } ?? []) == [b2.documentID])
        #expect(Set(stored["Entity_name"]?.values.compactMap(\.text) ?? []) == ["alice", "berlin"])
        let snapshot = try await writer.snapshot()
        let liveTexts = Set(snapshot.edges.map { VectorIndex.edgeText($0.edge.properties, relationshipName: $0.edge.relationshipName) })
        #expect(Set(stored[VectorIndex.edgeCollection]?.keys.map { $0 } ?? []) == Set(liveTexts.map(GraphIdentity.edgeType)),
                "an edge text's vector lives exactly as long as an edge with that text")
        #expect(liveTexts.contains("alice is a person."))

        // Another width: refused before anything is written.
        let (three, _) = document(3, "Bob lives in Rome.", entities: [])
        let nodesBefore = snapshot.nodes.count
        await #expect(throws: DatabaseError.self) {
            _ = try await writer.commit(GraphCommit(batch: three, datasetID: dataset, vectors: vectors(three, dimensions: 6)))
        }
        #expect(try await writer.snapshot().nodes.count == nodesBefore, "the batch's graph rows rolled back with it")
    }

    /// Payload `belongs_to_set` is the union of what was stored and what is written.
    static func setsMerge(_ writer: any GraphWriter, read: @Sendable () async throws -> [String: [String: StoredVector]]) async throws {
        var builder = CogneeDocumentBuilder(datasetID: dataset, documentID: GraphIdentity.uuid5("doc-a"), text: "Alice moved.",
                                            timestampMillis: 1)
        let a = builder.build(ExtractedGraph(entities: [alice], summary: "s"))
        builder.documentID = GraphIdentity.uuid5("doc-b")
        builder.text = "Alice again."
        builder.nodeSets = ["other_set"]
        let b = builder.build(ExtractedGraph(entities: [alice], summary: "t"))
        _ = try await writer.commit(GraphCommit(batch: a, datasetID: dataset, vectors: vectors(a)))
        _ = try await writer.commit(GraphCommit(batch: b, datasetID: dataset, vectors: vectors(b)))
        let stored = try await read()
        #expect(Set(stored["Entity_name"]?[GraphIdentity.entity("Alice")]?.sets ?? []) == ["user_sessions_from_cache", "other_set"])
    }
}

@Suite("Vector collections: embedded SQLite (Turso layout)")
struct SQLiteVectorContractTests {
    func make() async throws -> (SQLiteGraphWriter, @Sendable () async throws -> [String: [String: StoredVector]]) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("memify-vectors-\(UUID().uuidString).db").path
        let writer = try await SQLiteGraphWriter.open(path: path)
        try await writer.migrate()
        return (writer, {
            let db = try SQLiteDatabase(path: path, mode: .readOnly)
            var out: [String: [String: StoredVector]] = [:]
            for collection in VectorIndex.collections {
                let exists = try db.withStatement("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", operation: "t") {
                    stmt throws(DatabaseError) -> Bool in
                    try stmt.bind(1, collection)
                    return try stmt.step() && stmt.int64(0) > 0
                }
                guard exists else { continue }
                out[collection] = try db.withStatement("SELECT id, payload, vector FROM \"\(collection)\"", operation: "read") {
                    stmt throws(DatabaseError) -> [String: StoredVector] in
                    var rows: [String: StoredVector] = [:]
                    while try stmt.step() {
                        let blob = stmt.bytes(2)
                        let floats = stride(from: 0, to: blob.count, by: 4).map { i in
                            Float(bitPattern: UInt32(blob[i]) | UInt32(blob[i + 1]) << 8 | UInt32(blob[i + 2]) << 16 | UInt32(blob[i + 3]) << 24)
                        }
                        guard case .object(let payload)? = try? JSONParser.parse(stmt.text(1) ?? "") else { continue }
                        rows[stmt.text(0) ?? ""] = StoredVector(payload: payload, vector: floats)
                    }
                    return rows
                }
            }
            return out
        })
    }

    @Test func contract() async throws {
        let (writer, read) = try await make()
        try await VectorContract.contract(writer, read: read)
    }

    @Test func setsMerge() async throws {
        let (writer, read) = try await make()
        try await VectorContract.setsMerge(writer, read: read)
    }

    @Test("the table is declared as cognee's Turso adapter declares it, the payload as json.dumps writes it")
    func layout() async throws {
        let (writer, _) = try await make()
        let (batch, _) = VectorContract.document(1, "Alice moved to Paris.", entities: [VectorContract.alice])
        _ = try await writer.commit(GraphCommit(batch: batch, datasetID: VectorContract.dataset, vectors: VectorContract.vectors(batch)))
        let db = try SQLiteDatabase(path: writer.path, mode: .readOnly)
        let (sql, payload, size) = try db.withStatement("""
            SELECT (SELECT sql FROM sqlite_master WHERE name = 'Entity_name'), payload, length(vector) FROM "Entity_name"
            """, operation: "read") { stmt throws(DatabaseError) -> (String, String, Int64) in
            _ = try stmt.step()
            return (stmt.text(0) ?? "", stmt.text(1) ?? "", stmt.int64(2))
        }
        #expect(sql.contains("id TEXT PRIMARY KEY, payload TEXT, vector F32_BLOB(4)"))
        #expect(size == 16, "4 float32, no header")
        #expect(payload.hasPrefix("{\"id\": \"\(GraphIdentity.entity("Alice"))\", \"created_at\": 0, "), "python separators, IndexSchema key order")
    }
}

@Suite("Vector collections: PostgreSQL + pgvector",
       .enabled(if: TestEnvironment.postgresURL != nil, "set MEMIFY_TEST_POSTGRES_URL (scripts/test starts a PostgreSQL)"))
struct PostgresVectorContractTests {
    func make() async throws -> (PostgresGraphWriter, @Sendable () async throws -> [String: [String: StoredVector]])? {
        let url = try #require(TestEnvironment.postgresURL)
        guard try await TestEnvironment.hasPgvector() else { return nil }
        let schema = "v_" + UUID().uuidString.prefix(8).lowercased()
        let writer = try await PostgresGraphWriter.connect(conninfo: url, placement: .shared(schema: schema))
        try await writer.migrate()
        return (writer, {
            try await BlockingExecutor(label: "test.read").run { () throws -> [String: [String: StoredVector]] in
                let connection = try PostgresConnection(conninfo: url)
                defer { connection.close() }
                var out: [String: [String: StoredVector]] = [:]
                for collection in VectorIndex.collections {
                    let exists = try connection.query("SELECT to_regclass(format('%I.%I', $1::text, $2::text)) IS NOT NULL", [schema, collection],
                                                      operation: "t")
                    guard exists.first?[0] == "t" else { continue }
                    var rows: [String: StoredVector] = [:]
                    for row in try connection.query("SELECT id::text, payload::text, vector::text FROM \"\(schema)\".\"\(collection)\"", operation: "read") {
                        guard case .object(let payload)? = try? JSONParser.parse(row[1] ?? "") else { continue }
                        let floats = (row[2] ?? "[]").dropFirst().dropLast().split(separator: ",").compactMap { Float($0) }
                        rows[row[0] ?? ""] = StoredVector(payload: payload, vector: floats)
                    }
                    out[collection] = rows
                }
                return out
            }
        })
    }

    @Test func contract() async throws {
        guard let (writer, read) = try await make() else { return }
        try await VectorContract.contract(writer, read: read)
    }

    @Test func setsMerge() async throws {
        guard let (writer, read) = try await make() else { return }
        try await VectorContract.setsMerge(writer, read: read)
    }
}
