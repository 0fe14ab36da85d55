import MemifyCore

/// The graph's tables (spec §5.3) and the worker's own (the turn registry, commit counters, schema
/// version), created or upgraded under the graph lock; skipped when the stored version is current.
extension PostgresGraphWriter {
    /// Bump it with every change to ``schemaDDL``: `migrate` skips the DDL when the stored
    /// version is this one. 2: the first version `migrate` skips on (every database made
    /// before runs the whole DDL once more). 3: the turn registry (`memify_turn`), the states'
    /// commit counters (`memify_commit`), and run ids rewritten as UUIDs (``upgradeRunIDs``).
    package static let schemaVersion = 3

    package func migrate() async throws {
        let connection = self.connection
        let schema = Self.quoteIdentifier(placement.schema)
        let location = self.location, placement = self.placement
        try await executor.run {
            // Current already: no DDL (its ALTER TABLEs would take exclusive locks on every run).
            if try Self.schemaState(on: connection, placement: placement).current { return }
            try connection.perform("BEGIN", operation: "migrate \(location)")
            do {
                try connection.perform("""
                    \(Self.lockGraph);
                    CREATE SCHEMA IF NOT EXISTS \(unsafeSQL: schema);
                    \(unsafeSQL: Self.schemaDDL)
                    """, operation: "migrate \(location)")
                try Self.upgradeRunIDs(connection, schema: schema)
                try connection.perform("COMMIT", operation: "migrate \(location)")
            } catch {
                try? connection.perform("ROLLBACK", operation: "roll back migration")
                throw error
            }
        }
    }

    /// Run ids that are not UUIDs (graphs written before schema version 3) become their uuid5 in
    /// `source_run_ids` and inside `source_run_refs`: cognee's provenance code reads run ids as
    /// UUIDs. One statement a run id and table, found through the GIN index; arrays stay sorted
    /// in byte order, as the writer keeps them. `schema` is quoted by the caller.
    static func upgradeRunIDs(_ connection: PostgresConnection, schema: String) throws(DatabaseError) {
        // A NULL element fails the WHERE: every r read is a value.
        let old = try connection.rows("""
            SELECT DISTINCT r FROM (SELECT unnest(source_run_ids) AS r FROM \(unsafeSQL: schema).graph_node
                                    UNION SELECT unnest(source_run_ids) FROM \(unsafeSQL: schema).graph_edge) t
            WHERE r !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
            """, operation: "find run ids to upgrade").map { (row) throws(DatabaseError) in try row.string(0) }
        for run in old {
            let new = GraphIdentity.graphRunID(run)
            let oldPrefix = SourceRef.runRefPrefix + run + ":", newPrefix = SourceRef.runRefPrefix + new + ":"
            for table in ["graph_node", "graph_edge"] {
                try connection.perform("""
                    UPDATE \(unsafeSQL: schema).\(unsafeSQL: table) SET
                      source_run_ids = ARRAY(SELECT y FROM (SELECT DISTINCT unnest(array_replace(source_run_ids, \(run)::varchar, \(new)::varchar)) AS y) d
                                             ORDER BY y COLLATE "C"),
                      source_run_refs = ARRAY(SELECT y FROM (SELECT DISTINCT CASE WHEN starts_with(x, \(oldPrefix)::text)
                                                               THEN \(newPrefix)::text || substr(x, length(\(oldPrefix)::text) + 1) ELSE x END AS y
                                                             FROM unnest(source_run_refs) AS x) d ORDER BY y COLLATE "C")
                    WHERE \(run)::varchar = ANY(source_run_ids)
                    """, operation: "upgrade run id \(run) in \(table)")
            }
        }
    }

    /// Whether the schema in `placement` is there and at this version (the tables exist and the
    /// version row, written in the same transaction as the rest of the DDL, says so), and the
    /// graph's identity when it has one. Schema-qualified: it reads the same on any connection
    /// to the database, the writer's or the run lock's.
    static func schemaState(on connection: PostgresConnection, placement: GraphPlacement) throws(DatabaseError)
        -> (current: Bool, identity: String?) {
        let name = placement.schema
        let tables = try connection.row("""
            SELECT to_regclass(format('%I.graph_metadata', \(name)::text)) IS NOT NULL AND to_regclass(format('%I.graph_node', \(name)::text)) IS NOT NULL
               AND to_regclass(format('%I.graph_edge', \(name)::text)) IS NOT NULL
               AND to_regclass(format('%I.memify_schema_version', \(name)::text)) IS NOT NULL
            """, operation: "check the graph schema")
        guard try tables.bool(0) else { return (false, nil) }
        let schema = quoteIdentifier(placement.schema)
        let row = try connection.row("""
            SELECT (SELECT count(*) FROM \(unsafeSQL: schema).memify_schema_version WHERE version = \(schemaVersion)),
                   (SELECT value FROM \(unsafeSQL: schema).graph_metadata WHERE key = 'memify_graph_id')
            """, operation: "check the graph schema version and identity")
        guard try row.int(0) > 0 else { return (false, nil) }
        // NULL until the graph's identity is made (``identity()``).
        return (true, try row.optionalString(1))
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

    static let stageDDL = """
        CREATE TEMP TABLE IF NOT EXISTS memify_stage_node (id VARCHAR, name VARCHAR, type VARCHAR, properties JSONB,
          source_ref_keys VARCHAR[], source_dataset_ids VARCHAR[], source_run_ids VARCHAR[], source_run_refs VARCHAR[])
          ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE IF NOT EXISTS memify_stage_edge (source_id VARCHAR, target_id VARCHAR, relationship_name VARCHAR,
          properties JSONB, source_ref_keys VARCHAR[], source_dataset_ids VARCHAR[], source_run_ids VARCHAR[],
          source_run_refs VARCHAR[]) ON COMMIT DELETE ROWS;
        """
}
