import MemifyCore

/// The embedded graph's tables (the logical tables of spec §5.3, plus the turn registry, commit
/// counters and schema version), created idempotently on every open.
extension SQLiteGraphWriter {
    /// 2: the turn registry (`memify_turn`) and the states' commit counters (`memify_commit`).
    package static let schemaVersion = 2

    static let schema = """
        CREATE TABLE IF NOT EXISTS graph_metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS graph_node (
          id TEXT PRIMARY KEY, name TEXT, type TEXT, properties TEXT,
          source_ref_keys TEXT NOT NULL DEFAULT '[]', source_dataset_ids TEXT NOT NULL DEFAULT '[]',
          source_run_ids TEXT NOT NULL DEFAULT '[]', source_run_refs TEXT NOT NULL DEFAULT '[]',
          created_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
          updated_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')));
        CREATE INDEX IF NOT EXISTS idx_node_type ON graph_node (type);
        CREATE TABLE IF NOT EXISTS graph_edge (
          source_id TEXT NOT NULL REFERENCES graph_node(id) ON DELETE CASCADE,
          target_id TEXT NOT NULL REFERENCES graph_node(id) ON DELETE CASCADE,
          relationship_name TEXT NOT NULL, properties TEXT,
          source_ref_keys TEXT NOT NULL DEFAULT '[]', source_dataset_ids TEXT NOT NULL DEFAULT '[]',
          source_run_ids TEXT NOT NULL DEFAULT '[]', source_run_refs TEXT NOT NULL DEFAULT '[]',
          created_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
          updated_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
          PRIMARY KEY (source_id, target_id, relationship_name));
        CREATE INDEX IF NOT EXISTS idx_edge_source ON graph_edge (source_id);
        CREATE INDEX IF NOT EXISTS idx_edge_target ON graph_edge (target_id);
        CREATE TABLE IF NOT EXISTS memify_turn (
          dataset_id TEXT NOT NULL, user_id TEXT NOT NULL, session_id TEXT NOT NULL, turn_id TEXT NOT NULL,
          document_id TEXT NOT NULL, content_hash TEXT NOT NULL, document_key TEXT NOT NULL, chunk_key TEXT NOT NULL,
          turn_time TEXT NOT NULL, updated_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
          PRIMARY KEY (dataset_id, user_id, session_id, turn_id));
        CREATE TABLE IF NOT EXISTS memify_commit (state_id TEXT PRIMARY KEY, seq INTEGER NOT NULL,
          updated_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')));
        CREATE TABLE IF NOT EXISTS memify_schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
        INSERT OR IGNORE INTO memify_schema_version VALUES (1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
        INSERT OR IGNORE INTO memify_schema_version VALUES (2, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
        """

    package func migrate() async throws {
        let database = self.database
        try await executor.run {
            try database.execute(Self.schema)
            try Self.upgradeRunIDs(database)
        }
    }

    /// Run ids that are not UUIDs (in graphs older writers made) become their uuid5 in every
    /// row's provenance, once: cognee's provenance code reads run ids as UUIDs. A metadata row
    /// records that it was done, so later migrations do not scan the graph again.
    static func upgradeRunIDs(_ database: SQLiteDatabase) throws(DatabaseError) {
        let done = try database.withStatement("SELECT count(*) FROM graph_metadata WHERE key = 'memify_run_ids'",
                                              operation: "check run ids") { stmt throws(DatabaseError) -> Bool in
            try stmt.step() && stmt.int64(0) > 0
        }
        if done { return }
        try database.transaction { () throws(DatabaseError) in
            for table in ["graph_node", "graph_edge"] {
                let rows = try database.withStatement(
                    "SELECT rowid, source_run_ids, source_run_refs FROM \(table) WHERE source_run_ids <> '[]'",
                    operation: "read run ids of \(table)"
                ) { stmt throws(DatabaseError) -> [(Int64, Provenance)] in
                    var out: [(Int64, Provenance)] = []
                    while try stmt.step() {
                        let p = Provenance(runIDs: jsonStrings(stmt.text(1)), runRefs: jsonStrings(stmt.text(2)))
                        if let upgraded = p.upgradingRunIDs() { out.append((stmt.int64(0), upgraded)) }
                    }
                    return out
                }
                try database.withStatement("UPDATE \(table) SET source_run_ids = ?1, source_run_refs = ?2 WHERE rowid = ?3",
                                           operation: "upgrade run ids of \(table)") { stmt throws(DatabaseError) in
                    for (rowid, p) in rows {
                        stmt.reset()
                        try stmt.bind(1, jsonArray(p.runIDs))
                        try stmt.bind(2, jsonArray(p.runRefs))
                        try stmt.bind(3, rowid)
                        _ = try stmt.step()
                    }
                }
            }
            try database.execute("INSERT OR REPLACE INTO graph_metadata (key, value) VALUES ('memify_run_ids', 'uuid')")
        }
    }
}
