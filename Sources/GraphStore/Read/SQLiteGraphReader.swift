import MemifyCore
import Foundation

/// Reads the embedded graph through a read-only connection (never creates, migrates or
/// checkpoints the file, so it can look while a run writes).
package final class SQLiteGraphReader: GraphReader {
    package let path: String
    private let database: SQLiteDatabase
    private let executor: BlockingExecutor

    private init(path: String, database: SQLiteDatabase, executor: BlockingExecutor) {
        self.path = path
        self.database = database
        self.executor = executor
    }

    package static func open(path: String) async throws -> SQLiteGraphReader {
        let executor = BlockingExecutor(label: "memify.graph.sqlite.read")
        let database = try await executor.run { () throws(DatabaseError) -> SQLiteDatabase in
            guard FileManager.default.fileExists(atPath: path) else {
                throw DatabaseError(.invalidArgument, operation: "read the graph sqlite:\(path)",
                                      message: "there is no graph at \(path): run `memify-worker run` first, or pass --graph")
            }
            let database = try SQLiteDatabase(path: path, mode: .readOnly)
            guard try database.hasTable("graph_node"), try database.hasTable("graph_edge") else {
                throw DatabaseError(.invalidArgument, operation: "read the graph sqlite:\(path)",
                                      message: "\(path) holds no graph tables (graph_node, graph_edge): run `memify-worker migrate` or `run` first")
            }
            return database
        }
        return SQLiteGraphReader(path: path, database: database, executor: executor)
    }

    package var location: String { "sqlite:\(path)" }

    static let nodeColumns = "id, name, type, properties, source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs"
    static let edgeColumns = "source_id, target_id, relationship_name, properties, source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs"

    package func counts() async throws -> GraphCounts {
        let database = self.database
        return try await executor.run { () throws(DatabaseError) -> GraphCounts in
            var counts = GraphCounts()
            func named(_ sql: String, _ operation: String) throws(DatabaseError) -> [NamedCount] {
                try database.withStatement(sql, operation: operation) { stmt throws(DatabaseError) -> [NamedCount] in
                    var out: [NamedCount] = []
                    while try stmt.step() { out.append(NamedCount(name: stmt.text(0) ?? "", count: Int(stmt.int64(1)))) }
                    return out
                }
            }
            counts.nodesByType = GraphCounts.sorted(try named("SELECT coalesce(type, ''), count(*) FROM graph_node GROUP BY 1", "count nodes by type"))
            counts.edgesByRelationship = GraphCounts.sorted(try named("SELECT relationship_name, count(*) FROM graph_edge GROUP BY 1",
                                                                      "count edges by relationship"))
            counts.nodes = counts.nodesByType.reduce(0) { $0 + $1.count }
            counts.edges = counts.edgesByRelationship.reduce(0) { $0 + $1.count }
            counts.hasTurnRegistry = try database.hasTable("memify_turn")
            if counts.hasTurnRegistry {
                counts.sessions = try database.withStatement("""
                    SELECT dataset_id, user_id, session_id, count(*), min(turn_time), max(turn_time) FROM memify_turn
                    GROUP BY dataset_id, user_id, session_id ORDER BY user_id, session_id, dataset_id
                    """, operation: "count turns per session") { stmt throws(DatabaseError) -> [SessionCount] in
                    var out: [SessionCount] = []
                    while try stmt.step() {
                        out.append(SessionCount(datasetID: stmt.text(0) ?? "", userID: RegistryText.decode(stmt.text(1) ?? ""),
                                                sessionID: RegistryText.decode(stmt.text(2) ?? ""), turns: Int(stmt.int64(3)),
                                                firstTurn: RegistryText.decode(stmt.text(4) ?? ""), lastTurn: RegistryText.decode(stmt.text(5) ?? "")))
                    }
                    return out
                }
            }
            for (collection, width) in try SQLiteVectors.widths(database).sorted(by: { $0.key < $1.key }) {
                // The name is one of VectorIndex.collections (a constant), never data.
                let rows = try database.withStatement("SELECT count(*) FROM \"\(collection)\"", operation: "count the rows of \(collection)") {
                    stmt throws(DatabaseError) -> Int in try stmt.step() ? Int(stmt.int64(0)) : 0
                }
                counts.vectors.append(VectorCount(collection: collection, rows: rows, width: width))
            }
            return counts
        }
    }

    package func nodes(ids: [String]) async throws -> [StoredNode] {
        guard !ids.isEmpty else { return [] }
        let database = self.database
        return try await executor.run { () throws(DatabaseError) -> [StoredNode] in
            try database.withStatement("SELECT \(Self.nodeColumns) FROM graph_node WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id",
                                       operation: "read \(ids.count) nodes") { stmt throws(DatabaseError) -> [StoredNode] in
                try stmt.bind(1, jsonArray(ids))
                return try Self.nodes(&stmt)
            }
        }
    }

    package func edges(touching id: String, limit: Int) async throws -> (edges: [StoredEdge], total: Int) {
        let database = self.database
        return try await executor.run { () throws -> (edges: [StoredEdge], total: Int) in
            let total = try database.withStatement("SELECT (SELECT count(*) FROM graph_edge WHERE source_id = ?1) + (SELECT count(*) FROM graph_edge WHERE target_id = ?1 AND source_id <> ?1)",
                                                   operation: "count the edges of a node") { stmt throws(DatabaseError) -> Int in
                try stmt.bind(1, id)
                return try stmt.step() ? Int(stmt.int64(0)) : 0
            }
            let edges = try database.withStatement("""
                SELECT \(Self.edgeColumns) FROM graph_edge WHERE source_id = ?1
                UNION ALL SELECT \(Self.edgeColumns) FROM graph_edge WHERE target_id = ?1 AND source_id <> ?1 LIMIT ?2
                """, operation: "read the edges of a node") { stmt throws(DatabaseError) -> [StoredEdge] in
                try stmt.bind(1, id)
                try stmt.bind(2, Int64(limit))
                return try Self.edges(&stmt)
            }
            return (edges, total)
        }
    }

    package func edges(from sources: [String], withKey key: String?, relationship: String?) async throws -> [StoredEdge] {
        guard !sources.isEmpty else { return [] }
        let database = self.database
        return try await executor.run { () throws(DatabaseError) -> [StoredEdge] in
            try database.withStatement("""
                SELECT \(Self.edgeColumns) FROM graph_edge WHERE source_id IN (SELECT value FROM json_each(?1))
                  AND (?2 IS NULL OR EXISTS (SELECT 1 FROM json_each(graph_edge.source_ref_keys) WHERE value = ?2))
                  AND (?3 IS NULL OR relationship_name = ?3)
                ORDER BY source_id, target_id, relationship_name
                """, operation: "read the edges of \(sources.count) nodes") { stmt throws(DatabaseError) -> [StoredEdge] in
                try stmt.bind(1, jsonArray(sources))
                try stmt.bind(2, key)
                try stmt.bind(3, relationship)
                return try Self.edges(&stmt)
            }
        }
    }

    package func turns(userID: String, sessionID: String, datasetID: String?) async throws -> [GraphTurn] {
        let database = self.database
        return try await executor.run { () throws(DatabaseError) -> [GraphTurn] in
            guard try database.hasTable("memify_turn") else { return [] }
            return try database.withStatement("""
                SELECT dataset_id, user_id, session_id, turn_id, document_id, content_hash, document_key, chunk_key, turn_time
                FROM memify_turn WHERE user_id = ?1 AND session_id = ?2 AND (?3 IS NULL OR dataset_id = ?3)
                ORDER BY turn_time, turn_id, dataset_id
                """, operation: "read the turns of a session") { stmt throws(DatabaseError) -> [GraphTurn] in
                try stmt.bind(1, RegistryText.encode(userID))
                try stmt.bind(2, RegistryText.encode(sessionID))
                try stmt.bind(3, datasetID)
                var out: [GraphTurn] = []
                while try stmt.step() {
                    let values = (1...8).map { stmt.text(Int32($0)) ?? "" }
                    out.append(GraphTurn(datasetID: stmt.text(0) ?? "", turn: RegisteredTurn(stored: values)))
                }
                return out
            }
        }
    }

    package func nodePage(after: String?, limit: Int) async throws -> [StoredNode] {
        let database = self.database
        return try await executor.run { () throws(DatabaseError) -> [StoredNode] in
            try database.withStatement("SELECT \(Self.nodeColumns) FROM graph_node WHERE ?1 IS NULL OR id > ?1 ORDER BY id LIMIT ?2",
                                       operation: "read a page of nodes") { stmt throws(DatabaseError) -> [StoredNode] in
                try stmt.bind(1, after)
                try stmt.bind(2, Int64(limit))
                return try Self.nodes(&stmt)
            }
        }
    }

    package func edgePage(after: GraphEdge.Key?, limit: Int) async throws -> [StoredEdge] {
        let database = self.database
        return try await executor.run { () throws(DatabaseError) -> [StoredEdge] in
            try database.withStatement("""
                SELECT \(Self.edgeColumns) FROM graph_edge
                WHERE ?1 IS NULL OR (source_id, target_id, relationship_name) > (?1, ?2, ?3)
                ORDER BY source_id, target_id, relationship_name LIMIT ?4
                """, operation: "read a page of edges") { stmt throws(DatabaseError) -> [StoredEdge] in
                try stmt.bind(1, after?.sourceID)
                try stmt.bind(2, after?.targetID)
                try stmt.bind(3, after?.relationshipName)
                try stmt.bind(4, Int64(limit))
                return try Self.edges(&stmt)
            }
        }
    }

    private static func nodes(_ stmt: inout SQLiteStatement) throws(DatabaseError) -> [StoredNode] {
        var out: [StoredNode] = []
        while try stmt.step() {
            out.append(StoredNode(node: GraphNode(id: stmt.text(0) ?? "", name: stmt.text(1) ?? "", type: stmt.text(2) ?? "",
                                                  properties: jsonObject(stmt.text(3))),
                                  sourceRefKeys: jsonStrings(stmt.text(4)), sourceDatasetIDs: jsonStrings(stmt.text(5)),
                                  sourceRunIDs: jsonStrings(stmt.text(6)), sourceRunRefs: jsonStrings(stmt.text(7))))
        }
        return out
    }

    private static func edges(_ stmt: inout SQLiteStatement) throws(DatabaseError) -> [StoredEdge] {
        var out: [StoredEdge] = []
        while try stmt.step() {
            out.append(StoredEdge(edge: GraphEdge(sourceID: stmt.text(0) ?? "", targetID: stmt.text(1) ?? "",
                                                  relationshipName: stmt.text(2) ?? "", properties: jsonObject(stmt.text(3))),
                                  sourceRefKeys: jsonStrings(stmt.text(4)), sourceDatasetIDs: jsonStrings(stmt.text(5)),
                                  sourceRunIDs: jsonStrings(stmt.text(6)), sourceRunRefs: jsonStrings(stmt.text(7))))
        }
        return out
    }
}
