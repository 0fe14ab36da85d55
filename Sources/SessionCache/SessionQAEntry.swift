package import MemifyCore
/// One question/answer turn as cognee 1.6.5 stores it (`SessionQAEntry`, spec §3.1), holding the
/// values cognee's own `get_session` returns after validation: empty containers normalized to
/// nil, `used_graph_element_ids` rebuilt as `node_ids` then `edge_ids`, unknown keys dropped.
package struct SessionQAEntry: Sendable, Equatable {
    package struct UsedGraphElementIDs: Sendable, Equatable {
        package var nodeIDs: [String]?
        package var edgeIDs: [String]?

        package init(nodeIDs: [String]? = nil, edgeIDs: [String]? = nil) {
            self.nodeIDs = nodeIDs
            self.edgeIDs = edgeIDs
        }
    }

    /// The field names in cognee's serialization order.
    package static let fieldNames = [
        "time", "question", "context", "answer", "qa_id", "feedback_text", "feedback_score",
        "used_graph_element_ids", "memify_metadata", "used_session_context_ids",
    ]

    package var time: String {
        get { text(0) }
        set { self = replacing(time: newValue) }
    }
    package var question: String {
        get { text(1) }
        set { self = replacing(question: newValue) }
    }
    package var context: String {
        get { text(2) }
        set { self = replacing(context: newValue) }
    }
    package var answer: String {
        get { text(3) }
        set { self = replacing(answer: newValue) }
    }
    package var qaID: String? {
        get { absent & Self.qaIDAbsent != 0 ? nil : text(4) }
        set { self = replacing(qaID: .some(newValue)) }
    }
    package var feedbackText: String? {
        get { absent & Self.feedbackTextAbsent != 0 ? nil : text(5) }
        set { self = replacing(feedbackText: .some(newValue)) }
    }
    /// 1...5 when set. cognee's pydantic model coerces `true`, `3.0` and `"3"` to an int.
    package var feedbackScore: Int?
    package var usedGraphElementIDs: UsedGraphElementIDs? {
        get { rare?.usedGraphElementIDs }
        set { self = replacing(usedGraphElementIDs: .some(newValue)) }
    }
    /// Values are bools, ints, strings or lists of strings (1.6.5).
    package var memifyMetadata: JSONObject? {
        get { rare?.memifyMetadata }
        set { self = replacing(memifyMetadata: .some(newValue)) }
    }
    package var usedSessionContextIDs: [String]? {
        get { rare?.usedSessionContextIDs }
        set { self = replacing(usedSessionContextIDs: .some(newValue)) }
    }

    /// This entry with the given fields changed (a setter's work: the texts are stored together).
    private func replacing(time: String? = nil, question: String? = nil, context: String? = nil, answer: String? = nil,
                           qaID: String?? = nil, feedbackText: String?? = nil, usedGraphElementIDs: UsedGraphElementIDs?? = nil,
                           memifyMetadata: JSONObject?? = nil, usedSessionContextIDs: [String]?? = nil) -> SessionQAEntry {
        SessionQAEntry(time: time ?? self.time, question: question ?? self.question, context: context ?? self.context,
                       answer: answer ?? self.answer, qaID: qaID ?? self.qaID, feedbackText: feedbackText ?? self.feedbackText,
                       feedbackScore: feedbackScore, usedGraphElementIDs: usedGraphElementIDs ?? self.usedGraphElementIDs,
                       memifyMetadata: memifyMetadata ?? self.memifyMetadata,
                       usedSessionContextIDs: usedSessionContextIDs ?? self.usedSessionContextIDs)
    }

    // Storage. A reader holds many entries for a moment and most of their texts are never read
    // one by one (an unchanged turn is skipped, a dump writes them out), so an entry keeps its
    // six texts as UTF-8, one after another, in an ``EntryText`` buffer that the entries of one
    // read share: one allocation a session, not four to six an entry. Each text becomes a
    // `String` when asked for.

    /// Holds the UTF-8 of time, question, context, answer, qa_id and feedback_text, in that order.
    private let storage: EntryText
    /// `bounds[0]` is where the time starts in `storage`, `bounds[i + 1]` where text `i` ends
    /// (each starts where the one before ends).
    private let bounds: SIMD8<UInt32>
    /// ``qaIDAbsent`` and ``feedbackTextAbsent``: which of the two optional texts are nil.
    private let absent: UInt8
    /// The three fields cognee itself leaves null in almost every entry.
    private let rare: Rare?

    static let qaIDAbsent: UInt8 = 1 << 4
    static let feedbackTextAbsent: UInt8 = 1 << 5

    private final class Rare: Sendable {
        let usedGraphElementIDs: UsedGraphElementIDs?
        let memifyMetadata: JSONObject?
        let usedSessionContextIDs: [String]?

        init(_ usedGraphElementIDs: UsedGraphElementIDs?, _ memifyMetadata: JSONObject?, _ usedSessionContextIDs: [String]?) {
            self.usedGraphElementIDs = usedGraphElementIDs
            self.memifyMetadata = memifyMetadata
            self.usedSessionContextIDs = usedSessionContextIDs
        }
    }

    package init(time: String, question: String, context: String, answer: String, qaID: String? = nil,
                feedbackText: String? = nil, feedbackScore: Int? = nil,
                usedGraphElementIDs: UsedGraphElementIDs? = nil, memifyMetadata: JSONObject? = nil,
                usedSessionContextIDs: [String]? = nil) {
        let texts = [time, question, context, answer, qaID ?? "", feedbackText ?? ""]
        let total = texts.reduce(0) { $0 + $1.utf8.count }
        var arena = EntryTextArena(capacity: total)
        let (start, address) = arena.space(for: total)
        var bounds = SIMD8<UInt32>(repeating: UInt32(start))
        var end = 0
        for (i, text) in texts.enumerated() {
            for byte in text.utf8 {
                address[end] = byte
                end += 1
            }
            bounds[i + 1] = UInt32(start + end)
        }
        arena.commit(end)
        self.storage = arena.buffer
        self.bounds = bounds
        self.absent = (qaID == nil ? Self.qaIDAbsent : 0) | (feedbackText == nil ? Self.feedbackTextAbsent : 0)
        self.feedbackScore = feedbackScore
        self.rare = usedGraphElementIDs == nil && memifyMetadata == nil && usedSessionContextIDs == nil
            ? nil : Rare(usedGraphElementIDs, memifyMetadata, usedSessionContextIDs)
    }

    /// An entry of texts only, as the canonical fast path reads it.
    init(storage: EntryText, bounds: SIMD8<UInt32>, absent: UInt8, feedbackScore: Int?) {
        self.storage = storage
        self.bounds = bounds
        self.absent = absent
        self.feedbackScore = feedbackScore
        self.rare = nil
    }

    @inline(__always) private func text(_ i: Int) -> String {
        let start = Int(bounds[i]), end = Int(bounds[i + 1])
        return storage.withUnsafeMutablePointerToElements {
            String(decoding: UnsafeBufferPointer(start: $0 + start, count: end - start), as: UTF8.self)
        }
    }

    /// Field by field, as when each was its own `String`.
    package static func == (a: Self, b: Self) -> Bool {
        a.time == b.time && a.question == b.question && a.context == b.context && a.answer == b.answer
            && a.qaID == b.qaID && a.feedbackText == b.feedbackText && a.feedbackScore == b.feedbackScore
            && a.usedGraphElementIDs == b.usedGraphElementIDs && a.memifyMetadata == b.memifyMetadata
            && a.usedSessionContextIDs == b.usedSessionContextIDs
    }

    /// The entry as a JSON object with cognee's ten fields in cognee's order (its `model_dump()`).
    package var jsonValue: JSONValue {
        func strings(_ list: [String]?) -> JSONValue {
            list.map { .array($0.map(JSONValue.string)) } ?? .null
        }
        var object = JSONObject()
        object["time"] = .string(time)
        object["question"] = .string(question)
        object["context"] = .string(context)
        object["answer"] = .string(answer)
        object["qa_id"] = qaID.map(JSONValue.string) ?? .null
        object["feedback_text"] = feedbackText.map(JSONValue.string) ?? .null
        object["feedback_score"] = feedbackScore.map { .number(JSONNumber($0)) } ?? .null
        if let ids = usedGraphElementIDs {
            var inner = JSONObject()
            if let nodes = ids.nodeIDs { inner["node_ids"] = strings(nodes) }
            if let edges = ids.edgeIDs { inner["edge_ids"] = strings(edges) }
            object["used_graph_element_ids"] = .object(inner)
        } else {
            object["used_graph_element_ids"] = .null
        }
        object["memify_metadata"] = memifyMetadata.map(JSONValue.object) ?? .null
        object["used_session_context_ids"] = strings(usedSessionContextIDs)
        return .object(object)
    }
}

extension SessionQAEntry {
    /// The entry exactly as cognee stores it: `json.dumps(model_dump())`.
    package var cogneeJSON: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(question.utf8.count + answer.utf8.count + context.utf8.count + 320)
        JSONWriter.write(jsonValue, style: .python, into: &out)
        return out
    }
}
