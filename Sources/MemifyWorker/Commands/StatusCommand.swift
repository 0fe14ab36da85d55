import ArgumentParser
import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Checkpoints, last runs, quarantine counts (reads the state database only).")

    @OptionGroup var state: StateOptions

    @Flag(help: "One JSON object.")
    var json = false

    @Flag(help: "A health check (Nagios, Kubernetes, systemd): print one line and exit 0 when the last finished run succeeded (done, partial or interrupted) and, with --max-age, the last success is that recent; exit 2 otherwise (a failed or aborted last run, no run yet, a stale success).")
    var check = false

    @Option(help: "With --check: the oldest a last success may be, e.g. 90m, 2h, 1d or seconds.")
    var maxAge: String?

    func validate() throws {
        if let maxAge, Self.seconds(maxAge) == nil { throw ValidationError("--max-age '\(maxAge)' is not a duration (e.g. 90m, 2h, 1d, 3600)") }
        if maxAge != nil && !check { throw ValidationError("--max-age goes with --check") }
    }

    /// `90m`, `2h`, `1d`, `30s` or plain seconds.
    static func seconds(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let unit = text.last, let scale = units[unit], let value = Double(text.dropLast()), value >= 0 { return value * scale }
        if let value = Double(text), value >= 0 { return value }
        return nil
    }

    /// The summary of the last run that finished, as recorded.
    func lastFinishedSummary(_ status: StateDatabase.Status) -> JSONObject? {
        for run in status.lastRuns {
            if let text = run.summary, case .object(let object)? = try? JSONParser.parse(Array(text.utf8)), object["vectors"] != nil { return object }
        }
        return nil
    }

    /// `on` or `off` as the last finished run wrote vectors; nil before any run said.
    func vectorState(_ status: StateDatabase.Status) -> String? {
        if case .string(let state)? = lastFinishedSummary(status)?["vectors"] { return state }
        return nil
    }

    func run() async throws {
        try await withExitStatus {
            guard FileManager.default.fileExists(atPath: state.path) else {
                if check {
                    print("CRITICAL: no state database at \(state.path): the worker has not run yet")
                    return .checkFailed
                }
                throw WorkerError(.usage, operation: "read status", message: "no state database at \(state.path) (no run yet?)")
            }
            let store = try await CheckpointStore.open(readOnlyPath: state.path)
            let status = try await store.read { store in try store.status(lastRuns: 5) }
            if check { return checkHealth(status) }
            if json {
                let runs = status.lastRuns.map { run in
                    JSONValue.object(JSONObject([
                        ("run_id", .string(run.runID)), ("started_at", .string(run.startedAt)),
                        ("finished_at", run.finishedAt.map(JSONValue.string) ?? .null), ("status", .string(run.status)),
                        ("summary", run.summary.flatMap { try? JSONParser.parse(Array($0.utf8)) } ?? run.summary.map(JSONValue.string) ?? .null),
                    ]))
                }
                let object = JSONObject([
                    ("state", .string(state.path)), ("turns", .number(JSONNumber(status.turns))),
                    ("sessions", .number(JSONNumber(status.sessions))),
                    ("quarantine_open", .number(JSONNumber(status.openQuarantine))),
                    ("quarantine_resolved", .number(JSONNumber(status.resolvedQuarantine))),
                    ("last_success", status.lastSuccess.map(JSONValue.string) ?? .null),
                    ("vectors", vectorState(status).map(JSONValue.string) ?? .null), ("last_runs", .array(runs)),
                ])
                print(JSONWriter.string(.object(object), style: .compact))
            } else {
                print("state:        \(state.path)")
                print("checkpoints:  \(status.turns) turns in \(status.sessions) sessions")
                print("quarantine:   \(status.openQuarantine) open, \(status.resolvedQuarantine) resolved")
                print("last success: \(status.lastSuccess ?? "never")")
                switch vectorState(status) {
                case "on"?:
                    var model = "?"
                    if case .string(let m)? = lastFinishedSummary(status)?["embedding_model"] { model = m }
                    print("vectors:      on (\(model))")
                case "off"?: print("vectors:      off: cognee finds these turns by graph reads and lexical chunk search only, not by its default (vector) searches")
                default: break
                }
                print("last runs:")
                for run in status.lastRuns {
                    print("  \(run.runID)  \(run.status)  started \(run.startedAt)  finished \(run.finishedAt ?? "-")")
                }
            }
            return .done
        }
    }

    /// The check's verdict, one line on stdout.
    private func checkHealth(_ status: StateDatabase.Status) -> ExitStatus {
        // A run still going is not a verdict: the last one that ended is.
        guard let last = status.lastRuns.first(where: { $0.status != "running" }) else {
            print("CRITICAL: no run has finished yet (state \(state.path))")
            return .checkFailed
        }
        if !["done", "partial", "interrupted"].contains(last.status) {
            print("CRITICAL: the last run, \(last.runID), \(last.status) (finished \(last.finishedAt ?? "-")); see `memify-worker status`")
            return .checkFailed
        }
        if let maxAge, let limit = Self.seconds(maxAge) {
            guard let success = status.lastSuccess, let at = parseTimestamp(success) else {
                print("CRITICAL: no successful run yet (state \(state.path))")
                return .checkFailed
            }
            let age = Date().timeIntervalSince1970 - at
            if age > limit {
                print("CRITICAL: the last success was \(Int(age)) s ago (\(success)), more than --max-age \(maxAge)")
                return .checkFailed
            }
        }
        print("OK: the last run, \(last.runID), \(last.status) (finished \(last.finishedAt ?? "-")); last success \(status.lastSuccess ?? "never")")
        return .done
    }
}

