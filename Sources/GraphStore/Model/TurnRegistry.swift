import MemifyCore
import Foundation

/// One turn the graph holds, as its `memify_turn` row records it: written in the same
/// transaction as the turn's rows, so the graph itself always knows which turns it holds, whatever
/// became of the state database that checkpoints them (a crash between a batch's commit and its
/// checkpoint, a lost `state.db`, one restored from an older copy).
package struct RegisteredTurn: Sendable, Equatable {
    package var userID: String
    package var sessionID: String
    package var turnID: String
    package var documentID: String
    package var contentHash: String
    package var documentKey: String
    package var chunkKey: String
    package var turnTime: String

    package init(userID: String, sessionID: String, turnID: String, documentID: String, contentHash: String,
                documentKey: String, chunkKey: String, turnTime: String) {
        self.userID = userID
        self.sessionID = sessionID
        self.turnID = turnID
        self.documentID = documentID
        self.contentHash = contentHash
        self.documentKey = documentKey
        self.chunkKey = chunkKey
        self.turnTime = turnTime
    }

    /// The row's key within a dataset, as stored (``RegistryText``).
    var key: [String] { [userID, sessionID, turnID].map(RegistryText.encode) }

    /// The row's values after the dataset, in column order, as stored.
    var storedValues: [String] {
        [RegistryText.encode(userID), RegistryText.encode(sessionID), RegistryText.encode(turnID), documentID, contentHash, documentKey,
         chunkKey, RegistryText.encode(turnTime)]
    }

    /// A row read back: the stored values in column order.
    init(stored v: [String]) {
        self.init(userID: RegistryText.decode(v[0]), sessionID: RegistryText.decode(v[1]), turnID: RegistryText.decode(v[2]),
                  documentID: v[3], contentHash: v[4], documentKey: v[5], chunkKey: v[6], turnTime: RegistryText.decode(v[7]))
    }
}

/// How the cache's own strings (user, session and turn ids, the turn time) are stored in
/// `memify_turn`: exactly, except NUL (which PostgreSQL text cannot hold) as `%00` and `%` as
/// `%25`, so every id round-trips and two ids never meet in one row.
enum RegistryText {
    static func encode(_ text: String) -> String {
        guard text.containsByte(0) || text.containsByte(UInt8(ascii: "%")) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\u{0}": out += "%00"
            case "%": out += "%25"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func decode(_ text: String) -> String {
        guard text.containsByte(UInt8(ascii: "%")) else { return text }
        return text.replacingOccurrences(of: "%00", with: "\u{0}").replacingOccurrences(of: "%25", with: "%")
    }
}

/// Everything one batch changes in the graph, committed in ONE transaction (see
/// ``GraphWriter/commit(_:)``): its rows, the retraction of what it replaces or deletes, the
/// registry of the turns it persists or deletes, and the commit counter of the state that wrote it.
package struct GraphCommit: Sendable {
    package var batch: GraphBatch
    /// Provenance keys to retract after the rows are written (replaced chunks, deleted turns).
    package var retracting: [String]
    package var datasetID: String
    /// Turns whose `memify_turn` rows are upserted.
    package var registering: [RegisteredTurn]
    /// Turns whose `memify_turn` rows are deleted (only their keys are used).
    package var unregistering: [RegisteredTurn]
    /// Registry rows already there are kept as they are (for registering what an older state
    /// database vouches for, which the graph may have moved past).
    package var keepRegistered = false
    /// The state database that writes this batch: its counter in `memify_commit` is bumped and
    /// returned. nil: no counter.
    package var stateID: String?
    /// The batch's rows' vectors (nil: vectors off). Retractions remove the vectors of the rows
    /// they delete either way, from whatever collections the graph has.
    package var vectors: VectorBatch?

    package init(batch: GraphBatch = GraphBatch(), retracting: [String] = [], datasetID: String, registering: [RegisteredTurn] = [],
                unregistering: [RegisteredTurn] = [], keepRegistered: Bool = false, stateID: String? = nil, vectors: VectorBatch? = nil) {
        self.vectors = vectors
        self.keepRegistered = keepRegistered
        self.batch = batch
        self.retracting = retracting
        self.datasetID = datasetID
        self.registering = registering
        self.unregistering = unregistering
        self.stateID = stateID
    }

    /// The registry rows to upsert, one per key (the last wins).
    var uniqueRegistering: [RegisteredTurn] {
        var seen: [[String]: Int] = [:]
        var out: [RegisteredTurn] = []
        for turn in registering {
            if let i = seen[turn.key] { out[i] = turn } else { seen[turn.key] = out.count; out.append(turn) }
        }
        return out
    }
}

/// What a ``GraphCommit`` did.
package struct GraphCommitResult: Sendable, Equatable {
    package var rowsWritten = 0
    package var rowsDeleted = 0
    /// Vector rows inserted or changed, and removed.
    package var vectorsWritten = 0
    package var vectorsDeleted = 0
    /// The state's commit counter after this commit (nil when the commit named no state).
    package var sequence: Int64?

    package init() {}
}
