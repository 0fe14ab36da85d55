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
            try connection.perform("""
                SET search_path TO \(unsafeSQL: PostgresGraphWriter.quoteIdentifier(placement.schema)); SET client_encoding TO 'UTF8';
                SET client_min_messages TO warning; SET default_transaction_read_only TO on
                """, operation: "select schema \(placement.schema)")
            let tables = try connection.row("SELECT to_regclass('graph_node') IS NOT NULL AND to_regclass('graph_edge') IS NOT NULL",
                                                 operation: "look for the graph tables")
            guard try tables.bool(0) else {
                throw DatabaseError(.invalidArgument, operation: "read the graph at \(connection.location) (schema \(placement.schema))",
                                      message: "schema \(placement.schema) holds no graph tables (graph_node, graph_edge): run `memify-worker migrate` or `run` first, or pass --schema/--placement")
            }
            return connection
        }
        return PostgresGraphReader(connection: connection, executor: executor, placement: placement)
    }

    package var location: String { "\(connection.location) (schema \(placement.schema))" }

    static let nodeColumns: SQLStatement = """
        id, name, type, properties::text, array_to_json(source_ref_keys)::text, array_to_json(source_dataset_ids)::text,
        array_to_json(source_run_ids)::text, array_to_json(source_run_refs)::text
        """
    static let edgeColumns: SQLStatement = """
        source_id, target_id, relationship_name, properties::text, array_to_json(source_ref_keys)::text,
        array_to_json(source_dataset_ids)::text, array_to_json(source_run_ids)::text, array_to_json(source_run_refs)::text
        """

    package func counts() async throws -> GraphCounts {
        let connection = self.connection
        let schema = placement.schema
        return try await executor.run { () throws(DatabaseError) -> GraphCounts in
            var counts = GraphCounts()
            func named(_ sql: SQLStatement, _ operation: String) throws(DatabaseError) -> [NamedCount] {
                try connection.rows(sql, operation: operation).map { (row) throws(DatabaseError) in
                    NamedCount(name: try row.string(0), count: try row.int(1))
                }
            }
            counts.nodesByType = GraphCounts.sorted(try named("SELECT coalesce(type, ''), count(*) FROM graph_node GROUP BY 1", "count nodes by type"))
            counts.edgesByRelationship = GraphCounts.sorted(try named("SELECT relationship_name, count(*) FROM graph_edge GROUP BY 1",
                                                                      "count edges by relationship"))
            counts.nodes = counts.nodesByType.reduce(0) { $0 + $1.count }
            counts.edges = counts.edgesByRelationship.reduce(0) { $0 + $1.count }
            counts.hasTurnRegistry = try connection.row("SELECT to_regclass('memify_turn') IS NOT NULL", operation: "look for memify_turn").bool(0)
            if counts.hasTurnRegistry {
                counts.sessions = try connection.rows("""
                    SELECT dataset_id, user_id, session_id, count(*), min(turn_time), max(turn_time) FROM memify_turn
                    GROUP BY dataset_id, user_id, session_id ORDER BY user_id COLLATE "C", session_id COLLATE "C", dataset_id
                    """, operation: "count turns per session").map { (row) throws(DatabaseError) in
                    SessionCount(datasetID: try row.string(0), userID: RegistryText.decode(try row.string(1)),
                                 sessionID: RegistryText.decode(try row.string(2)), turns: try row.int(3),
                                 firstTurn: RegistryText.decode(try row.string(4)), lastTurn: RegistryText.decode(try row.string(5)))
                }
            }
            for (collection, width) in try PostgresVectors.widths(connection, schema: schema).sorted(by: { $0.key < $1.key }) {
                // The name is one of VectorIndex.collections (a constant), never data.
                let rows = try connection.row("SELECT count(*) FROM \(unsafeSQL: PostgresGraphWriter.quoteIdentifier(collection))",
                                                   operation: "count the rows of \(collection)").int(0)
                counts.vectors.append(VectorCount(collection: collection, rows: rows, width: width))
            }
            return counts
        }
    }

    package func nodes(ids: [String]) async throws -> [StoredNode] {
        guard !ids.isEmpty else { return [] }
        let connection = self.connection
        return try await executor.run { () throws(DatabaseError) -> [StoredNode] in
            try connection.rows("SELECT \(Self.nodeColumns) FROM graph_node WHERE id = ANY(\(ids)::varchar[]) ORDER BY id",
                                operation: "read \(ids.count) nodes").map(Self.storedNode)
        }
    }

    package func edges(touching id: String, limit: Int) async throws -> (edges: [StoredEdge], total: Int) {
        let connection = self.connection
        return try await executor.run { () throws -> (edges: [StoredEdge], total: Int) in
            let total = try connection.row("""
                SELECT (SELECT count(*) FROM graph_edge WHERE source_id = \(id))
                     + (SELECT count(*) FROM graph_edge WHERE target_id = \(id) AND source_id <> \(id))
                """, operation: "count the edges of a node").int(0)
            let edges = try connection.rows("""
                (SELECT \(Self.edgeColumns) FROM graph_edge WHERE source_id = \(id))
                UNION ALL (SELECT \(Self.edgeColumns) FROM graph_edge WHERE target_id = \(id) AND source_id <> \(id)) LIMIT \(limit)
                """, operation: "read the edges of a node").map(Self.storedEdge)
            return (edges, total)
        }
    }

    package func edges(from sources: [String], withKey key: String?, relationship: String?) async throws -> [StoredEdge] {
        guard !sources.isEmpty else { return [] }
        let connection = self.connection
        return try await executor.run { () throws(DatabaseError) -> [StoredEdge] in
            try connection.rows("""
                SELECT \(Self.edgeColumns) FROM graph_edge WHERE source_id = ANY(\(sources)::varchar[])
                  AND (\(key)::varchar IS NULL OR source_ref_keys @> ARRAY[\(key)::varchar])
                  AND (\(relationship)::varchar IS NULL OR relationship_name = \(relationship)::varchar)
                ORDER BY source_id, target_id, relationship_name
                """, operation: "read the edges of \(sources.count) nodes").map(Self.storedEdge)
        }
    }

    package func turns(userID: String, sessionID: String, datasetID: String?) async throws -> [GraphTurn] {
        let connection = self.connection
        return try await executor.run { () throws(DatabaseError) -> [GraphTurn] in
            guard try connection.row("SELECT to_regclass('memify_turn') IS NOT NULL", operation: "look for memify_turn").bool(0) else {
                return []
            }
            return try connection.rows("""
                SELECT dataset_id, user_id, session_id, turn_id, document_id, content_hash, document_key, chunk_key, turn_time
                FROM memify_turn WHERE user_id = \(RegistryText.encode(userID)) AND session_id = \(RegistryText.encode(sessionID))
                  AND (\(datasetID)::varchar IS NULL OR dataset_id = \(datasetID)::varchar)
                ORDER BY turn_time, turn_id, dataset_id
                """, operation: "read the turns of a session").map { (row) throws(DatabaseError) in
                GraphTurn(datasetID: try row.string(0), turn: try PostgresGraphWriter.registeredTurn(row, from: 1))
            }
        }
    }

    package func nodePage(after: String?, limit: Int) async throws -> [StoredNode] {
        let connection = self.connection
        return try await executor.run { () throws(DatabaseError) -> [StoredNode] in
            try connection.rows("""
                SELECT \(Self.nodeColumns) FROM graph_node WHERE \(after)::varchar IS NULL OR id > \(after)::varchar ORDER BY id LIMIT \(limit)
                """, operation: "read a page of nodes").map(Self.storedNode)
        }
    }

    package func edgePage(after: GraphEdge.Key?, limit: Int) async throws -> [StoredEdge] {
        let connection = self.connection
        return try await executor.run { () throws(DatabaseError) -> [StoredEdge] in
            try connection.rows("""
                SELECT \(Self.edgeColumns) FROM graph_edge
                WHERE \(after?.sourceID)::varchar IS NULL
                   OR (source_id, target_id, relationship_name) > (\(after?.sourceID)::varchar, \(after?.targetID)::varchar, \(after?.relationshipName)::varchar)
                ORDER BY source_id, target_id, relationship_name LIMIT \(limit)
                """, operation: "read a page of edges").map(Self.storedEdge)
        }
    }

    private static func storedNode(_ row: PostgresRow) throws(DatabaseError) -> StoredNode { try PostgresGraphWriter.storedNode(row) }
    private static func storedEdge(_ row: PostgresRow) throws(DatabaseError) -> StoredEdge { try PostgresGraphWriter.storedEdge(row) }
}
