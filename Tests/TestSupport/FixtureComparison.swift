package import MemifyCore
import GraphStore
package import SessionCache
import Extraction
import Pipeline
import MemifyTools

/// What a reader returned for one session, reduced to what cognee's verdicts can be compared with.
package struct ObservedSession: Sendable {
    package var entries: [JSONValue]
    /// Element indexes reported bad; nil for a session-level error.
    package var errorIndexes: [Int?]

    package init(entries: [JSONValue], errorIndexes: [Int?]) {
        self.entries = entries
        self.errorIndexes = errorIndexes
    }

    package init(_ read: SessionRead) {
        entries = read.elements.map(\.entry.jsonValue)
        errorIndexes = read.errors.map(\.index) + (read.sessionError == nil ? [] : [nil])
    }

    /// Every line of a `sessions dump` output, by session.
    package static func parse(dump: [UInt8]) throws -> [SessionKey: ObservedSession] {
        var observed: [SessionKey: ObservedSession] = [:]
        for line in dump.split(separator: UInt8(ascii: "\n")) {
            guard case .object(let object) = try JSONParser.parse(Array(line)) else { continue }
            let (key, session) = try parse(dumpLine: object)
            observed[key] = session
        }
        return observed
    }

    /// From one line of `sessions dump`.
    package static func parse(dumpLine object: JSONObject) throws -> (SessionKey, ObservedSession) {
        guard case .string(let user)? = object["user_id"], case .string(let session)? = object["session_id"],
              case .array(let entries)? = object["entries"], case .array(let errors)? = object["errors"] else {
            throw FixtureError("dump line lacks user_id/session_id/entries/errors")
        }
        let indexes: [Int?] = errors.map {
            guard case .object(let e) = $0, case .number(let n)? = e["index"] else { return nil }
            return Int(n.literal)
        }
        return (SessionKey(userID: user, sessionID: session), ObservedSession(entries: entries, errorIndexes: indexes))
    }
}

/// Compares what we read with what cognee read (`expected/*.json`); returns every difference.
package enum FixtureComparison {
    package static func differences(observed: [SessionKey: ObservedSession], expected: JSONObject) -> [String] {
        var problems: [String] = []
        var known: Set<SessionKey> = []
        func key(_ s: JSONObject) -> SessionKey? {
            guard case .string(let u)? = s["user_id"], case .string(let id)? = s["session_id"] else { return nil }
            return SessionKey(userID: u, sessionID: id)
        }
        func entries(_ s: JSONObject, _ field: String) -> [JSONValue]? {
            guard case .object(let result)? = s[field], case .array(let list)? = result["entries"] else { return nil }
            return list
        }
        guard case .array(let sessions)? = expected["sessions"], case .array(let corrupt)? = expected["corrupt_sessions"] else {
            return ["expected file lacks sessions/corrupt_sessions"]
        }
        for case .object(let s) in sessions {
            guard let k = key(s), let want = entries(s, "get_session") else { problems.append("bad expected session"); continue }
            known.insert(k)
            let got = observed[k]
            if want.isEmpty {
                if let got, !got.entries.isEmpty || !got.errorIndexes.isEmpty { problems.append("\(k): cognee reads nothing, we read \(got.entries.count)") }
                continue
            }
            guard let got else { problems.append("\(k): missing (cognee reads \(want.count) entries)"); continue }
            if !got.errorIndexes.isEmpty { problems.append("\(k): unexpected errors at \(got.errorIndexes)") }
            if got.entries.count != want.count {
                problems.append("\(k): \(got.entries.count) entries, cognee reads \(want.count)")
            } else {
                for (i, (a, b)) in zip(got.entries, want).enumerated() where a != b {
                    problems.append("\(k): entry \(i) differs from cognee's")
                }
            }
        }
        for case .object(let c) in corrupt {
            guard let k = key(c) else { continue }
            known.insert(k)
            let got = observed[k]
            if case .array(let elements)? = c["elements"], !elements.isEmpty {
                var accepted: [JSONValue] = []
                var rejected: [Int?] = []
                for case .object(let e) in elements {
                    guard case .number(let n)? = e["index"], let index = Int(n.literal), case .object(let verdict)? = e["cognee"] else { continue }
                    if verdict["ok"] == .bool(true), let entry = verdict["entry"] { accepted.append(entry) } else { rejected.append(index) }
                }
                guard let got else { problems.append("\(k): missing"); continue }
                if got.entries != accepted { problems.append("\(k): accepted elements differ (\(got.entries.count) vs \(accepted.count))") }
                if got.errorIndexes != rejected { problems.append("\(k): rejected \(got.errorIndexes), cognee rejects \(rejected)") }
                continue
            }
            guard case .object(let verdict)? = c["get_session"] else { continue }
            if verdict["ok"] == .bool(true) {
                let want = entries(c, "get_session") ?? []
                if want.isEmpty {
                    if let got, !got.entries.isEmpty || !got.errorIndexes.isEmpty { problems.append("\(k): should read as empty") }
                } else if got?.entries != want || got?.errorIndexes.isEmpty != true {
                    problems.append("\(k): should read as cognee reads it")
                }
            } else {
                guard let got else { problems.append("\(k): missing; cognee fails on it, we must report why"); continue }
                if !got.entries.isEmpty || got.errorIndexes.isEmpty {
                    problems.append("\(k): cognee cannot read it; we return \(got.entries.count) entries, \(got.errorIndexes.count) errors")
                }
            }
        }
        for k in observed.keys where !known.contains(k) { problems.append("\(k): read, but cognee knows no such session") }
        return problems
    }

    /// The sessions of an expected file, with cognee's `get_session_formatted` and
    /// `get_session_last_n_3` for each.
    package static func formattedCases(_ expected: JSONObject) -> [(SessionKey, String, [JSONValue])] {
        guard case .array(let sessions)? = expected["sessions"] else { return [] }
        var out: [(SessionKey, String, [JSONValue])] = []
        for case .object(let s) in sessions {
            guard case .string(let u)? = s["user_id"], case .string(let id)? = s["session_id"],
                  case .string(let formatted)? = s["get_session_formatted"],
                  case .object(let last3)? = s["get_session_last_n_3"], case .array(let entries)? = last3["entries"],
                  !entries.isEmpty else { continue }
            out.append((SessionKey(userID: u, sessionID: id), formatted, entries))
        }
        return out
    }
}
