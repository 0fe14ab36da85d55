import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import ArgumentParser

struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "Inspect the session cache, read-only.",
        subcommands: [List.self, Show.self, Dump.self])

    enum ListFormat: String, ExpressibleByArgument, CaseIterable { case text, json }
    enum ShowFormat: String, ExpressibleByArgument, CaseIterable { case text, json }
    enum DumpFormat: String, ExpressibleByArgument, CaseIterable { case ndjson }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One line per session: user id, session id, entries, bad elements.")

        @OptionGroup var cache: CacheOptions
        @OptionGroup var selection: SelectionOptions
        @Option(help: "text (tab-separated) or json (one object per line).")
        var format: ListFormat = .text
        @Flag(help: "Also list the keys that look like cognee session keys but name no session (agent_sessions:x, an empty user or session id), with why.")
        var all = false

        func run() async throws {
            try await withExitStatus {
                let out = StandardOutput()
                defer { out.flush() }
                var sessions = 0, bad = 0
                let malformed = MalformedKeys()
                for try await read in try cache.makeSource(options: { var o = cache.readOptions; o.malformedKeys = malformed; return o }()).sessions(filter: selection.filter) {
                    sessions += 1
                    let errors = read.errors.count + (read.sessionError == nil ? 0 : 1)
                    if errors > 0 { bad += 1 }
                    switch format {
                    case .text:
                        out.write("\(shellSafe(read.key.userID))\t\(shellSafe(read.key.sessionID))\t\(read.elements.count)\t\(errors)\n")
                    case .json:
                        var object = JSONObject()
                        object["user_id"] = .string(read.key.userID)
                        object["session_id"] = .string(read.key.sessionID)
                        object["entries"] = .number(JSONNumber(read.elements.count))
                        object["errors"] = .number(JSONNumber(errors))
                        out.write(JSONWriter.string(.object(object), style: .compact) + "\n")
                    }
                }
                if all {
                    for key in malformed.examples {
                        switch format {
                        case .text: out.write("malformed\t\(shellSafe(key.key))\t\(key.reason)\n")
                        case .json:
                            out.write(JSONWriter.string(.object(JSONObject([("malformed_key", .string(key.key)), ("reason", .string(key.reason))])),
                                                        style: .compact) + "\n")
                        }
                    }
                }
                out.flush()
                if malformed.count > 0 {
                    StandardError.write("memify-worker: \(malformed.count) keys look like cognee session keys but name no session\(all ? "" : "; `sessions list --all` lists them")\n")
                }
                return reportErrors(sessionsWithErrors: bad, of: sessions)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print one session: as cognee's history text, or its entries as JSON.")

        @Argument(help: "The session id.")
        var sessionID: String
        @Option(name: .customLong("user"), help: "The user id (needed when several users have this session id).")
        var userID: String?
        @Option(help: "Only the last N entries.")
        var lastN: Int?
        @Option(help: "text (cognee's formatted history) or json (the entries).")
        var format: ShowFormat = .text
        @Flag(help: "Include each entry's CONTEXT line in the text format.")
        var includeContext = false
        @OptionGroup var cache: CacheOptions

        func validate() throws {
            if let lastN, lastN < 1 { throw ValidationError("--last-n must be a positive integer") }
        }

        func run() async throws {
            try await withExitStatus {
                let filter = SessionFilter(userIDs: userID.map { [$0] } ?? [], sessionIDs: [sessionID])
                let source = try cache.makeSource()
                var found: [SessionRead] = []
                for try await read in source.sessions(filter: filter) { found.append(read) }
                guard let read = found.first else {
                    StandardError.write("memify-worker: no session '\(sessionID)'\(userID.map { " for user \($0)" } ?? "") in \(source.location)\n")
                    return .failure
                }
                if found.count > 1 {
                    let users = found.map(\.key.userID).joined(separator: ", ")
                    throw ValidationError("session '\(sessionID)' exists for \(found.count) users (\(users)): pass --user")
                }
                var entries = read.entries
                if let lastN, entries.count > lastN { entries = Array(entries.suffix(lastN)) }
                let out = StandardOutput()
                switch format {
                case .text:
                    out.write(HistoryFormatter.format(entries, includeContext: includeContext))
                case .json:
                    out.write(JSONWriter.string(.array(entries.map(\.jsonValue)), style: .compact) + "\n")
                }
                out.flush()
                for error in read.errors { StandardError.write("memify-worker: \(read.key): \(error)\n") }
                if let error = read.sessionError { StandardError.write("memify-worker: \(read.key): \(error)\n") }
                return read.hasErrors ? .partial : .done
            }
        }
    }

    struct Dump: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every session as one JSON line: user_id, session_id, entries (cognee's ten fields), errors.")

        @OptionGroup var cache: CacheOptions
        @OptionGroup var selection: SelectionOptions
        @Option(help: "ndjson: one session per line.")
        var format: DumpFormat = .ndjson

        func run() async throws {
            try await withExitStatus {
                let out = StandardOutput()
                defer { out.flush() }
                var sessions = 0, bad = 0
                var line: [UInt8] = []
                for try await read in try cache.makeSource().sessions(filter: selection.filter) {
                    sessions += 1
                    if read.hasErrors { bad += 1 }
                    line.removeAll(keepingCapacity: true)
                    JSONWriter.write(Self.json(read), style: .compact, into: &line)
                    line.append(0x0A)
                    out.write(bytes: line)
                }
                out.flush()
                return reportErrors(sessionsWithErrors: bad, of: sessions)
            }
        }

        static func json(_ read: SessionRead) -> JSONValue {
            var object = JSONObject()
            object["user_id"] = .string(read.key.userID)
            object["session_id"] = .string(read.key.sessionID)
            object["entries"] = .array(read.elements.map(\.entry.jsonValue))
            var errors: [JSONValue] = read.errors.map {
                .object(JSONObject([("index", .number(JSONNumber($0.index))), ("reason", .string($0.error.reason))]))
            }
            if let sessionError = read.sessionError {
                errors.append(.object(JSONObject([("index", .null), ("reason", .string(sessionError.reason))])))
            }
            object["errors"] = .array(errors)
            return .object(object)
        }
    }
}

/// Exit 3 (partial) when some sessions had bad elements, with a summary on stderr.
private func reportErrors(sessionsWithErrors bad: Int, of total: Int) -> ExitStatus {
    guard bad > 0 else { return .done }
    StandardError.write("memify-worker: \(bad) of \(total) sessions have elements cognee's model rejects (see errors)\n")
    return .partial
}

/// A field for tab-separated output: JSON-quoted when it holds a tab, newline or other control
/// character, so one session is always one line.
private func shellSafe(_ text: String) -> String {
    if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
        return JSONWriter.string(.string(text), style: .compact)
    }
    return text
}
