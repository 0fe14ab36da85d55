import MemifyCore
import Foundation
import Synchronization

/// Where the graph tables live (graph spec §5.2).
package enum GraphPlacement: Sendable, Equatable {
    /// One graph for all datasets (cognee with `ENABLE_BACKEND_ACCESS_CONTROL=false`), in a
    /// schema (`public` by default).
    case shared(schema: String = "public")
    /// One schema per dataset, `ds_<dataset uuid hex>`, inside one database (cognee's
    /// `postgres_graph_shared` handler).
    case perDataset(datasetID: String)

    package var schema: String {
        switch self {
        case .shared(let schema): return schema
        case .perDataset(let id): return "ds_" + id.lowercased().filter { $0 != "-" }
        }
    }
}

/// Writes cognee's PostgreSQL graph (spec §5.3–§5.4, §8): one transaction per batch under
/// `pg_advisory_xact_lock(5522063)` as cognee takes it, nodes before edges, rows staged with
/// `COPY` into a temporary table then upserted with `INSERT … ON CONFLICT`, and rows identical
/// to the stored ones dropped before the upsert. All values are bound or COPY-escaped, never
/// spliced into SQL. libpq runs on the writer's own executor, never on the cooperative pool.
package final class PostgresGraphWriter: GraphWriter {
    /// cognee's graph-write advisory lock.
    package static let graphLockID: Int64 = 5_522_063
    /// Takes ``graphLockID`` until the transaction ends (the id spelled out, as cognee sends it).
    static let lockGraph = SQLStatement(unsafeSQL: "SELECT pg_advisory_xact_lock(\(graphLockID))")

    package let placement: GraphPlacement
    let connection: PostgresConnection
    let executor: BlockingExecutor
    /// The `vector` type's qualified name once the collections were checked at a width.
    private let vectorType = Mutex<(dimensions: Int, type: String)?>(nil)

    private init(connection: PostgresConnection, executor: BlockingExecutor, placement: GraphPlacement) {
        self.connection = connection
        self.executor = executor
        self.placement = placement
    }

    /// Connects and points `search_path` at the placement's schema.
    package static func connect(conninfo: String, placement: GraphPlacement = .shared()) async throws -> PostgresGraphWriter {
        let executor = BlockingExecutor(label: "memify.graph.postgres")
        let connection = try await executor.run { () throws -> PostgresConnection in
            let connection = try PostgresConnection(conninfo: conninfo)
            try Self.setUp(connection, placement: placement)
            return connection
        }
        return PostgresGraphWriter(connection: connection, executor: executor, placement: placement)
    }

    private static func setUp(_ connection: PostgresConnection, placement: GraphPlacement) throws(DatabaseError) {
        try connection.perform("SET search_path TO \(unsafeSQL: quoteIdentifier(placement.schema)); SET client_encoding TO 'UTF8'; SET client_min_messages TO warning",
                               operation: "select schema \(placement.schema)")
    }

    /// The same connection string again, and the session set up as at ``connect(conninfo:placement:)``
    /// (temporary tables are made again by the next commit).
    package func reconnect() async throws {
        let connection = self.connection, placement = self.placement
        try await executor.run {
            try connection.reset()
            try Self.setUp(connection, placement: placement)
        }
    }

    package var location: String { "\(connection.location) (schema \(placement.schema))" }

    package func write(_ batch: GraphBatch) async throws -> GraphWriteStats {
        let connection = self.connection
        let location = self.location
        let batch = batch.prepared()
        return try await executor.run {
            try Self.inTransaction(connection, operation: "write batch to \(location)") { () throws -> GraphWriteStats in
                try Self.writeRows(connection, batch, location: location)
            }
        }
    }

    package func commit(_ commit: GraphCommit) async throws -> GraphCommitResult {
        let connection = self.connection
        let location = self.location
        let schema = placement.schema
        let batch = commit.batch.prepared()
        return try await executor.run {
            try Self.inTransaction(connection, operation: "commit a batch to \(location)") { () throws -> GraphCommitResult in
                var result = GraphCommitResult()
                try connection.perform(Self.lockGraph, operation: "lock the graph at \(location)")
                var replacedEdgeTexts: [String] = []
                if !batch.nodes.isEmpty || !batch.edges.isEmpty {
                    let stats = try Self.writeRows(connection, batch, location: location)
                    result.rowsWritten = stats.rowsWritten
                    replacedEdgeTexts = stats.replacedEdgeTexts
                }
                if let vectors = commit.vectors, !vectors.points.isEmpty {
                    let type = try self.vectorType(dimensions: vectors.dimensions, identity: vectors.identity)
                    result.vectorsWritten = try PostgresVectors.upsert(connection, vectors.points, vectorType: type)
                }
                // The vectors of what is retracted go too, whether or not this run embeds.
                let collections = commit.retracting.isEmpty && replacedEdgeTexts.isEmpty ? []
                    : Set(try PostgresVectors.widths(connection, schema: schema).keys)
                var retraction = VectorRetraction(edgeTexts: Set(replacedEdgeTexts))
                for key in commit.retracting {
                    if !collections.isEmpty { try PostgresVectors.collect(connection, key: key, into: &retraction) }
                    let stats = try Self.retractRows(connection, key: key, deletedNodes: &retraction.nodeIDs)
                    result.rowsDeleted += stats.nodesDeleted + stats.edgesDeleted
                }
                if !collections.isEmpty {
                    result.vectorsDeleted = try PostgresVectors.remove(connection, retraction, collections: collections)
                }
                let dataset = commit.datasetID
                if !commit.unregistering.isEmpty {
                    let turns = commit.unregistering
                    let keys = (0..<3).map { i in turns.map { $0.key[i] } }
                    try connection.perform("""
                        DELETE FROM memify_turn t USING unnest(\(keys[0])::varchar[], \(keys[1])::varchar[], \(keys[2])::varchar[]) AS k(u, s, q)
                        WHERE t.dataset_id = \(dataset) AND t.user_id = k.u AND t.session_id = k.s AND t.turn_id = k.q
                        """, operation: "unregister \(turns.count) turns at \(location)")
                }
                let turns = commit.uniqueRegistering
                if !turns.isEmpty {
                    let rows = turns.map(\.storedValues)
                    let columns = (0..<8).map { i in rows.map { $0[i] } }
                    let onConflict: SQLStatement = commit.keepRegistered ? "DO NOTHING" : """
                        DO UPDATE SET document_id = EXCLUDED.document_id,
                          content_hash = EXCLUDED.content_hash, document_key = EXCLUDED.document_key, chunk_key = EXCLUDED.chunk_key,
                          turn_time = EXCLUDED.turn_time, updated_at = now()
                        """
                    try connection.perform("""
                        INSERT INTO memify_turn (dataset_id, user_id, session_id, turn_id, document_id, content_hash, document_key, chunk_key, turn_time)
                        SELECT \(dataset), * FROM unnest(\(columns[0])::varchar[], \(columns[1])::varchar[], \(columns[2])::varchar[], \(columns[3])::varchar[],
                                                 \(columns[4])::varchar[], \(columns[5])::varchar[], \(columns[6])::varchar[], \(columns[7])::varchar[])
                        ON CONFLICT (dataset_id, user_id, session_id, turn_id) \(onConflict)
                        """, operation: "register \(turns.count) turns at \(location)")
                }
                if let stateID = commit.stateID {
                    result.sequence = try connection.row("""
                        INSERT INTO memify_commit (state_id, seq) VALUES (\(stateID), 1)
                        ON CONFLICT (state_id) DO UPDATE SET seq = memify_commit.seq + 1, updated_at = now() RETURNING seq
                        """, operation: "count the commit at \(location)").int64(0)
                }
                return result
            }
        }
    }

    /// The collections checked (pgvector installed, tables made, widths equal to `dimensions`)
    /// once per writer, inside the caller's transaction.
    private func vectorType(dimensions: Int, identity: String) throws(DatabaseError) -> String {
        if let known = vectorType.withLock({ $0 }), known.dimensions == dimensions { return known.type }
        let type = try PostgresVectors.ensure(connection, schema: placement.schema, dimensions: dimensions, identity: identity, location: location)
        vectorType.withLock { $0 = (dimensions, type) }
        return type
    }

    package func prepareVectors(dimensions: Int, identity: String) async throws {
        let connection = self.connection
        let location = self.location
        try await executor.run {
            try Self.inTransaction(connection, operation: "prepare the vector collections at \(location)") { () throws in
                try connection.perform(Self.lockGraph, operation: "lock the graph at \(location)")
                _ = try self.vectorType(dimensions: dimensions, identity: identity)
            }
        }
    }

    package func vectorWidths() async throws -> [String: Int] {
        let connection = self.connection
        let schema = placement.schema
        return try await executor.run { () throws(DatabaseError) -> [String: Int] in
            try PostgresVectors.widths(connection, schema: schema)
        }
    }

    package func commitSequence(stateID: String) async throws -> Int64 {
        let connection = self.connection
        let location = self.location
        return try await executor.run { () throws(DatabaseError) -> Int64 in
            try Self.commitSequence(on: connection, table: "memify_commit", stateID: stateID, location: location)
        }
    }

    /// The counter of `stateID` in `table` (schema-qualified when read on another connection;
    /// quoted by the caller), 0 before its first commit.
    static func commitSequence(on connection: PostgresConnection, table: String, stateID: String, location: String) throws(DatabaseError) -> Int64 {
        let rows = try connection.rows("SELECT seq FROM \(unsafeSQL: table) WHERE state_id = \(stateID)",
                                       operation: "read the commit counter at \(location)")
        return try rows.first?.int64(0) ?? 0
    }

    package func hasRegisteredTurns(datasetID: String) async throws -> Bool {
        let connection = self.connection
        let location = self.location
        return try await executor.run { () throws(DatabaseError) -> Bool in
            try connection.row("SELECT EXISTS (SELECT 1 FROM memify_turn WHERE dataset_id = \(datasetID))",
                                    operation: "look for registered turns at \(location)").bool(0)
        }
    }

    package func registeredTurns(datasetID: String, sessions: [(userID: String, sessionID: String)]) async throws -> [RegisteredTurn] {
        guard !sessions.isEmpty else { return [] }
        let connection = self.connection
        let location = self.location
        let users = sessions.map { RegistryText.encode($0.userID) }
        let ids = sessions.map { RegistryText.encode($0.sessionID) }
        return try await executor.run { () throws -> [RegisteredTurn] in
            try connection.rows("""
                SELECT t.user_id, t.session_id, t.turn_id, t.document_id, t.content_hash, t.document_key, t.chunk_key, t.turn_time
                FROM memify_turn t JOIN unnest(\(users)::varchar[], \(ids)::varchar[]) AS k(u, s) ON t.user_id = k.u AND t.session_id = k.s
                WHERE t.dataset_id = \(datasetID)
                """, operation: "read the registered turns of \(sessions.count) sessions at \(location)").map {
                (row) throws(DatabaseError) in try Self.registeredTurn(row)
            }
        }
    }

    package func chunks(ofDocuments documentIDs: [String]) async throws -> [String: [String]] {
        guard !documentIDs.isEmpty else { return [:] }
        let connection = self.connection
        let location = self.location
        return try await executor.run { () throws(DatabaseError) -> [String: [String]] in
            let rows = try connection.rows(
                "SELECT target_id, source_id FROM graph_edge WHERE relationship_name = 'is_part_of' AND target_id = ANY(\(documentIDs)::varchar[])",
                operation: "read the chunks of \(documentIDs.count) documents at \(location)")
            var out: [String: [String]] = [:]
            for row in rows { out[try row.string(0), default: []].append(try row.string(1)) }
            return out
        }
    }

    package func identity() async throws -> String {
        let connection = self.connection
        let location = self.location
        let candidate = UUID().uuidString.lowercased()
        return try await executor.run { () throws(DatabaseError) -> String in
            try connection.perform("INSERT INTO graph_metadata (key, value) VALUES ('memify_graph_id', \(candidate)) ON CONFLICT (key) DO NOTHING",
                                   operation: "record the graph id at \(location)")
            let rows = try connection.rows("SELECT value FROM graph_metadata WHERE key = 'memify_graph_id'",
                                           operation: "read the graph id at \(location)")
            guard let row = rows.first else {
                throw DatabaseError(.postgres, operation: "read the graph id at \(location)", message: "graph_metadata has no memify_graph_id row")
            }
            return try row.string(0)
        }
    }

    package func snapshot() async throws -> GraphSnapshot {
        let connection = self.connection
        return try await executor.run {
            let nodes = try connection.rows(
                "SELECT id, name, type, properties::text, array_to_json(source_ref_keys)::text, array_to_json(source_dataset_ids)::text, array_to_json(source_run_ids)::text, array_to_json(source_run_refs)::text FROM graph_node ORDER BY id COLLATE \"C\"",
                operation: "read graph_node").map(Self.storedNode)
            let edges = try connection.rows(
                "SELECT source_id, target_id, relationship_name, properties::text, array_to_json(source_ref_keys)::text, array_to_json(source_dataset_ids)::text, array_to_json(source_run_ids)::text, array_to_json(source_run_refs)::text FROM graph_edge ORDER BY source_id COLLATE \"C\", target_id COLLATE \"C\", relationship_name COLLATE \"C\"",
                operation: "read graph_edge").map(Self.storedEdge)
            var metadata: [String: String] = [:]
            for row in try connection.rows("SELECT key, value FROM graph_metadata", operation: "read graph_metadata") {
                metadata[try row.string(0)] = try row.string(1)
            }
            return GraphSnapshot(nodes: nodes, edges: edges, metadata: metadata)
        }
    }

    /// Runs raw SQL (tests and tools only: never with data in it).
    package func execute(_ sql: String) async throws {
        let connection = self.connection
        try await executor.run { try connection.execute(sql, operation: "execute SQL") }
    }

    // MARK: - Statements

    static func inTransaction<R>(_ connection: PostgresConnection, operation: String,
                                         _ body: () throws -> R) throws -> R {
        do throws(DatabaseError) {
            try connection.perform("BEGIN", operation: operation)
        } catch {
            var failed = error
            failed.transactionNotBegun = failed.code == .connectionFailed
            throw failed
        }
        do {
            let result = try body()
            try connection.perform("COMMIT", operation: operation)
            return result
        } catch {
            try? connection.perform("ROLLBACK", operation: "roll back: \(operation)")
            throw error
        }
    }

    /// A PostgreSQL array literal (`{"a","b"}`): see ``SQLStatement/arrayLiteral(_:)``, which
    /// binds `[String]` by itself. For PostgresVectors and the benchmark's COPY until they use it.
    package static func arrayLiteral(_ items: [String]) -> String {
        SQLStatement.arrayLiteral(items)
    }

    package static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
