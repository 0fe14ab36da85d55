import MemifyCore
/// Reads cognee's PostgreSQL graph on its own connection in read-only transactions
/// (`default_transaction_read_only`), on its own executor. Provenance lookups use the GIN
/// indexes (`source_ref_keys @> ARRAY[key]`); pages use the primary keys.
package final class PostgresGraphReader: GraphReader {
    package let placement: GraphPlacement
    private let connection: PostgresConnection
    private let executor: BlockingExecutor

    private init(connection: PostgresConnection, executor: BlockingExecutor, placement: GraphPlacement) {
        self.connection = connection
        self.executor = executor
        self.placement = placement
    }

    package static func connect(conninfo: String, placement: GraphPlacement = .shared()) async throws -> PostgresGraphReader {
        let executor = BlockingExecutor(label: "memify.graph.postgres.read")
        let connection = try await executor.run { () throws -> PostgresConnection in
            let connection = try PostgresConnection(conninfo: conninfo)
            try connection.execute("""
                SET search_path TO \(PostgresGraphWriter.quoteIdentifier(placement.schema)); SET client_encoding TO 'UTF8';
                SET client_min_messages TO warning; SET default_transaction_read_only TO on
                """, operation: "select schema \(placement.schema)")
            let tables = try connection.query("SELECT to_regclass('graph_node') IS NOT NULL AND to_regclass('graph_edge') IS NOT NULL",
                                              operation: "look for the graph tables")
            guard tables.first?[0] == "t" else {
                throw DatabaseError(.invalidArgument, operation: "read the graph at \(connection.location) (schema \(placement.schema))",
                                      message: "schema \(placement.schema) holds no graph tables (graph_node, graph_edge): run `memify-worker migrate` or `run` first, or pass --schema/--placement")
            }
            return connection
        }
        return PostgresGraphReader(connection: connection, executor: executor, placement: placement)
    }

    package var location: String { "\(connection.location) (schema \(placement.schema))" }

    static let nodeColumns = """
        id, name, type, properties::text, array_to_json(source_ref_keys)::text, array_to_json(source_dataset_ids)::text,
        array_to_json(source_run_ids)::text, array_to_json(source_run_refs)::text
        """
    static let edgeColumns = """
        source_id, target_id, relationship_name, properties::text, array_to_json(source_ref_keys)::text,
        array_to_json(source_dataset_ids)::text, array_to_json(source_run_ids)::text, array_to_json(source_run_refs)::text
        """

    package func counts() async throws -> GraphCounts {
        let connection = self.connection
        let schema = placement.schema
        return try await executor.run { () throws(DatabaseError) -> GraphCounts in
            var counts = GraphCounts()
            func named(_ sql: String, _ operation: String) throws(DatabaseError) -> [NamedCount] {
                try connection.query(sql, operation: operation).map { NamedCount(name: $0[0] ?? "", count: Int($0[1] ?? "0") ?? 0) }
            }
            counts.nodesByType = GraphCounts.sorted(try named("SELECT coalesce(type, ''), count(*) FROM graph_node GROUP BY 1", "count nodes by type"))
            counts.edgesByRelationship = GraphCounts.sorted(try named("SELECT relationship_name, count(*) FROM graph_edge GROUP BY 1",
                                                                      "count edges by relationship"))
            counts.nodes = counts.nodesByType.reduce(0) { $0 + $1.count }
            counts.edges = counts.edgesByRelationship.reduce(0) { $0 + $1.count }
            counts.hasTurnRegistry = try connection.query("SELECT to_regclass('memify_turn') IS NOT NULL", operation: "look for memify_turn").first?[0] == "t"
            if counts.hasTurnRegistry {
                counts.sessions = try connection.query("""
                    SELECT dataset_id, user_id, session_id, count(*), min(turn_time), max(turn_time) FROM memify_turn
                    GROUP BY dataset_id, user_id, session_id ORDER BY user_id COLLATE "C", session_id COLLATE "C", dataset_id
                    """, operation: "count turns per session").map {
                    SessionCount(datasetID: $0[0] ?? "", userID: RegistryText.decode($0[1] ?? ""), sessionID: RegistryText.decode($0[2] ?? ""),
                                 turns: Int($0[3] ?? "0") ?? 0, firstTurn: RegistryText.decode($0[4] ?? ""), lastTurn: RegistryText.decode($0[5] ?? ""))
                }
            }
            for (collection, width) in try PostgresVectors.widths(connection, schema: schema).sorted(by: { $0.key < $1.key }) {
                // The name is one of VectorIndex.collections (a constant), never data.
                let rows = try connection.query("SELECT count(*) FROM \(PostgresGraphWriter.quoteIdentifier(collection))",
                                                operation: "count the rows of \(collection)")
                counts.vectors.append(VectorCount(collection: collection, rows: Int(rows.first?[0] ?? "0") ?? 0, width: width))
            }
            return counts
        }
    }

    package func nodes(ids: [String]) async throws -> [StoredNode] {
        guard !ids.isEmpty else { return [] }
        let connection = self.connection
        return try await executor.run { () throws(DatabaseError) -> [StoredNode] in
            try connection.query("SELECT \(Self.nodeColumns) FROM graph_node WHERE id = ANY($1::varchar[]) ORDER BY id",
                                 [PostgresGraphWriter.arrayLiteral(ids)], operation: "read \(ids.count) nodes").map(Self.storedNode)
        }
    }

    package func edges(touching id: String, limit: Int) async throws -> (edges: [StoredEdge], total: Int) {
        let connection = self.connection
        return try await executor.run { () throws -> (edges: [StoredEdge], total: Int) in
            let total = try connection.query("""
                SELECT (SELECT count(*) FROM graph_edge WHERE source_id = $1) + (SELECT count(*) FROM graph_edge WHERE target_id = $1 AND source_id <> $1)
                """, [id], operation: "count the edges of a node")
            let edges = try connection.query("""
                (SELECT \(Self.edgeColumns) FROM graph_edge WHERE source_id = $1)
                UNION ALL (SELECT \(Self.edgeColumns) FROM graph_edge WHERE target_id = $1 AND source_id <> $1) LIMIT $2
                """, [id, String(limit)], operation: "read the edges of a node").map(Self.storedEdge)
            return (edges, Int(total.first?[0] ?? "0") ?? 0)
        }
    }

    package func edges(from sources: [String], withKey key: String?, relationship: String?) async throws -> [StoredEdge] {
        guard !sources.isEmpty else { return [] }
        let connection = self.connection
        return try await executor.run { () throws(DatabaseError) -> [StoredEdge] in
            try connection.query("""
                SELECT \(Self.edgeColumns) FROM graph_edge WHERE source_id = ANY($1::varchar[])
                  AND ($2::varchar IS NULL OR source_ref_keys @> ARRAY[$2::varchar]) AND ($3::varchar IS NULL OR relationship_name = $3)
                ORDER BY source_id, target_id, relationship_name
                """, [PostgresGraphWriter.arrayLiteral(sources), key, relationship], operation: "read the edges of \(sources.count) nodes").map(Self.storedEdge)
        }
    }

    package func turns(userID: String, sessionID: String, datasetID: String?) async throws -> [GraphTurn] {
        let connection = self.connection
        return try await executor.run { () throws(DatabaseError) -> [GraphTurn] in
            guard try connection.query("SELECT to_regclass('memify_turn') IS NOT NULL", operation: "look for memify_turn").first?[0] == "t" else {
                return []
            }
            return try connection.query("""
                SELECT dataset_id, user_id, session_id, turn_id, document_id, content_hash, document_key, chunk_key, turn_time
                FROM memify_turn WHERE user_id = $1 AND session_id = $2 AND ($3::varchar IS NULL OR dataset_id = $3)
                ORDER BY turn_time, turn_id, dataset_id
                """, [RegistryText.encode(userID), RegistryText.encode(sessionID), datasetID], operation: "read the turns of a session").map {
                GraphTurn(datasetID: $0[0] ?? "", turn: RegisteredTurn(stored: $0.dropFirst().map { $0 ?? "" }))
            }
        }
    }

    package func nodePage(after: String?, limit: Int) async throws -> [StoredNode] {
        let connection = self.connection
        return try await executor.run { () throws(DatabaseError) -> [StoredNode] in
            try connection.query("SELECT \(Self.nodeColumns) FROM graph_node WHERE $1::varchar IS NULL OR id > $1 ORDER BY id LIMIT $2",
                                 [after, String(limit)], operation: "read a page of nodes").map(Self.storedNode)
        }
    }

    package func edgePage(after: GraphEdge.Key?, limit: Int) async throws -> [StoredEdge] {
        let connection = self.connection
        return try await executor.run { () throws(DatabaseError) -> [StoredEdge] in
            try connection.query("""
                SELECT \(Self.edgeColumns) FROM graph_edge
                WHERE $1::varchar IS NULL OR (source_id, target_id, relationship_name) > ($1, $2::varchar, $3::varchar)
                ORDER BY source_id, target_id, relationship_name LIMIT $4
                """, [after?.sourceID, after?.targetID, after?.relationshipName, String(limit)],
                operation: "read a page of edges").map(Self.storedEdge)
        }
    }

    private static func storedNode(_ row: [String?]) -> StoredNode { PostgresGraphWriter.storedNode(row) }
    private static func storedEdge(_ row: [String?]) -> StoredEdge { PostgresGraphWriter.storedEdge(row) }
}
