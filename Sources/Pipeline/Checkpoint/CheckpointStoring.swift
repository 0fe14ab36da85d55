import MemifyCore
package import SessionCache

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
        return try await read { state in try state.turns(of: keys) }
    }

    package func loadTurns(of key: SessionKey, turnIDs: [String]) async throws -> [String: TurnCheckpoint] {
        guard !turnIDs.isEmpty else { return [:] }
        return try await read { state in try state.turns(of: key, turnIDs: turnIDs) }
    }

    package func loadTurns(of key: SessionKey, notIn seen: Set<String>) async throws -> [String: TurnCheckpoint] {
        try await read { state in try state.turns(of: key, notIn: { seen.contains($0) }) }
    }

    package func quarantine(_ items: [(key: SessionKey, index: Int?, reason: String, raw: [UInt8])], runID: String) async throws {
        guard !items.isEmpty else { return }
        let list = items.map { QuarantineItem(key: $0.key, index: $0.index, reason: $0.reason, raw: $0.raw) }
        try await write { state in
            for item in list { try state.quarantine(key: item.key, index: item.index, reason: item.reason, raw: item.raw, runID: runID) }
        }
    }

    package func sessionFingerprints() async throws -> KnownFingerprints {
        try await read { state in
            try state.database.withStatement("SELECT user_id, session_id, fingerprint FROM sessions WHERE fingerprint IS NOT NULL",
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
        try await write { state in
            try state.database.transaction { () throws(DatabaseError) in
                try state.writeCheckpoints(persisted: persisted, removed: removed, sessions: counts.map { ($0.key, $0.turns) },
                                          fingerprints: fingerprints, runID: runID)
                for key in cleanSessions { try state.resolveQuarantine(key: key, runID: runID) }
                if let graphSequence { try state.setMeta("graph_seq", String(graphSequence)) }
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
