import MemifyCore
package import Foundation
import Glibc

/// The Prometheus text-format file a run leaves for node_exporter's textfile collector, written
/// at the end of every run, a failed one included (then with `summary` nil), to a temporary
/// file renamed over the target so a scrape never reads half of it.
package struct MetricsFile: Sendable {
    package var path: String
    package var pipeline: String
    package var shard: String
    package var version: String

    package init(path: String, pipeline: String, shard: String = "all", version: String = "") {
        self.path = path
        self.pipeline = pipeline
        self.shard = shard
        self.version = version
    }

    /// The run's figures; `openQuarantine` nil when the state could not be read.
    package func write(summary: RunSummary?, status: ExitStatus, started: Date, lastSuccess: Double?, openQuarantine: Int? = nil) throws {
        let s = summary ?? RunSummary()
        func quoted(_ value: String) -> String {
            value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
        }
        let label = "{pipeline=\"\(quoted(pipeline))\",shard=\"\(quoted(shard))\"}"
        var text = ""
        func metric(_ name: String, _ help: String, _ value: String, labels: String = label) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name)\(labels) \(value)\n"
        }
        if !version.isEmpty {
            metric("memify_build_info", "The worker's version (always 1).", "1",
                   labels: "{pipeline=\"\(quoted(pipeline))\",shard=\"\(quoted(shard))\",version=\"\(quoted(version))\"}")
        }
        metric("memify_turns_seen", "Turns read from the cache by the last run.", "\(s.turnsSeen)")
        metric("memify_turns_persisted", "Turns written to the graph (new or changed) by the last run.", "\(s.turnsPersisted)")
        metric("memify_turns_skipped", "Turns unchanged since their checkpoint, or outside --since/--until.", "\(s.turnsUnchanged + s.turnsOutOfWindow)")
        metric("memify_turns_deleted", "Turns deleted from the cache and retracted from the graph by the last run.", "\(s.turnsDeleted)")
        metric("memify_turns_quarantined", "Elements quarantined by the last run.", "\(s.quarantined)")
        if let openQuarantine {
            metric("memify_quarantine_open", "Quarantine entries still open (not resolved by a later run).", "\(openQuarantine)")
        }
        metric("memify_rows_written", "Graph rows inserted or updated by the last run.", "\(s.rowsWritten)")
        metric("memify_turns_deferred", "Turns left for the next run because the LLM budget ran out.", "\(s.turnsDeferred)")
        metric("memify_llm_tokens_in", "LLM prompt tokens paid by the last run.", "\(s.tokensIn)")
        metric("memify_llm_tokens_out", "LLM completion tokens paid by the last run.", "\(s.tokensOut)")
        metric("memify_llm_cost_usd", "LLM cost of the last run in US dollars (cognee's price table).", String(format: "%.6f", s.costUSD))
        metric("memify_rows_deleted", "Graph rows deleted by the last run.", "\(s.rowsDeleted)")
        metric("memify_vectors_written", "Vector rows inserted or updated by the last run (0 with vectors off).", "\(s.vectorsWritten)")
        metric("memify_vectors_deleted", "Vector rows deleted with the rows they belonged to by the last run.", "\(s.vectorsDeleted)")
        metric("memify_embedding_requests", "Embedding requests sent by the last run.", "\(s.embeddingRequests)")
        metric("memify_texts_embedded", "Texts sent to the embedding model by the last run (the cache answered the rest).", "\(s.textsEmbedded)")
        metric("memify_embedding_cost_usd", "Embedding cost of the last run in US dollars.", String(format: "%.6f", s.embeddingCostUSD))
        metric("memify_run_duration_seconds", "Wall time of the last run.", String(format: "%.3f", Date().timeIntervalSince(started)))
        metric("memify_last_run_exit_status", "Exit status of the last run.", "\(status.rawValue)")
        metric("memify_last_run_timestamp_seconds", "When the last run ended (Unix seconds).", String(format: "%.3f", Date().timeIntervalSince1970))
        if let lastSuccess {
            metric("memify_last_success_timestamp_seconds", "When a run last finished with exit status 0 or 3 (Unix seconds).",
                   String(format: "%.3f", lastSuccess))
        }
        let temporary = path + ".tmp.\(getpid())"
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
            if rename(temporary, path) != 0 {
                throw WorkerError(.io, operation: "write metrics \(path)", message: String(cString: strerror(errno)))
            }
        } catch let error as WorkerError {
            throw error
        } catch {
            throw WorkerError(.io, operation: "write metrics \(path)", message: error.localizedDescription)
        }
    }

    /// The last success recorded in the file being replaced: what a failure that could not read
    /// the state database (or found it locked) carries over.
    package func previousLastSuccess() -> Double? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("memify_last_success_timestamp_seconds") {
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
        }
        return nil
    }
}

/// The last line on stdout of a failed run under `--json`, in one shape for every failure:
/// `{"run_id"?, "dry_run", "failed": true, "exit_status": N, "error": "…"}`.
package enum FailureLine {
    package static func text(runID: String?, dryRun: Bool, status: ExitStatus, error: any Error) -> String {
        var fields: [(String, JSONValue)] = []
        if let runID { fields.append(("run_id", .string(runID))) }
        fields += [("dry_run", .bool(dryRun)), ("failed", .bool(true)),
                   ("exit_status", .number(JSONNumber(Int(status.rawValue)))), ("error", .string("\(error)"))]
        return JSONWriter.string(.object(JSONObject(fields)), style: .compact)
    }
}
