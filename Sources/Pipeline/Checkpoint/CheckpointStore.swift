package import MemifyCore
import GraphStore
package import SessionCache
import Extraction
import Foundation
import Synchronization

/// What the worker remembers of one persisted turn.
package struct TurnCheckpoint: Sendable, Equatable {
    package var userID: String
    package var sessionID: String
    package var turnID: String
    /// A hash of everything the turn's graph rows are derived from.
    package var contentHash: String
    package var documentID: String
    package var documentKey: String
    package var chunkKey: String
    package var turnTime: String
    package var runID: String

    package init(userID: String, sessionID: String, turnID: String, contentHash: String, documentID: String,
                documentKey: String, chunkKey: String, turnTime: String, runID: String) {
        self.userID = userID
        self.sessionID = sessionID
        self.turnID = turnID
        self.contentHash = contentHash
        self.documentID = documentID
        self.documentKey = documentKey
        self.chunkKey = chunkKey
        self.turnTime = turnTime
        self.runID = runID
    }
}

/// One quarantined element: its exact bytes, why, and where it was found.
package struct QuarantineEntry: Sendable, Equatable {
    package var id: Int64
    package var userID: String
    package var sessionID: String
    /// nil for a session-level problem (wrong Redis type, unreadable diskcache value).
    package var elementIndex: Int?
    package var reason: String
    package var raw: [UInt8]
    package var firstRunID: String
    package var lastRunID: String
    package var resolvedRunID: String?
}