struct QuarantineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine", abstract: "Elements the worker could not persist, with their raw bytes and reasons.",
        subcommands: [List.self, Replay.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List quarantined elements (open ones unless --all).")

        @OptionGroup var state: StateOptions

        @Flag(help: "Include entries resolved by a later run.")
        var all = false

        @Flag(help: "One JSON line per entry, with the raw bytes (base64).")
        var json = false

        func run() async throws {
            try await withExitStatus {
                guard FileManager.default.fileExists(atPath: state.path) else {
                    throw WorkerError(.usage, operation: "list quarantine", message: "no state database at \(state.path)")
                }
                let store = try await CheckpointStore.open(readOnlyPath: state.path)
                let entries = try await store.read { store in try store.quarantined(includeResolved: all) }
                let out = StandardOutput()
                for e in entries {
                    if json {
                        let object = JSONObject([
                            ("id", .number(JSONNumber(Int(e.id)))), ("user_id", .string(e.userID)), ("session_id", .string(e.sessionID)),
                            ("index", e.elementIndex.map { .number(JSONNumber($0)) } ?? .null), ("reason", .string(e.reason)),
                            ("first_run_id", .string(e.firstRunID)), ("last_run_id", .string(e.lastRunID)),
                            ("resolved_run_id", e.resolvedRunID.map(JSONValue.string) ?? .null),
                            ("raw_base64", .string(Data(e.raw).base64EncodedString())),
                        ])
                        out.write(JSONWriter.string(.object(object), style: .compact) + "\n")
                    } else {
                        let place = e.elementIndex.map { "element \($0)" } ?? "whole session"
                        out.write("#\(e.id)  user \(e.userID)  session \(e.sessionID)  \(place)  \(e.raw.count) bytes"
                                  + (e.resolvedRunID.map { "  resolved by \($0)" } ?? "") + "\n    \(e.reason)\n")
                    }
                }
                if !json { out.write("\(entries.count) \(all ? "" : "open ")entries\n") }
                out.flush()
                return .done
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the pipeline again for the sessions with open quarantine entries (after the cache or the worker was fixed).")

        @OptionGroup var cache: CacheOptions
        @OptionGroup var graph: GraphOptions
        @OptionGroup var state: StateOptions
        @OptionGroup var report: ReportOptions
        @OptionGroup(title: "LLM extractor") var llm: LLMOptions
        @OptionGroup(title: "Vectors") var vectors: EmbeddingOptions

        @Option(help: "A pipeline name or path.")
        var pipeline = "persist-sessions"

        @Option(help: "builtin or llm (default: the pipeline's).")
        var extractor: String?

        func run() async throws {
            try await withExitStatus {
                guard FileManager.default.fileExists(atPath: state.path) else {
                    throw WorkerError(.usage, operation: "replay quarantine", message: "no state database at \(state.path)")
                }
                let store = try await CheckpointStore.open(path: state.path)
                let open = try await store.read { store in try store.quarantined() }
                let keys = Set(open.map { SessionKey(userID: $0.userID, sessionID: $0.sessionID) })
                guard !keys.isEmpty else {
                    print("quarantine is empty: nothing to replay")
                    return .done
                }
                let status = try await RunSetup(cache: cache, graph: graph, statePath: state.path, report: report, pipeline: pipeline, definition: nil)
                    .run(filter: SessionFilter(keys: keys), extractor: extractor, llm: llm, vectors: vectors)
                let left = try await store.read { store in try store.quarantined() }
                if !report.json {
                    print("replayed \(keys.count) sessions: \(open.count - left.count) entries resolved, \(left.count) still open")
                }
                return left.isEmpty || status != .done ? status : .partial
            }
        }
    }
}
