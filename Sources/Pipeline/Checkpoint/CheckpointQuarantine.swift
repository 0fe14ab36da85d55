package import MemifyCore
package import SessionCache

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

extension StateDatabase {
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

    /// Quarantined elements not yet resolved (cheap: a run ends with it, whatever the state's size).
    package func openQuarantineCount() throws -> Int {
        try database.withStatement("SELECT count(*) FROM quarantine WHERE resolved_run_id IS NULL",
                                   operation: "count open quarantine") { stmt throws(DatabaseError) -> Int in
            _ = try stmt.step()
            return Int(stmt.int64(0))
        }
    }
}
