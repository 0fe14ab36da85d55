import MemifyCore
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

/// The state database's blocking side: checkpoints per turn, per session, per run, and the
/// quarantine, in SQLite (WAL). Every call blocks; a ``CheckpointStore`` hands it out only inside
/// its `read {}` and `write {}`, on the state database's own thread.
///
/// The graph transaction commits before the checkpoint that records it: a crash between the two
/// only repeats idempotent work.
package final class StateDatabase: Sendable {
    package let path: String
    let database: SQLiteDatabase
    /// Rows that ``startRun(_:)`` and ``finishRun(_:status:exitCode:summary:)`` changed: when
    /// they are all the connection changed, the run was a no-op and ``close()`` skips the
    /// checkpoint.
    private let runRowChanges = Mutex(0)

    /// Reads through a memory map (up to 256 MiB of the file), for runs that read the embedding
    /// cache: it is read by random keys, a row or two of kilobytes each, and through read()
    /// every page is copied out of the page cache. Not the default: mapped pages count in the
    /// process's resident size.
    package func mapForReading() throws {
        try database.execute("PRAGMA mmap_size=268435456")
    }

    /// Opens the state database read-only: no file, table or WAL is created or written (for
    /// `stats`). Tables a newer schema added may be missing.
    init(readOnlyPath path: String) throws {
        self.path = path
        database = try SQLiteDatabase(path: path, mode: .readOnly)
    }

    init(path: String) throws {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        database = try SQLiteDatabase(path: path, mode: .readWriteCreate)
        try database.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL")
        try migrate()
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
    func changingRunRow(_ body: () throws -> Void) throws {
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

    func setMeta(_ key: String, _ value: String) throws(DatabaseError) {
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
}