/// Checkpoints in SQLite (WAL): per turn, per session, per run, and the quarantine.
///
/// The graph transaction commits before the checkpoint that records it: a crash between the two
/// only repeats idempotent work. All calls block; run them on the store's ``executor``.
package final class CheckpointStore: Sendable {
    package let path: String
    let database: SQLiteDatabase
    package let executor = BlockingExecutor(label: "memify.checkpoints")
    /// Rows that ``startRun(_:)`` and ``finishRun(_:status:exitCode:summary:)`` changed: when
    /// they are all the connection changed, the run was a no-op and ``close()`` skips the
    /// checkpoint.
    private let runRowChanges = Mutex(0)

    /// 2: the LLM response cache (`llm_cache`) and usage accounting (`usage`); 3: session
    /// fingerprints; 4: an index on the runs still `running`; 5: the embedding cache
    /// (`embedding_cache`). An open of a database at this version runs no DDL.
    package static let schemaVersion = 5

    /// Opens (creating or upgrading) the state database on a blocking thread: sqlite3 never runs
    /// on the caller's, which may be the cooperative pool.
    /// Reads through a memory map (up to 256 MiB of the file), for runs that read the embedding
    /// cache: it is read by random keys, a row or two of kilobytes each, and through read()
    /// every page was copied out of the page cache (a third of a warm vector run's time). Not
    /// the default: mapped pages count in the process's resident size.
    package func mapForReading() throws {
        try database.execute("PRAGMA mmap_size=268435456")
    }

    package static func open(path: String) async throws -> CheckpointStore {
        try await BlockingExecutor(label: "memify.checkpoints.open").run { try CheckpointStore(path: path) }
    }

    /// ``init(readOnlyPath:)`` on a blocking thread.
    package static func open(readOnlyPath path: String) async throws -> CheckpointStore {
        try await BlockingExecutor(label: "memify.checkpoints.open").run { try CheckpointStore(readOnlyPath: path) }
    }

    /// Opens the state database read-only: no file, table or WAL is created or written (for
    /// `stats`). Tables a newer schema added may be missing.
    package init(readOnlyPath path: String) throws {
        self.path = path
        database = try SQLiteDatabase(path: path, mode: .readOnly)
    }

    package init(path: String) throws {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        database = try SQLiteDatabase(path: path, mode: .readWriteCreate)
        try database.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL")
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

    /// Closes the database now; every later call throws. It checkpoints the WAL into the file
    /// (so the file alone holds every checkpoint, for a backup that copies only it), except
    /// after a run that changed nothing but its own `runs` row: a no-op run then syncs nothing,
    /// neither here nor, as the WAL is not empty, when the next run records its start. Those
    /// rows are in the file after the next run that writes, or at SQLite's auto-checkpoint.
    package func close() {
        let onlyRunRows = database.totalChanges == runRowChanges.withLock { $0 }
        database.close(checkpoint: !onlyRunRows)
    }

    /// `body`, counting the rows it changes as the run's own (see ``close()``).
    private func changingRunRow(_ body: () throws -> Void) throws {
        let before = database.totalChanges
        defer { runRowChanges.withLock { $0 += database.totalChanges - before } }
        try body()
    }

    /// The checkpoints of several sessions, by session and turn id, with one prepared statement.
    package func turns(of keys: [SessionKey]) throws -> [SessionKey: [String: TurnCheckpoint]] {
        try database.withStatement(
            "SELECT turn_id, content_hash, document_id, document_key, chunk_key, turn_time, run_id FROM turns WHERE user_id = ?1 AND session_id = ?2",
            operation: "read checkpoints"
        ) { stmt throws(DatabaseError) -> [SessionKey: [String: TurnCheckpoint]] in
            var out: [SessionKey: [String: TurnCheckpoint]] = [:]
            for key in keys {
                stmt.reset()
                try stmt.bind(1, key.userID)
                try stmt.bind(2, key.sessionID)
                var turns: [String: TurnCheckpoint] = [:]
                while try stmt.step() {
                    let turn = TurnCheckpoint(userID: key.userID, sessionID: key.sessionID, turnID: stmt.text(0) ?? "",
                                              contentHash: stmt.text(1) ?? "", documentID: stmt.text(2) ?? "",
                                              documentKey: stmt.text(3) ?? "", chunkKey: stmt.text(4) ?? "",
                                              turnTime: stmt.text(5) ?? "", runID: stmt.text(6) ?? "")
                    turns[turn.turnID] = turn
                }
                out[key] = turns
            }
            return out
        }
    }

    /// The checkpoints of some turns of one session (a slice of a session too large for one
    /// batch), by turn id; a turn without one is left out.
    package func turns(of key: SessionKey, turnIDs: [String]) throws -> [String: TurnCheckpoint] {
        try database.withStatement(
            "SELECT turn_id, content_hash, document_id, document_key, chunk_key, turn_time, run_id FROM turns WHERE user_id = ?1 AND session_id = ?2 AND turn_id = ?3",
            operation: "read checkpoints"
        ) { stmt throws(DatabaseError) -> [String: TurnCheckpoint] in
            var out: [String: TurnCheckpoint] = [:]
            for turnID in turnIDs {
                stmt.reset()
                try stmt.bind(1, key.userID)
                try stmt.bind(2, key.sessionID)
                try stmt.bind(3, turnID)
                if try stmt.step() { out[turnID] = Self.checkpoint(key, stmt) }
            }
            return out
        }
    }

    /// The checkpoints of one session's turns that `keep` says nothing of: read with a session's
    /// last slice, they are its turns the cache no longer holds. Only those are built.
    package func turns(of key: SessionKey, notIn keep: (String) -> Bool) throws -> [String: TurnCheckpoint] {
        try database.withStatement(
            "SELECT turn_id, content_hash, document_id, document_key, chunk_key, turn_time, run_id FROM turns WHERE user_id = ?1 AND session_id = ?2",
            operation: "read checkpoints"
        ) { stmt throws(DatabaseError) -> [String: TurnCheckpoint] in
            var out: [String: TurnCheckpoint] = [:]
            try stmt.bind(1, key.userID)
            try stmt.bind(2, key.sessionID)
            while try stmt.step() {
                guard let turnID = stmt.text(0), !keep(turnID) else { continue }
                out[turnID] = Self.checkpoint(key, stmt)
            }
            return out
        }
    }

    private static func checkpoint(_ key: SessionKey, _ stmt: SQLiteStatement) -> TurnCheckpoint {
        TurnCheckpoint(userID: key.userID, sessionID: key.sessionID, turnID: stmt.text(0) ?? "",
                       contentHash: stmt.text(1) ?? "", documentID: stmt.text(2) ?? "",
                       documentKey: stmt.text(3) ?? "", chunkKey: stmt.text(4) ?? "",
                       turnTime: stmt.text(5) ?? "", runID: stmt.text(6) ?? "")
    }

    /// Records persisted turns, forgets deleted ones and counts sessions, inside the caller's
    /// transaction (``record(persisted:removed:sessions:cleanSessions:runID:)`` holds it).
    func writeCheckpoints(persisted: [TurnCheckpoint], removed: [TurnCheckpoint], sessions: [(SessionKey, Int)],
                          fingerprints: [SessionKey: String] = [:], runID: String) throws(DatabaseError) {
        do {
            if !persisted.isEmpty {
                try database.withStatement("""
                    INSERT INTO turns (user_id, session_id, turn_id, content_hash, document_id, document_key, chunk_key, turn_time, run_id)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                    ON CONFLICT (user_id, session_id, turn_id) DO UPDATE SET content_hash = excluded.content_hash,
                      document_id = excluded.document_id, document_key = excluded.document_key, chunk_key = excluded.chunk_key,
                      turn_time = excluded.turn_time, run_id = excluded.run_id, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                    """, operation: "record checkpoints") { stmt throws(DatabaseError) in
                    for t in persisted {
                        stmt.reset()
                        for (i, value) in [t.userID, t.sessionID, t.turnID, t.contentHash, t.documentID, t.documentKey, t.chunkKey,
                                           t.turnTime, t.runID].enumerated() {
                            try stmt.bind(Int32(i + 1), value)
                        }
                        _ = try stmt.step()
                    }
                }
            }
            if !removed.isEmpty {
                try database.withStatement("DELETE FROM turns WHERE user_id = ?1 AND session_id = ?2 AND turn_id = ?3",
                                           operation: "forget deleted turns") { stmt throws(DatabaseError) in
                    for t in removed {
                        stmt.reset()
                        try stmt.bind(1, t.userID)
                        try stmt.bind(2, t.sessionID)
                        try stmt.bind(3, t.turnID)
                        _ = try stmt.step()
                    }
                }
            }
            if !sessions.isEmpty {
                try database.withStatement("""
                    INSERT INTO sessions (user_id, session_id, turns, last_run_id, fingerprint) VALUES (?1, ?2, ?3, ?4, ?5)
                    ON CONFLICT (user_id, session_id) DO UPDATE SET turns = excluded.turns, last_run_id = excluded.last_run_id,
                      fingerprint = excluded.fingerprint, last_seen_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                    """, operation: "record sessions") { stmt throws(DatabaseError) in
                    for (key, turns) in sessions {
                        stmt.reset()
                        try stmt.bind(1, key.userID)
                        try stmt.bind(2, key.sessionID)
                        try stmt.bind(3, Int64(turns))
                        try stmt.bind(4, runID)
                        // No fingerprint unless the whole session is persisted as read: a stale one never survives.
                        try stmt.bind(5, fingerprints[key])
                        _ = try stmt.step()
                    }
                }
            }
        }
    }

    /// Quarantines an element (or a whole session, index nil). The same bytes at the same place
    /// are one entry, however many runs meet them. Returns true when the entry is new.
    @discardableResult
    package func quarantine(key: SessionKey, index: Int?, reason: String, raw: [UInt8], runID: String) throws -> Bool {
        let hash = Digest.hex(Digest.sha256(raw))
        return try database.withStatement("""
            INSERT INTO quarantine (user_id, session_id, element_index, reason, raw, raw_hash, first_run_id, last_run_id)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
            ON CONFLICT (user_id, session_id, ifnull(element_index, -1), raw_hash) DO UPDATE SET last_run_id = excluded.last_run_id,
              reason = excluded.reason
            RETURNING first_run_id
            """, operation: "quarantine an element") { stmt throws(DatabaseError) -> Bool in
            try stmt.bind(1, key.userID)
            try stmt.bind(2, key.sessionID)
            try stmt.bind(3, index.map { Int64($0) })
            try stmt.bind(4, reason)
            try stmt.bindBlob(5, bytes: raw)
            try stmt.bind(6, hash)
            try stmt.bind(7, runID)
            _ = try stmt.step()
            return stmt.text(0) == runID
        }
    }

    /// Marks the open quarantine entries of a session resolved (it read cleanly this run).
    package func resolveQuarantine(key: SessionKey, runID: String) throws(DatabaseError) {
        try database.withStatement(
            "UPDATE quarantine SET resolved_run_id = ?3 WHERE user_id = ?1 AND session_id = ?2 AND resolved_run_id IS NULL",
            operation: "resolve quarantine") { stmt throws(DatabaseError) in
            try stmt.bind(1, key.userID)
            try stmt.bind(2, key.sessionID)
            try stmt.bind(3, runID)
            _ = try stmt.step()
        }
    }

    package func quarantined(includeResolved: Bool = false) throws -> [QuarantineEntry] {
        try database.withStatement(
            "SELECT id, user_id, session_id, element_index, reason, raw, first_run_id, last_run_id, resolved_run_id FROM quarantine"
                + (includeResolved ? "" : " WHERE resolved_run_id IS NULL") + " ORDER BY id",
            operation: "list quarantine"
        ) { stmt throws(DatabaseError) -> [QuarantineEntry] in
            var out: [QuarantineEntry] = []
            while try stmt.step() {
                out.append(QuarantineEntry(
                    id: stmt.int64(0), userID: stmt.text(1) ?? "", sessionID: stmt.text(2) ?? "",
                    elementIndex: stmt.columnType(3) == .null ? nil : Int(stmt.int64(3)), reason: stmt.text(4) ?? "",
                    raw: stmt.bytes(5), firstRunID: stmt.text(6) ?? "", lastRunID: stmt.text(7) ?? "", resolvedRunID: stmt.text(8)))
            }
            return out
        }
    }

    /// Binds the checkpoints to one graph and dataset (`binding`) on first use; returns the other
    /// binding when they already belong elsewhere (nil when they are this one's, or when there
    /// are no turn checkpoints to mistake).
    package func bindGraph(_ binding: String) throws -> String? {
        let existing = try database.withStatement("SELECT value FROM meta WHERE key = 'graph'", operation: "read the graph binding") {
            stmt throws(DatabaseError) -> String? in
            try stmt.step() ? stmt.text(0) : nil
        }
        if let existing, existing == binding { return nil }
        if let existing {
            // Bound elsewhere, but vouching for nothing (no turn checkpoints): rebinding loses
            // nothing, and keeps what else the state holds (the LLM response cache).
            let turns = try database.withStatement("SELECT EXISTS (SELECT 1 FROM turns)", operation: "count checkpoints") {
                stmt throws(DatabaseError) -> Bool in
                try stmt.step() && stmt.text(0) == "1"
            }
            if turns { return existing }
        }
        // Fingerprints vouch for sessions persisted into the graph bound before: none carries over,
        // and neither does the standing against that graph's turn registry.
        try database.execute("""
            UPDATE sessions SET fingerprint = NULL WHERE fingerprint IS NOT NULL;
            DELETE FROM meta WHERE key IN ('graph_seq', 'graph_synced')
            """)
        try database.withStatement("INSERT OR REPLACE INTO meta (key, value) VALUES ('graph', ?1)", operation: "record the graph binding") {
            stmt throws(DatabaseError) in
            try stmt.bind(1, binding)
            _ = try stmt.step()
        }
        return nil
    }

    /// How the checkpoints stand against the graph's turn registry (`memify_turn`,
    /// `memify_commit`): this state's id (made on first ask), the graph's commit counter as of
    /// the last checkpointed batch, and the scope of the last run that left them in step with
    /// the graph (nil while they may be behind it).
    package struct GraphSyncRecord: Sendable, Equatable {
        package var stateID: String
        package var sequence: Int64
        package var syncedScope: String?
        /// Whether the state holds any turn checkpoint.
        package var hasTurns: Bool
    }

    package func graphSyncRecord() throws -> GraphSyncRecord {
        func meta(_ key: String) throws(DatabaseError) -> String? {
            try database.withStatement("SELECT value FROM meta WHERE key = ?1", operation: "read \(key)") { stmt throws(DatabaseError) -> String? in
                try stmt.bind(1, key)
                return try stmt.step() ? stmt.text(0) : nil
            }
        }
        let stateID: String
        if let id = try meta("state_id") {
            stateID = id
        } else {
            stateID = UUID().uuidString.lowercased()
            try setMeta("state_id", stateID)
        }
        let hasTurns = try database.withStatement("SELECT EXISTS (SELECT 1 FROM turns)", operation: "count checkpoints") {
            stmt throws(DatabaseError) -> Bool in
            try stmt.step() && stmt.int64(0) == 1
        }
        return GraphSyncRecord(stateID: stateID, sequence: Int64(try meta("graph_seq") ?? "0") ?? 0, syncedScope: try meta("graph_synced"),
                             hasTurns: hasTurns)
    }

    /// A reconciling run begins: until one completes, the checkpoints are not in step with the
    /// graph, and no session fingerprint vouches for anything (a restored state's fingerprints
    /// may vouch for bytes the graph has moved past).
    package func beginReconcile() throws {
        try database.transaction { () throws(DatabaseError) in
            try database.execute("""
                DELETE FROM meta WHERE key = 'graph_synced';
                UPDATE sessions SET fingerprint = NULL WHERE fingerprint IS NOT NULL
                """)
        }
    }

    /// The checkpoints are in step with the graph's commit counter `sequence` for runs of `scope`.
    package func markSynced(scope: String, sequence: Int64) throws {
        try database.transaction { () throws(DatabaseError) in
            try setMeta("graph_seq", String(sequence))
            try setMeta("graph_synced", scope)
        }
    }

    private func setMeta(_ key: String, _ value: String) throws(DatabaseError) {
        try database.withStatement("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", operation: "record \(key)") {
            stmt throws(DatabaseError) in
            try stmt.bind(1, key)
            try stmt.bind(2, value)
            _ = try stmt.step()
        }
    }

    /// Up to `limit` turn checkpoints after `rowID` in storage order, and the last one's row id
    /// (to register, page by page, the turns a state persisted before the graph kept a registry).
    package func turnsPage(after rowID: Int64, limit: Int) throws -> (turns: [TurnCheckpoint], last: Int64) {
        try database.withStatement("""
            SELECT rowid, user_id, session_id, turn_id, content_hash, document_id, document_key, chunk_key, turn_time, run_id
            FROM turns WHERE rowid > ?1 ORDER BY rowid LIMIT ?2
            """, operation: "read checkpoints") { stmt throws(DatabaseError) -> (turns: [TurnCheckpoint], last: Int64) in
            try stmt.bind(1, rowID)
            try stmt.bind(2, Int64(limit))
            var out: [TurnCheckpoint] = []
            var last = rowID
            while try stmt.step() {
                last = stmt.int64(0)
                out.append(TurnCheckpoint(userID: stmt.text(1) ?? "", sessionID: stmt.text(2) ?? "", turnID: stmt.text(3) ?? "",
                                          contentHash: stmt.text(4) ?? "", documentID: stmt.text(5) ?? "", documentKey: stmt.text(6) ?? "",
                                          chunkKey: stmt.text(7) ?? "", turnTime: stmt.text(8) ?? "", runID: stmt.text(9) ?? ""))
            }
            return (out, last)
        }
    }

    /// Records a run's start. Call it holding the run lock: a row still `running` then belongs to
    /// a run that died (SIGKILL, power loss) and is marked `aborted`.
    package func startRun(_ runID: String) throws {
        // One transaction, one commit.
        try changingRunRow { try database.transaction { () throws(DatabaseError) in
            try database.execute("""
                UPDATE runs SET status = 'aborted', finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                  WHERE status = 'running'
                """)
            try database.withStatement(
                "INSERT INTO runs (run_id, started_at, status) VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'running')",
                operation: "record run start") { stmt throws(DatabaseError) in
                try stmt.bind(1, runID)
                _ = try stmt.step()
            }
        } }
    }

    package func finishRun(_ runID: String, status: String, exitCode: Int32, summary: String) throws {
        try changingRunRow { try database.withStatement(
            "UPDATE runs SET finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), status = ?2, exit_code = ?3, summary = ?4 WHERE run_id = ?1",
            operation: "record run end") { stmt throws(DatabaseError) in
            try stmt.bind(1, runID)
            try stmt.bind(2, status)
            try stmt.bind(3, Int64(exitCode))
            try stmt.bind(4, summary)
            _ = try stmt.step()
        } }
    }

    package struct Status: Sendable {
        package var turns: Int
        package var sessions: Int
        package var openQuarantine: Int
        package var resolvedQuarantine: Int
        package var lastRuns: [(runID: String, startedAt: String, finishedAt: String?, status: String, summary: String?)]
        package var lastSuccess: String?
    }

    /// Quarantined elements not yet resolved (cheap: a run ends with it, whatever the state's size).
    package func openQuarantineCount() throws -> Int {
        try database.withStatement("SELECT count(*) FROM quarantine WHERE resolved_run_id IS NULL",
                                   operation: "count open quarantine") { stmt throws(DatabaseError) -> Int in
            _ = try stmt.step()
            return Int(stmt.int64(0))
        }
    }

    /// When a run last finished with status done or partial.
    package func lastSuccess() throws -> String? {
        try database.withStatement("SELECT max(finished_at) FROM runs WHERE status IN ('done', 'partial')",
                                   operation: "read last success") { stmt throws(DatabaseError) -> String? in
            _ = try stmt.step()
            return stmt.text(0)
        }
    }

    /// Everything `status` prints. Counts every checkpoint: not for the end of each run.
    package func status(lastRuns: Int = 5) throws -> Status {
        func count(_ sql: String) throws(DatabaseError) -> Int {
            try database.withStatement(sql, operation: "count") { stmt throws(DatabaseError) -> Int in
                _ = try stmt.step()
                return Int(stmt.int64(0))
            }
        }
        let runs = try database.withStatement(
            "SELECT run_id, started_at, finished_at, status, summary FROM runs ORDER BY started_at DESC LIMIT \(max(1, lastRuns))",
            operation: "read runs"
        ) { stmt throws(DatabaseError) -> [(runID: String, startedAt: String, finishedAt: String?, status: String, summary: String?)] in
            var out: [(runID: String, startedAt: String, finishedAt: String?, status: String, summary: String?)] = []
            while try stmt.step() { out.append((stmt.text(0) ?? "", stmt.text(1) ?? "", stmt.text(2), stmt.text(3) ?? "", stmt.text(4))) }
            return out
        }
        return Status(turns: try count("SELECT count(*) FROM turns"), sessions: try count("SELECT count(*) FROM sessions"),
                      openQuarantine: try openQuarantineCount(),
                      resolvedQuarantine: try count("SELECT count(*) FROM quarantine WHERE resolved_run_id IS NOT NULL"),
                      lastRuns: runs, lastSuccess: try lastSuccess())
    }
}

/// What the runner needs from a checkpoint store: the stage boundary between the pipeline and
/// its memory. `CheckpointStore` (SQLite, WAL) is the implementation; the runner knows only this.
package protocol CheckpointStoring: Sendable {
    /// The checkpoints of these sessions, by session and turn id.
    func loadTurns(of keys: [SessionKey]) async throws -> [SessionKey: [String: TurnCheckpoint]]
    /// The checkpoints of these turns of one session (a slice of a large session), by turn id.
    func loadTurns(of key: SessionKey, turnIDs: [String]) async throws -> [String: TurnCheckpoint]
    /// The checkpoints of one session's turns not in `seen`: with a session read in slices, its
    /// deleted turns once every slice has been read.
    func loadTurns(of key: SessionKey, notIn seen: Set<String>) async throws -> [String: TurnCheckpoint]
    /// Quarantines elements (index nil: the whole session), with their exact bytes and reasons.
    func quarantine(_ items: [(key: SessionKey, index: Int?, reason: String, raw: [UInt8])], runID: String) async throws
    /// Records persisted turns, forgets deleted ones, counts sessions and resolves the quarantine
    /// of sessions that read cleanly, in one transaction. Called after the graph committed.
    /// `graphSequence`: the graph's commit counter for this state after the batch (nil when the
    /// batch committed nothing to the graph), recorded in the same transaction.
    func record(persisted: [TurnCheckpoint], removed: [TurnCheckpoint], sessions: [(SessionKey, Int)],
                cleanSessions: [SessionKey], fingerprints: [SessionKey: String], graphSequence: Int64?, runID: String) async throws
    /// The fingerprints of sessions persisted whole (see ``SessionFingerprints``).
    func sessionFingerprints() async throws -> KnownFingerprints
}

extension CheckpointStore: CheckpointStoring {
    package func loadTurns(of keys: [SessionKey]) async throws -> [SessionKey: [String: TurnCheckpoint]] {
        guard !keys.isEmpty else { return [:] }
        return try await executor.run { try self.turns(of: keys) }
    }

    package func loadTurns(of key: SessionKey, turnIDs: [String]) async throws -> [String: TurnCheckpoint] {
        guard !turnIDs.isEmpty else { return [:] }
        return try await executor.run { try self.turns(of: key, turnIDs: turnIDs) }
    }

    package func loadTurns(of key: SessionKey, notIn seen: Set<String>) async throws -> [String: TurnCheckpoint] {
        try await executor.run { try self.turns(of: key, notIn: { seen.contains($0) }) }
    }

    package func quarantine(_ items: [(key: SessionKey, index: Int?, reason: String, raw: [UInt8])], runID: String) async throws {
        guard !items.isEmpty else { return }
        let list = items.map { QuarantineItem(key: $0.key, index: $0.index, reason: $0.reason, raw: $0.raw) }
        try await executor.run {
            for item in list { try self.quarantine(key: item.key, index: item.index, reason: item.reason, raw: item.raw, runID: runID) }
        }
    }

    package func sessionFingerprints() async throws -> KnownFingerprints {
        try await executor.run {
            try self.database.withStatement("SELECT user_id, session_id, fingerprint FROM sessions WHERE fingerprint IS NOT NULL",
                                            operation: "read session fingerprints") { stmt throws(DatabaseError) -> KnownFingerprints in
                // In place, no strings: this runs once per session before a no-op run's first read.
                var out = KnownFingerprints()
                var scratch: [UInt8] = []
                while try stmt.step() {
                    stmt.withBytes(0) { user in
                        stmt.withBytes(1) { session in
                            stmt.withBytes(2) { hex in out.insert(userID: user, sessionID: session, hex: hex, scratch: &scratch) }
                        }
                    }
                }
                return out
            }
        }
    }

    package func record(persisted: [TurnCheckpoint], removed: [TurnCheckpoint], sessions: [(SessionKey, Int)],
                       cleanSessions: [SessionKey], fingerprints: [SessionKey: String], graphSequence: Int64?, runID: String) async throws {
        let counts = sessions.map { SessionCount(key: $0.0, turns: $0.1) }
        try await executor.run {
            try self.database.transaction { () throws(DatabaseError) in
                try self.writeCheckpoints(persisted: persisted, removed: removed, sessions: counts.map { ($0.key, $0.turns) },
                                          fingerprints: fingerprints, runID: runID)
                for key in cleanSessions { try self.resolveQuarantine(key: key, runID: runID) }
                if let graphSequence { try self.setMeta("graph_seq", String(graphSequence)) }
            }
        }
    }
}

private struct QuarantineItem: Sendable {
    var key: SessionKey
    var index: Int?
    var reason: String
    var raw: [UInt8]
}

private struct SessionCount: Sendable {
    var key: SessionKey
    var turns: Int
}
