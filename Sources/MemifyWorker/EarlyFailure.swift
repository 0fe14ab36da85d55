import ArgumentParser
import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools

/// Whether a run's failure was already reported (--json line, metrics file) by the run itself.
final class FailureReported {
    var done = false
}

/// A `run` that fails before it could be recorded (flags refused by validation, the pipeline or
/// extractor configuration, the lock held, the state database unopenable): with --json the last
/// line on stdout is still the failure, in the shape every failed run has, and with
/// --metrics-file the metrics file says so (`memify_last_run_exit_status`). No row goes into the
/// state's runs table: no run started.
enum EarlyFailure {
    /// `{"run_id"?, "dry_run", "failed": true, "exit_status": N, "error": "…"}`.
    static func printLine(runID: String?, dryRun: Bool, status: ExitStatus, error: any Error) {
        var fields: [(String, JSONValue)] = []
        if let runID { fields.append(("run_id", .string(runID))) }
        fields += [("dry_run", .bool(dryRun)), ("failed", .bool(true)),
                   ("exit_status", .number(JSONNumber(Int(status.rawValue)))), ("error", .string("\(error)"))]
        print(JSONWriter.string(.object(JSONObject(fields)), style: .compact))
    }

    /// Reports a failure of `RunDriver` that happened before its run was recorded.
    static func report(_ error: any Error, report: ReportOptions, pipeline: String, dryRun: Bool) async {
        let status = ExitStatus.forError(error)
        let error: any Error = status == .unavailable ? ResumableFailure(error) : error
        Self.report(status: status, error: error, json: report.json, metricsFile: report.metricsFile, pipeline: pipeline, dryRun: dryRun)
    }

    static func report(status: ExitStatus, error: any Error, json: Bool, metricsFile: String?, pipeline: String, dryRun: Bool) {
        if let path = metricsFile, !dryRun {
            do {
                try RunDriver.writeMetrics(path: path, pipeline: pipeline, summary: nil, status: status, started: Date(),
                                           lastSuccess: previousLastSuccess(path))
            } catch {
                StandardError.write("memify-worker: could not write the metrics file \(path): \(error)\n")
            }
        }
        if json { printLine(runID: nil, dryRun: dryRun, status: status, error: error) }
    }

    /// The state database may be what failed (or locked by the run holding it): the last success
    /// is carried over from the metrics file being replaced.
    static func previousLastSuccess(_ path: String) -> Double? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("memify_last_success_timestamp_seconds") {
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
        }
        return nil
    }

    /// `run` refused by ArgumentParser (exit 64 from parsing or `validate()`), or a `.env` that
    /// cannot be read: the options that say how to report are read from the raw arguments.
    static func reportParseFailure(arguments: [String], error: any Error, exitCode: Int32) {
        guard exitCode != 0, arguments.first == "run" else { return }
        var json = false, dryRun = false
        var metricsFile: String?
        var pipeline = "persist-sessions"
        var i = 1
        while i < arguments.count {
            let a = arguments[i]
            if a == "--" { break }
            func value(_ name: String) -> String? {
                if a == name { return i + 1 < arguments.count ? arguments[i + 1] : nil }
                return a.hasPrefix(name + "=") ? String(a.dropFirst(name.count + 1)) : nil
            }
            if a == "--json" { json = true }
            if a == "--dry-run" { dryRun = true }
            if let v = value("--metrics-file") { metricsFile = v }
            if let v = value("--pipeline") { pipeline = v }
            i += 1
        }
        let status = ExitStatus(rawValue: exitCode) ?? .failure
        report(status: status, error: ParseFailure(message: MemifyWorker.message(for: error)), json: json, metricsFile: metricsFile,
               pipeline: pipeline, dryRun: dryRun)
    }

    struct ParseFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
