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
    /// Bump it with every change to ``schemaDDL``: `migrate` skips the DDL when the stored
    /// version is this one. 2: the first version `migrate` skips on (every database made
    /// before runs the whole DDL once more). 3: the turn registry (`memify_turn`), the states'
    /// commit counters (`memify_commit`), and run ids rewritten as UUIDs (``upgradeRunIDs``).
    package static let schemaVersion = 3

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
        try connection.execute("SET search_path TO \(quoteIdentifier(placement.schema)); SET client_encoding TO 'UTF8'; SET client_min_messages TO warning",
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

    package func migrate() async throws {
        let connection = self.connection
        let schema = Self.quoteIdentifier(placement.schema)
        let location = self.location, placement = self.placement
        try await executor.run {
            // Current already: no DDL (its ALTER TABLEs would take exclusive locks on every run).
            if try Self.schemaState(on: connection, placement: placement).current { return }
            try connection.execute("BEGIN", operation: "migrate \(location)")
            do {
                try connection.execute("""
                    SELECT pg_advisory_xact_lock(\(Self.graphLockID));
                    CREATE SCHEMA IF NOT EXISTS \(schema);
                    \(Self.schemaDDL)
                    """, operation: "migrate \(location)")
                try Self.upgradeRunIDs(connection, schema: schema)
                try connection.execute("COMMIT", operation: "migrate \(location)")
            } catch {
                try? connection.execute("ROLLBACK", operation: "roll back migration")
                throw error
            }
        }
    }

    /// Run ids that are not UUIDs (graphs written before schema version 3) become their uuid5 in
    /// `source_run_ids` and inside `source_run_refs`: cognee's provenance code reads run ids as
    /// UUIDs. One statement a run id and table, found through the GIN index; arrays stay sorted
    /// in byte order, as the writer keeps them.
    static func upgradeRunIDs(_ connection: PostgresConnection, schema: String) throws(DatabaseError) {
        let old = try connection.query("""
            SELECT DISTINCT r FROM (SELECT unnest(source_run_ids) AS r FROM \(schema).graph_node
                                    UNION SELECT unnest(source_run_ids) FROM \(schema).graph_edge) t
            WHERE r !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
            """, operation: "find run ids to upgrade").compactMap { $0.first ?? nil }
        for run in old {
            let new = GraphIdentity.graphRunID(run)
            for table in ["graph_node", "graph_edge"] {
                try connection.query("""
                    UPDATE \(schema).\(table) SET
                      source_run_ids = ARRAY(SELECT y FROM (SELECT DISTINCT unnest(array_replace(source_run_ids, $1::varchar, $2::varchar)) AS y) d
                                             ORDER BY y COLLATE "C"),
                      source_run_refs = ARRAY(SELECT y FROM (SELECT DISTINCT CASE WHEN starts_with(x, $3) THEN $4 || substr(x, length($3) + 1) ELSE x END AS y
                                                             FROM unnest(source_run_refs) AS x) d ORDER BY y COLLATE "C")
                    WHERE $1::varchar = ANY(source_run_ids)
                    """, [run, new, SourceRef.runRefPrefix + run + ":", SourceRef.runRefPrefix + new + ":"],
                    operation: "upgrade run id \(run) in \(table)")
            }
        }
    }

    /// Whether the schema in `placement` is there and at this version (the tables exist and the
    /// version row, written in the same transaction as the rest of the DDL, says so), and the
    /// graph's identity when it has one. Schema-qualified: it reads the same on any connection
    /// to the database, the writer's or the run lock's.
    static func schemaState(on connection: PostgresConnection, placement: GraphPlacement) throws(DatabaseError)
        -> (current: Bool, identity: String?) {
        let tables = try connection.query("""
            SELECT to_regclass(format('%I.graph_metadata', $1::text)) IS NOT NULL AND to_regclass(format('%I.graph_node', $1::text)) IS NOT NULL
               AND to_regclass(format('%I.graph_edge', $1::text)) IS NOT NULL
               AND to_regclass(format('%I.memify_schema_version', $1::text)) IS NOT NULL
            """, [placement.schema], operation: "check the graph schema")
        guard tables.first?[0] == "t" else { return (false, nil) }
        let schema = quoteIdentifier(placement.schema)
        let rows = try connection.query("""
            SELECT (SELECT count(*) FROM \(schema).memify_schema_version WHERE version = $1),
                   (SELECT value FROM \(schema).graph_metadata WHERE key = 'memify_graph_id')
            """, [String(schemaVersion)], operation: "check the graph schema version and identity")
        guard let row = rows.first, (Int(row[0] ?? "0") ?? 0) > 0 else { return (false, nil) }
        return (true, row[1])
    }

    /// The graph's identity when the schema in `placement` is current and has one; nil when
    /// the writer must still migrate or make the identity (``migrate()``, ``identity()``).
    static func currentIdentity(on connection: PostgresConnection, placement: GraphPlacement) throws(DatabaseError) -> String? {
        let state = try schemaState(on: connection, placement: placement)
        return state.current ? state.identity : nil
    }

    /// The DDL of spec §5.3, idempotent, plus what upgrades tables cognee created before
    /// provenance existed (its own migration's `ADD COLUMN IF NOT EXISTS`), plus our version row.
    static let schemaDDL: String = {
        var sql = """
            CREATE TABLE IF NOT EXISTS graph_metadata (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
            CREATE TABLE IF NOT EXISTS graph_node (
              id VARCHAR PRIMARY KEY, name VARCHAR, type VARCHAR, properties JSONB,
              source_ref_keys VARCHAR[] NOT NULL DEFAULT '{}', source_dataset_ids VARCHAR[] NOT NULL DEFAULT '{}',
              source_run_ids VARCHAR[] NOT NULL DEFAULT '{}', source_run_refs VARCHAR[] NOT NULL DEFAULT '{}',
              created_at TIMESTAMPTZ DEFAULT now(), updated_at TIMESTAMPTZ DEFAULT now());
            CREATE TABLE IF NOT EXISTS graph_edge (
              source_id VARCHAR NOT NULL REFERENCES graph_node(id) ON DELETE CASCADE,
              target_id VARCHAR NOT NULL REFERENCES graph_node(id) ON DELETE CASCADE,
              relationship_name VARCHAR NOT NULL, properties JSONB,
              source_ref_keys VARCHAR[] NOT NULL DEFAULT '{}', source_dataset_ids VARCHAR[] NOT NULL DEFAULT '{}',
              source_run_ids VARCHAR[] NOT NULL DEFAULT '{}', source_run_refs VARCHAR[] NOT NULL DEFAULT '{}',
              created_at TIMESTAMPTZ DEFAULT now(), updated_at TIMESTAMPTZ DEFAULT now(),
              PRIMARY KEY (source_id, target_id, relationship_name));

            """
        for table in ["graph_node", "graph_edge"] {
            for column in ["source_ref_keys", "source_dataset_ids", "source_run_ids", "source_run_refs"] {
                sql += "ALTER TABLE \(table) ADD COLUMN IF NOT EXISTS \(column) VARCHAR[] NOT NULL DEFAULT '{}';\n"
            }
        }
        sql += """
            CREATE INDEX IF NOT EXISTS idx_node_type ON graph_node (type);
            CREATE INDEX IF NOT EXISTS idx_node_source_ref_keys ON graph_node USING gin (source_ref_keys);
            CREATE INDEX IF NOT EXISTS idx_node_source_dataset_ids ON graph_node USING gin (source_dataset_ids);
            CREATE INDEX IF NOT EXISTS idx_node_source_run_ids ON graph_node USING gin (source_run_ids);
            CREATE INDEX IF NOT EXISTS idx_edge_source ON graph_edge (source_id);
            CREATE INDEX IF NOT EXISTS idx_edge_target ON graph_edge (target_id);
            CREATE INDEX IF NOT EXISTS idx_edge_source_cover ON graph_edge (source_id) INCLUDE (target_id, relationship_name);
            CREATE INDEX IF NOT EXISTS idx_edge_target_cover ON graph_edge (target_id) INCLUDE (source_id, relationship_name);
            CREATE INDEX IF NOT EXISTS idx_edge_source_ref_keys ON graph_edge USING gin (source_ref_keys);
            CREATE INDEX IF NOT EXISTS idx_edge_source_dataset_ids ON graph_edge USING gin (source_dataset_ids);
            CREATE INDEX IF NOT EXISTS idx_edge_source_run_ids ON graph_edge USING gin (source_run_ids);
            CREATE TABLE IF NOT EXISTS memify_turn (
              dataset_id VARCHAR NOT NULL, user_id VARCHAR NOT NULL, session_id VARCHAR NOT NULL, turn_id VARCHAR NOT NULL,
              document_id VARCHAR NOT NULL, content_hash VARCHAR NOT NULL, document_key VARCHAR NOT NULL, chunk_key VARCHAR NOT NULL,
              turn_time VARCHAR NOT NULL, updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
              PRIMARY KEY (dataset_id, user_id, session_id, turn_id));
            CREATE TABLE IF NOT EXISTS memify_commit (state_id VARCHAR PRIMARY KEY, seq BIGINT NOT NULL,
              updated_at TIMESTAMPTZ NOT NULL DEFAULT now());
            CREATE TABLE IF NOT EXISTS memify_schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
            INSERT INTO memify_schema_version (version) VALUES (\(schemaVersion)) ON CONFLICT DO NOTHING;
            """
        return sql
    }()

    private static let stageDDL = """
        CREATE TEMP TABLE IF NOT EXISTS memify_stage_node (id VARCHAR, name VARCHAR, type VARCHAR, properties JSONB,
          source_ref_keys VARCHAR[], source_dataset_ids VARCHAR[], source_run_ids VARCHAR[], source_run_refs VARCHAR[])
          ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE IF NOT EXISTS memify_stage_edge (source_id VARCHAR, target_id VARCHAR, relationship_name VARCHAR,
          properties JSONB, source_ref_keys VARCHAR[], source_dataset_ids VARCHAR[], source_run_ids VARCHAR[],
          source_run_refs VARCHAR[]) ON COMMIT DELETE ROWS;
        """

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
                try connection.execute("SELECT pg_advisory_xact_lock(\(Self.graphLockID))", operation: "lock the graph at \(location)")
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
                    try connection.query("""
                        DELETE FROM memify_turn t USING unnest($2::varchar[], $3::varchar[], $4::varchar[]) AS k(u, s, q)
                        WHERE t.dataset_id = $1 AND t.user_id = k.u AND t.session_id = k.s AND t.turn_id = k.q
                        """, [dataset] + (0..<3).map { i in Self.arrayLiteral(turns.map { $0.key[i] }) }, operation: "unregister \(turns.count) turns at \(location)")
                }
                let turns = commit.uniqueRegistering
                if !turns.isEmpty {
                    let rows = turns.map(\.storedValues)
                    let parameters: [String?] = [dataset] + (0..<8).map { i in Self.arrayLiteral(rows.map { $0[i] }) }
                    try connection.query("""
                        INSERT INTO memify_turn (dataset_id, user_id, session_id, turn_id, document_id, content_hash, document_key, chunk_key, turn_time)
                        SELECT $1, * FROM unnest($2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[], $7::varchar[],
                                                 $8::varchar[], $9::varchar[])
                        ON CONFLICT (dataset_id, user_id, session_id, turn_id) \(commit.keepRegistered ? "DO NOTHING" : """
                        DO UPDATE SET document_id = EXCLUDED.document_id,
                          content_hash = EXCLUDED.content_hash, document_key = EXCLUDED.document_key, chunk_key = EXCLUDED.chunk_key,
                          turn_time = EXCLUDED.turn_time, updated_at = now()
                        """)
                        """, parameters, operation: "register \(turns.count) turns at \(location)")
                }
                if let stateID = commit.stateID {
                    let rows = try connection.query("""
                        INSERT INTO memify_commit (state_id, seq) VALUES ($1, 1)
                        ON CONFLICT (state_id) DO UPDATE SET seq = memify_commit.seq + 1, updated_at = now() RETURNING seq
                        """, [stateID], operation: "count the commit at \(location)")
                    result.sequence = rows.first?[0].flatMap { $0 }.flatMap { Int64($0) }
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
                try connection.execute("SELECT pg_advisory_xact_lock(\(Self.graphLockID))", operation: "lock the graph at \(location)")
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

    /// The counter of `stateID` in `table` (schema-qualified when read on another connection).
    static func commitSequence(on connection: PostgresConnection, table: String, stateID: String, location: String) throws(DatabaseError) -> Int64 {
        let rows = try connection.query("SELECT seq FROM \(table) WHERE state_id = $1", [stateID],
                                        operation: "read the commit counter at \(location)")
        return rows.first?[0].flatMap { $0 }.flatMap { Int64($0) } ?? 0
    }

    package func hasRegisteredTurns(datasetID: String) async throws -> Bool {
        let connection = self.connection
        let location = self.location
        return try await executor.run { () throws(DatabaseError) -> Bool in
            try connection.query("SELECT EXISTS (SELECT 1 FROM memify_turn WHERE dataset_id = $1)", [datasetID],
                                 operation: "look for registered turns at \(location)").first?[0] == "t"
        }
    }

    package func registeredTurns(datasetID: String, sessions: [(userID: String, sessionID: String)]) async throws -> [RegisteredTurn] {
        guard !sessions.isEmpty else { return [] }
        let connection = self.connection
        let location = self.location
        let users = Self.arrayLiteral(sessions.map { RegistryText.encode($0.userID) })
        let ids = Self.arrayLiteral(sessions.map { RegistryText.encode($0.sessionID) })
        return try await executor.run { () throws(DatabaseError) -> [RegisteredTurn] in
            try connection.query("""
                SELECT t.user_id, t.session_id, t.turn_id, t.document_id, t.content_hash, t.document_key, t.chunk_key, t.turn_time
                FROM memify_turn t JOIN unnest($2::varchar[], $3::varchar[]) AS k(u, s) ON t.user_id = k.u AND t.session_id = k.s
                WHERE t.dataset_id = $1
                """, [datasetID, users, ids], operation: "read the registered turns of \(sessions.count) sessions at \(location)").map {
                RegisteredTurn(stored: $0.map { $0 ?? "" })
            }
        }
    }

    /// Upserts a prepared batch inside the caller's transaction.
    private static func writeRows(_ connection: PostgresConnection, _ batch: GraphBatch, location: String) throws -> GraphWriteStats {
        try connection.execute("""
            SELECT pg_advisory_xact_lock(\(Self.graphLockID));
            \(Self.stageDDL)
            INSERT INTO graph_metadata (key, value) SELECT 'provenance_version', '1'
              WHERE NOT EXISTS (SELECT 1 FROM graph_node) ON CONFLICT (key) DO NOTHING;
            INSERT INTO graph_metadata (key, value) SELECT 'delete_mode', 'graph_native'
              WHERE NOT EXISTS (SELECT 1 FROM graph_node) ON CONFLICT (key) DO NOTHING;
            """, operation: "lock the graph at \(location)")
        let existingNodes = try Self.readNodes(connection, ids: batch.nodes.map(\.id))
        let outside = GraphMerge.endpointsOutsideBatch(batch)
        var present: Set<String> = []
        if !outside.isEmpty {
            let rows = try connection.query("SELECT id FROM graph_node WHERE id = ANY($1::varchar[])",
                                            [Self.arrayLiteral(outside)], operation: "check edge endpoints")
            present = Set(rows.compactMap { $0[0] })
        }
        let missing = GraphMerge.missingEndpoints(batch, stored: present)
        if !missing.isEmpty { throw GraphMerge.missingNodeError(missing, location: location) }
        // An edge exists only while both its endpoints do (REFERENCES … ON DELETE CASCADE,
        // as in cognee's schema): the edges of a node new in this batch are new, and are
        // not looked up (most of a turn's edges start at its new chunk, document or summary).
        let newNodeIDs = Set(batch.nodes.lazy.map(\.id).filter { existingNodes[$0] == nil })
        let edgesToRead = batch.edges.filter { !newNodeIDs.contains($0.sourceID) && !newNodeIDs.contains($0.targetID) }
        let existingEdges = try Self.readEdges(connection, keys: edgesToRead.map(\.key))
        let plan = GraphMerge.plan(batch, existingNodes: existingNodes, existingEdges: existingEdges)
        // New rows go straight in with COPY: under the graph lock no other writer can add
        // them meanwhile. Changed rows go through staging and ON CONFLICT.
        let newNodes = zip(plan.nodes, plan.newNodes).filter(\.1).map(\.0)
        let changedNodes = zip(plan.nodes, plan.newNodes).filter { !$0.1 }.map(\.0)
        let newEdges = zip(plan.edges, plan.newEdges).filter(\.1).map(\.0)
        let changedEdges = zip(plan.edges, plan.newEdges).filter { !$0.1 }.map(\.0)
        try Self.copyNodes(connection, newNodes, into: "graph_node")
        try Self.upsertNodes(connection, changedNodes)
        try Self.copyEdges(connection, newEdges, into: "graph_edge")
        try Self.upsertEdges(connection, changedEdges)
        return plan.stats
    }

    package func retract(sourceRefKey key: String) async throws -> GraphWriteStats {
        let connection = self.connection
        let location = self.location
        return try await executor.run {
            try Self.inTransaction(connection, operation: "retract \(key) from \(location)") { () throws -> GraphWriteStats in
                var deleted: [String] = []
                return try Self.retractRows(connection, key: key, deletedNodes: &deleted)
            }
        }
    }

    /// Retracts what `key` produced inside the caller's transaction.
    /// `deletedNodes` gets the ids of the nodes deleted.
    private static func retractRows(_ connection: PostgresConnection, key: String, deletedNodes: inout [String]) throws -> GraphWriteStats {
        var stats = GraphWriteStats()
        try connection.execute("SELECT pg_advisory_xact_lock(\(Self.graphLockID))", operation: "lock the graph")
        let before = try Self.count(connection, "SELECT count(*) FROM graph_edge WHERE $1 = ANY(source_ref_keys)", key)
        // Rows only this source owns go (their edges cascade); shared rows lose the key.
        let deletedIDs = try connection.query("DELETE FROM graph_node WHERE source_ref_keys = ARRAY[$1]::varchar[] RETURNING id",
                                              [key], operation: "delete nodes of \(key)").compactMap { $0[0] }
        deletedNodes += deletedIDs
        let deletedEdges = try connection.query(
            "WITH d AS (DELETE FROM graph_edge WHERE source_ref_keys = ARRAY[$1]::varchar[] RETURNING 1) SELECT count(*) FROM d",
            [key], operation: "delete edges of \(key)")
        stats.nodesDeleted = deletedIDs.count
        let remaining = try Self.count(connection, "SELECT count(*) FROM graph_edge WHERE $1 = ANY(source_ref_keys)", key)
        stats.edgesDeleted = before - remaining
        _ = deletedEdges
        for table in ["graph_node", "graph_edge"] {
            let keyColumns = table == "graph_node" ? "id" : "source_id, target_id, relationship_name"
            let rows = try connection.query(
                "SELECT \(keyColumns), array_to_json(source_ref_keys)::text, array_to_json(source_dataset_ids)::text, array_to_json(source_run_ids)::text, array_to_json(source_run_refs)::text FROM \(table) WHERE $1 = ANY(source_ref_keys)",
                [key], operation: "find rows of \(key)")
            let n = table == "graph_node" ? 1 : 3
            let whereKey = table == "graph_node" ? "id = $5" : "source_id = $5 AND target_id = $6 AND relationship_name = $7"
            for row in rows {
                let p = Provenance(refKeys: jsonStrings(row[n]), datasetIDs: jsonStrings(row[n + 1]),
                                   runIDs: jsonStrings(row[n + 2]), runRefs: jsonStrings(row[n + 3])).removing(key: key)
                try connection.query(
                    "UPDATE \(table) SET source_ref_keys = $1::varchar[], source_dataset_ids = $2::varchar[], source_run_ids = $3::varchar[], source_run_refs = $4::varchar[], updated_at = now() WHERE \(whereKey)",
                    [Self.arrayLiteral(p.refKeys), Self.arrayLiteral(p.datasetIDs), Self.arrayLiteral(p.runIDs),
                     Self.arrayLiteral(p.runRefs)] + row[0..<n].map { $0 },
                    operation: "remove \(key) from \(table)")
                if table == "graph_node" { stats.nodesWritten += 1 } else { stats.edgesWritten += 1 }
            }
        }
        return stats
    }

    package func chunks(ofDocuments documentIDs: [String]) async throws -> [String: [String]] {
        guard !documentIDs.isEmpty else { return [:] }
        let connection = self.connection
        let location = self.location
        return try await executor.run { () throws(DatabaseError) -> [String: [String]] in
            let rows = try connection.query(
                "SELECT target_id, source_id FROM graph_edge WHERE relationship_name = 'is_part_of' AND target_id = ANY($1::varchar[])",
                [Self.arrayLiteral(documentIDs)], operation: "read the chunks of \(documentIDs.count) documents at \(location)")
            var out: [String: [String]] = [:]
            for row in rows { if let doc = row[0], let chunk = row[1] { out[doc, default: []].append(chunk) } }
            return out
        }
    }

    package func identity() async throws -> String {
        let connection = self.connection
        let location = self.location
        let candidate = UUID().uuidString.lowercased()
        return try await executor.run { () throws(DatabaseError) -> String in
            _ = try connection.query("INSERT INTO graph_metadata (key, value) VALUES ('memify_graph_id', $1) ON CONFLICT (key) DO NOTHING",
                                     [candidate], operation: "record the graph id at \(location)")
            let rows = try connection.query("SELECT value FROM graph_metadata WHERE key = 'memify_graph_id'",
                                            operation: "read the graph id at \(location)")
            guard let id = rows.first?[0] else {
                throw DatabaseError(.postgres, operation: "read the graph id at \(location)", message: "graph_metadata has no memify_graph_id row")
            }
            return id
        }
    }

    package func snapshot() async throws -> GraphSnapshot {
        let connection = self.connection
        return try await executor.run {
            let nodes = try connection.query(
                "SELECT id, name, type, properties::text, array_to_json(source_ref_keys)::text, array_to_json(source_dataset_ids)::text, array_to_json(source_run_ids)::text, array_to_json(source_run_refs)::text FROM graph_node ORDER BY id COLLATE \"C\"",
                operation: "read graph_node").map(Self.storedNode)
            let edges = try connection.query(
                "SELECT source_id, target_id, relationship_name, properties::text, array_to_json(source_ref_keys)::text, array_to_json(source_dataset_ids)::text, array_to_json(source_run_ids)::text, array_to_json(source_run_refs)::text FROM graph_edge ORDER BY source_id COLLATE \"C\", target_id COLLATE \"C\", relationship_name COLLATE \"C\"",
                operation: "read graph_edge").map(Self.storedEdge)
            var metadata: [String: String] = [:]
            for row in try connection.query("SELECT key, value FROM graph_metadata", operation: "read graph_metadata") {
                metadata[row[0] ?? ""] = row[1] ?? ""
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

    private static func inTransaction<R>(_ connection: PostgresConnection, operation: String,
                                         _ body: () throws -> R) throws -> R {
        do throws(DatabaseError) {
            try connection.execute("BEGIN", operation: operation)
        } catch {
            var failed = error
            failed.transactionNotBegun = failed.code == .connectionFailed
            throw failed
        }
        do {
            let result = try body()
            try connection.execute("COMMIT", operation: operation)
            return result
        } catch {
            try? connection.execute("ROLLBACK", operation: "roll back: \(operation)")
            throw error
        }
    }

    private static func readNodes(_ connection: PostgresConnection, ids: [String]) throws(DatabaseError) -> [String: StoredNode] {
        guard !ids.isEmpty else { return [:] }
        let rows = try connection.query(
            "SELECT id, name, type, properties::text, array_to_json(source_ref_keys)::text, array_to_json(source_dataset_ids)::text, array_to_json(source_run_ids)::text, array_to_json(source_run_refs)::text FROM graph_node WHERE id = ANY($1::varchar[])",
            [arrayLiteral(ids)], operation: "read stored nodes")
        var out: [String: StoredNode] = [:]
        for row in rows {
            let node = storedNode(row)
            out[node.node.id] = node
        }
        return out
    }

    private static func readEdges(_ connection: PostgresConnection, keys: [GraphEdge.Key]) throws(DatabaseError) -> [GraphEdge.Key: StoredEdge] {
        guard !keys.isEmpty else { return [:] }
        let rows = try connection.query("""
            SELECT e.source_id, e.target_id, e.relationship_name, e.properties::text, array_to_json(e.source_ref_keys)::text,
                   array_to_json(e.source_dataset_ids)::text, array_to_json(e.source_run_ids)::text, array_to_json(e.source_run_refs)::text
            FROM graph_edge e JOIN unnest($1::varchar[], $2::varchar[], $3::varchar[]) AS k(s, t, r)
              ON e.source_id = k.s AND e.target_id = k.t AND e.relationship_name = k.r
            """, [arrayLiteral(keys.map(\.sourceID)), arrayLiteral(keys.map(\.targetID)), arrayLiteral(keys.map(\.relationshipName))],
            operation: "read stored edges")
        var out: [GraphEdge.Key: StoredEdge] = [:]
        for row in rows {
            let edge = storedEdge(row)
            out[edge.edge.key] = edge
        }
        return out
    }

    private static func copyNodes(_ connection: PostgresConnection, _ rows: [(GraphNode, Provenance)], into table: String) throws(DatabaseError) {
        try copyRows(connection, rows, into: table, columns: "id, name, type", what: "nodes") { ($0.id, $0.name, $0.type, $0.properties) }
    }

    /// `COPY`s rows of three text columns, their JSON properties and the four provenance arrays,
    /// streamed as they are formatted.
    private static func copyRows<Row>(_ connection: PostgresConnection, _ rows: [(Row, Provenance)], into table: String, columns: String,
                                      what: String, _ fields: (Row) -> (String, String, String, JSONObject)) throws(DatabaseError) {
        guard !rows.isEmpty else { return }
        try connection.copyIn("COPY \(table) (\(columns), properties, source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs) FROM STDIN",
                              operation: "copy \(rows.count) \(what) into \(table)") { stream in
            var json: [UInt8] = []
            for (row, p) in rows {
                let (first, second, third, properties) = fields(row)
                CopyText.append(first, to: &stream.data); stream.data.append(0x09)
                CopyText.append(second, to: &stream.data); stream.data.append(0x09)
                CopyText.append(third, to: &stream.data); stream.data.append(0x09)
                json.removeAll(keepingCapacity: true)
                JSONWriter.write(.object(properties), style: .compact, into: &json)
                CopyText.append(bytes: json, to: &stream.data); stream.data.append(0x09)
                appendArrays(p, to: &stream.data)
                stream.flush()
            }
        }
    }

    private static func upsertNodes(_ connection: PostgresConnection, _ rows: [(GraphNode, Provenance)]) throws(DatabaseError) {
        guard !rows.isEmpty else { return }
        try copyNodes(connection, rows, into: "memify_stage_node")
        try connection.execute("""
            INSERT INTO graph_node (id, name, type, properties, source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs, created_at, updated_at)
            SELECT id, name, type, properties, source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs, now(), now()
            FROM memify_stage_node ORDER BY id
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, type = EXCLUDED.type, properties = EXCLUDED.properties,
              source_ref_keys = EXCLUDED.source_ref_keys, source_dataset_ids = EXCLUDED.source_dataset_ids,
              source_run_ids = EXCLUDED.source_run_ids, source_run_refs = EXCLUDED.source_run_refs, updated_at = now()
            """, operation: "upsert \(rows.count) nodes")
    }

    private static func copyEdges(_ connection: PostgresConnection, _ rows: [(GraphEdge, Provenance)], into table: String) throws(DatabaseError) {
        try copyRows(connection, rows, into: table, columns: "source_id, target_id, relationship_name", what: "edges") {
            ($0.sourceID, $0.targetID, $0.relationshipName, $0.properties)
        }
    }

    private static func upsertEdges(_ connection: PostgresConnection, _ rows: [(GraphEdge, Provenance)]) throws(DatabaseError) {
        guard !rows.isEmpty else { return }
        try copyEdges(connection, rows, into: "memify_stage_edge")
        try connection.execute("""
            INSERT INTO graph_edge (source_id, target_id, relationship_name, properties, source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs, created_at, updated_at)
            SELECT source_id, target_id, relationship_name, properties, source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs, now(), now()
            FROM memify_stage_edge ORDER BY source_id, target_id, relationship_name
            ON CONFLICT (source_id, target_id, relationship_name) DO UPDATE SET properties = EXCLUDED.properties,
              source_ref_keys = EXCLUDED.source_ref_keys, source_dataset_ids = EXCLUDED.source_dataset_ids,
              source_run_ids = EXCLUDED.source_run_ids, source_run_refs = EXCLUDED.source_run_refs, updated_at = now()
            """, operation: "upsert \(rows.count) edges")
    }

    private static func appendArrays(_ p: Provenance, to data: inout [UInt8]) {
        CopyText.appendArray(p.refKeys, to: &data); data.append(0x09)
        CopyText.appendArray(p.datasetIDs, to: &data); data.append(0x09)
        CopyText.appendArray(p.runIDs, to: &data); data.append(0x09)
        CopyText.appendArray(p.runRefs, to: &data); data.append(0x0A)
    }

    private static func count(_ connection: PostgresConnection, _ sql: String, _ key: String) throws(DatabaseError) -> Int {
        Int(try connection.query(sql, [key], operation: "count rows").first?[0] ?? "0") ?? 0
    }

    /// A `graph_node` row as selected (id, name, type, properties, the four provenance arrays as JSON).
    static func storedNode(_ row: [String?]) -> StoredNode {
        StoredNode(node: GraphNode(id: row[0] ?? "", name: row[1] ?? "", type: row[2] ?? "", properties: jsonObject(row[3])),
                   sourceRefKeys: jsonStrings(row[4]), sourceDatasetIDs: jsonStrings(row[5]),
                   sourceRunIDs: jsonStrings(row[6]), sourceRunRefs: jsonStrings(row[7]))
    }

    /// A `graph_edge` row as selected (the key, properties, the four provenance arrays as JSON).
    static func storedEdge(_ row: [String?]) -> StoredEdge {
        StoredEdge(edge: GraphEdge(sourceID: row[0] ?? "", targetID: row[1] ?? "", relationshipName: row[2] ?? "",
                                   properties: jsonObject(row[3])),
                   sourceRefKeys: jsonStrings(row[4]), sourceDatasetIDs: jsonStrings(row[5]),
                   sourceRunIDs: jsonStrings(row[6]), sourceRunRefs: jsonStrings(row[7]))
    }

    /// A PostgreSQL array literal (`{"a","b"}`) with every element quoted and escaped; bound as
    /// a parameter or COPY-escaped, never spliced.
    package static func arrayLiteral(_ items: [String]) -> String {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            for byte in item.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    package static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// COPY's text format: backslash, tab, newline and carriage return escaped.
package enum CopyText {
    package static func append(_ text: String, to data: inout [UInt8]) {
        var text = text
        text.withUTF8 { append(bytes: $0, to: &data) }
    }

    /// Whether `bytes` holds nothing COPY (or, with `quote`, an array element) must escape.
    @inline(__always)
    private static func isPlain(_ bytes: UnsafeBufferPointer<UInt8>, quote: Bool) -> Bool {
        for byte in bytes where byte <= 0x5C {
            if byte == 0x5C || byte == 0x09 || byte == 0x0A || byte == 0x0D || (quote && byte == 0x22) { return false }
        }
        return true
    }

    package static func append(bytes: UnsafeBufferPointer<UInt8>, to data: inout [UInt8]) {
        if isPlain(bytes, quote: false) {
            data.append(contentsOf: bytes)
            return
        }
        for byte in bytes {
            switch byte {
            case 0x5C: data.append(0x5C); data.append(0x5C)
            case 0x09: data.append(0x5C); data.append(UInt8(ascii: "t"))
            case 0x0A: data.append(0x5C); data.append(UInt8(ascii: "n"))
            case 0x0D: data.append(0x5C); data.append(UInt8(ascii: "r"))
            default: data.append(byte)
            }
        }
    }

    package static func append(bytes: [UInt8], to data: inout [UInt8]) {
        bytes.withUnsafeBufferPointer { append(bytes: $0, to: &data) }
    }

    /// A PostgreSQL array literal of quoted elements, COPY-escaped on top.
    static func appendArray(_ items: [String], to data: inout [UInt8]) {
        data.append(UInt8(ascii: "{"))
        for (i, item) in items.enumerated() {
            if i > 0 { data.append(UInt8(ascii: ",")) }
            data.append(UInt8(ascii: "\""))
            var item = item
            item.withUTF8 { utf8 in
                if isPlain(utf8, quote: true) {
                    data.append(contentsOf: utf8)
                    return
                }
                for byte in utf8 {
                    // Inside the array literal, " and \ take a backslash; COPY then doubles every backslash.
                    if byte == UInt8(ascii: "\"") { data.append(0x5C); data.append(0x5C) }
                    if byte == 0x5C { data.append(0x5C); data.append(0x5C); data.append(0x5C) }
                    switch byte {
                    case 0x09: data.append(0x5C); data.append(UInt8(ascii: "t"))
                    case 0x0A: data.append(0x5C); data.append(UInt8(ascii: "n"))
                    case 0x0D: data.append(0x5C); data.append(UInt8(ascii: "r"))
                    default: data.append(byte)
                    }
                }
            }
            data.append(UInt8(ascii: "\""))
        }
        data.append(UInt8(ascii: "}"))
    }
}
