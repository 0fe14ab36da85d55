import ArgumentParser
import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools

/// A `run` refused before it could start (flags refused by the parser or `validate()`, a `.env`
/// that cannot be read): with --json the last line on stdout is still the failure, and the
/// metrics file says so.
enum EarlyFailure {
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
        RunService.reportUnrecorded(EarlyExit(status: status, message: MemifyWorker.message(for: error)), configuration: nil,
                                    reporting: RunReporting(json: json, metricsFile: metricsFile, pipelineLabel: pipeline), dryRun: dryRun,
                                    version: MemifyWorker.version)
    }
}
