import MemifyCore
package import GraphStore
package import SessionCache
import Extraction
import Foundation

/// One cached turn as the graph sees it: its identity, the document it becomes, and the hash of
/// everything that document is derived from.
package struct TurnDocument: Sendable {
    package var key: SessionKey
    package var index: Int
    package var entry: SessionQAEntry
    /// `qa_id`, or for entries without one (cognee 1.5.x) a uuid5 of the time and question.
    package var turnID: String
    package var datasetID: String
    package var contentHash: String

    /// The node set of every session-persisted document (graph spec §1.9).
    package static let nodeSet = "user_sessions_from_cache"

    /// Cheap: the identity and the content hash only. The document is built on demand, for
    /// the turns that changed (an unchanged cache must cost little more than reading it).
    package init(key: SessionKey, index: Int, entry: SessionQAEntry, datasetID: String, extractorIdentity: String) {
        self.key = key
        self.index = index
        self.entry = entry
        self.datasetID = datasetID
        turnID = Self.turnID(entry)
        contentHash = Self.contentHash(extractorIdentity: extractorIdentity, sessionID: key.sessionID, entry: entry)
    }

    package var documentID: String {
        GraphIdentity.uuid5("memify-turn:" + [datasetID, key.userID, key.sessionID, turnID].map(Self.escaped).joined(separator: ":"))
    }

    /// The cognee document of this turn (graph spec §8).
    package func builder() -> CogneeDocumentBuilder {
        let seconds = parseTimestamp(entry.time) ?? 0
        var builder = CogneeDocumentBuilder(
            datasetID: datasetID, documentID: documentID, text: Self.windowText(sessionID: key.sessionID, entry: entry),
            nodeSets: [Self.nodeSet], timestampMillis: Int64((seconds * 1000).rounded()), effectiveDate: entry.time,
            sourceUser: key.userID)
        var extra = JSONObject()
        extra["user_id"] = .string(key.userID)
        extra["session_id"] = .string(key.sessionID)
        extra["qa_id"] = .string(turnID)
        if let feedback = entry.feedbackText { extra["feedback_text"] = .string(feedback) }
        if let score = entry.feedbackScore { extra["feedback_score"] = .number(JSONNumber(score)) }
        builder.extraExternalMetadata = extra
        return builder
    }

    /// cognee's window text for one turn (graph spec §1.3): session id, question, answer; no
    /// context, feedback, time or user.
    package static func windowText(sessionID: String, entry: SessionQAEntry) -> String {
        "Session ID: \(sessionID)\n\nQuestion: \(entry.question)\n\nAnswer: \(entry.answer)\n\n"
    }

    package static func turnID(_ entry: SessionQAEntry) -> String {
        if let qaID = entry.qaID, !qaID.isEmpty { return qaID }
        return GraphIdentity.uuid5("memify-turn-without-qa-id:" + escaped(entry.time) + ":" + entry.question)
    }

    /// Everything the turn's rows are derived from, so an edit of any of it re-derives the turn
    /// and nothing else does: the extractor, the window text, the time, and the feedback.
    static func contentHash(extractorIdentity: String, sessionID: String, entry: SessionQAEntry) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entry.question.utf8.count + entry.answer.utf8.count + sessionID.utf8.count + 160)
        for part in [extractorIdentity, sessionID, entry.question, entry.answer, entry.time, entry.feedbackText ?? "\u{1}none",
                     entry.feedbackScore.map(String.init) ?? "\u{1}none", "v3"] {
            bytes.append(contentsOf: String(part.utf8.count).utf8)
            bytes.append(0x3A)
            bytes.append(contentsOf: part.utf8)
        }
        // A fast 128-bit hash, not a cryptographic one: it is computed for every turn of every
        // run, unchanged ones included (the "v3" above names this derivation).
        return FastHash.hex128(bytes)
    }

    private static func escaped(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "\\") }) else { return s }
        var out = ""
        for ch in s.unicodeScalars {
            if ch == ":" || ch == "\\" { out.unicodeScalars.append("\\") }
            out.unicodeScalars.append(ch)
        }
        return out
    }

}
