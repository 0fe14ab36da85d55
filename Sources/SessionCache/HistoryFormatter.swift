import MemifyCore
/// cognee's `SessionManager.format_entries` (spec §10.3), character for character.
package enum HistoryFormatter {
    package static func format(_ entries: [SessionQAEntry], includeContext: Bool) -> String {
        guard !entries.isEmpty else { return "" }
        var out = "Previous conversation:\n\n"
        for entry in entries {
            out += "[\(entry.time)]\n"
            out += "QUESTION: \(entry.question)\n"
            if includeContext { out += "CONTEXT: \(entry.context)\n" }
            out += "ANSWER: \(entry.answer)\n\n"
        }
        return out
    }
}
