import MemifyCore

/// The state database's tables: turns, sessions, runs, quarantine, meta, the LLM response cache
/// and usage, and the embedding cache, created or upgraded in place on open.
extension StateDatabase {
    /// 2: the LLM response cache (`llm_cache`) and usage accounting (`usage`); 3: session
    /// fingerprints; 4: an index on the runs still `running`; 5: the embedding cache
    /// (`embedding_cache`). An open of a database at this version runs no DDL.
    package static let schemaVersion = 5

    /// Creates the tables a fresh state database lacks and upgrades an older one, step by step.
    func migrate() throws {
        // Current already (every run after the first): no DDL, no write.
        if try storedSchemaVersion() == Self.schemaVersion { return }
        try database.execute("""
            CREATE TABLE IF NOT EXISTS turns (
              user_id TEXT NOT NULL, session_id TEXT NOT NULL, turn_id TEXT NOT NULL, content_hash TEXT NOT NULL,
              document_id TEXT NOT NULL, document_key TEXT NOT NULL, chunk_key TEXT NOT NULL, turn_time TEXT NOT NULL,
              run_id TEXT NOT NULL, updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
              PRIMARY KEY (user_id, session_id, turn_id));
            CREATE TABLE IF NOT EXISTS sessions (
              user_id TEXT NOT NULL, session_id TEXT NOT NULL, turns INTEGER NOT NULL, last_run_id TEXT NOT NULL,
              last_seen_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), PRIMARY KEY (user_id, session_id));
            CREATE TABLE IF NOT EXISTS runs (
              run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL, exit_code INTEGER,
              summary TEXT);
            CREATE TABLE IF NOT EXISTS quarantine (
              id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, session_id TEXT NOT NULL, element_index INTEGER,
              reason TEXT NOT NULL, raw BLOB NOT NULL, raw_hash TEXT NOT NULL, first_run_id TEXT NOT NULL,
              last_run_id TEXT NOT NULL, resolved_run_id TEXT,
              created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
            CREATE UNIQUE INDEX IF NOT EXISTS quarantine_element ON quarantine (user_id, session_id, ifnull(element_index, -1), raw_hash);
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            INSERT OR IGNORE INTO meta VALUES ('schema_version', '1');
            CREATE TABLE IF NOT EXISTS llm_cache (
              model TEXT NOT NULL, prompt_hash TEXT NOT NULL, answer TEXT NOT NULL, tokens_in INTEGER NOT NULL,
              tokens_out INTEGER NOT NULL, cost_usd REAL NOT NULL, created_at REAL NOT NULL, PRIMARY KEY (model, prompt_hash));
            CREATE TABLE IF NOT EXISTS usage (
              id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, request_id TEXT NOT NULL, user_id TEXT NOT NULL,
              session_id TEXT NOT NULL, model TEXT NOT NULL, turns INTEGER NOT NULL, tokens_in INTEGER NOT NULL,
              tokens_out INTEGER NOT NULL, cost_usd REAL NOT NULL, at REAL NOT NULL, cached INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS usage_at ON usage (at);
            UPDATE meta SET value = '2' WHERE key = 'schema_version' AND CAST(value AS INTEGER) < 2;
            """)
        // 3: a fingerprint of each session's stored bytes, set when the whole session was persisted.
        let hasFingerprint = try database.withStatement("SELECT count(*) FROM pragma_table_info('sessions') WHERE name = 'fingerprint'",
                                                        operation: "inspect sessions") { stmt throws(DatabaseError) -> Bool in
            try stmt.step() && stmt.text(0) != "0"
        }
        if !hasFingerprint { try database.execute("ALTER TABLE sessions ADD COLUMN fingerprint TEXT") }
        try database.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version' AND CAST(value AS INTEGER) < 3")
        // 4: every run marks a leftover `running` row aborted; the runs table gains a row a run
        // (half a million a year from a cron job a minute), so that finds them by an index.
        try database.execute("""
            CREATE INDEX IF NOT EXISTS runs_running ON runs (status) WHERE status = 'running';
            UPDATE meta SET value = '4' WHERE key = 'schema_version' AND CAST(value AS INTEGER) < 4
            """)
        // 5: vectors by (model, width, SHA-256 of the stripped text), little-endian float32
        // (EmbeddingCacheStore.swift). WITHOUT ROWID: the key is the only access path.
        try database.execute("""
            CREATE TABLE IF NOT EXISTS embedding_cache (
              model TEXT NOT NULL, dimensions INTEGER NOT NULL, text_hash BLOB NOT NULL, vector BLOB NOT NULL,
              PRIMARY KEY (model, dimensions, text_hash)) WITHOUT ROWID;
            UPDATE meta SET value = '5' WHERE key = 'schema_version' AND CAST(value AS INTEGER) < 5
            """)
    }

    /// The schema version the `meta` table records; nil before the first open made it.
    private func storedSchemaVersion() throws(DatabaseError) -> Int? {
        guard try database.hasTable("meta") else { return nil }
        return try database.withStatement("SELECT value FROM meta WHERE key = 'schema_version'",
                                          operation: "read the state database's schema version") { stmt throws(DatabaseError) -> Int? in
            try stmt.step() ? stmt.text(0).flatMap { Int($0) } : nil
        }
    }
}
