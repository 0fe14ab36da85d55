import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import TestSupport
import Testing

/// Every failed `run`, early ones included, ends with the same `--json` last line and writes the
/// metrics file, so an alert on `memify_last_run_exit_status` sees it.
@Suite("failures that alert")
struct FailureReportTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var status: Int32
        var message: String
        /// Arguments after `run`, given the directory of the test.
        var arguments: @Sendable (String) -> [String]
        /// Whether the state's runs table gets a row (a run that started and failed).
        var records: Bool
        var testDescription: String { name }
    }

    static let example = "fs:" + TestEnvironment.repositoryDirectory + "/examples/cognee-cache"

    static let cases: [Case] = [
        Case(name: "64 refused by validation", status: 64, message: "--limit must be at least 1, got -1",
             arguments: { ["--limit", "-1", "--cache", example, "--graph", "sqlite:\($0)/g.db", "--state", "\($0)/s.db"] }, records: false),
        Case(name: "64 unknown pipeline", status: 64, message: "load pipeline 'nowhere'",
             arguments: { ["--pipeline", "nowhere", "--cache", example, "--graph", "sqlite:\($0)/g.db", "--state", "\($0)/s.db"] }, records: false),
        Case(name: "75 lock held", status: 75, message: "another run holds",
             arguments: { ["--cache", example, "--graph", "sqlite:\($0)/g.db", "--state", "\($0)/s.db"] }, records: false),
        Case(name: "69 PostgreSQL down", status: 69, message: "connect to PostgreSQL",
             arguments: { ["--cache", example, "--graph", "postgresql://memify@127.0.0.1:1/none?connect_timeout=2", "--state", "\($0)/s.db"] }, records: true),
        Case(name: "1 state database cannot be opened", status: 1, message: "unable to open database file",
             arguments: { ["--cache", example, "--graph", "sqlite:\($0)/g.db", "--state", "\($0)/a-directory"] }, records: false),
    ]

    @Test("exits 64, 69, 75 and 1: one JSON shape as the last line, the metrics file rewritten", arguments: cases)
    func failure(_ c: Case) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memify-fail-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/a-directory", withIntermediateDirectories: true)
        let metrics = directory + "/memify.prom"
        // A good run first: the metrics file holds 0 and a last success time.
        let good = try WorkerProcess.run(["run", "--cache", Self.example, "--graph", "sqlite:\(directory)/g.db", "--state", "\(directory)/s.db",
                                          "--no-progress", "--metrics-file", metrics])
        #expect(good.status == 0, "\(good.stderr)")
        let before = try String(contentsOfFile: metrics, encoding: .utf8)
        #expect(before.contains("memify_last_run_exit_status{pipeline=\"persist-sessions\",shard=\"all\"} 0"))
        let lastSuccess = try #require(before.split(separator: "\n").first { $0.hasPrefix("memify_last_success_timestamp_seconds") })

        let lock = c.status == 75 ? try RunLock.acquire(statePath: directory + "/s.db", runID: "test-holder") : nil
        let outcome = try WorkerProcess.run(["run", "--json", "--no-progress", "--metrics-file", metrics] + c.arguments(directory))
        withExtendedLifetime(lock) {}
        #expect(outcome.status == c.status, "\(outcome.stderr)")

        let last = try #require(outcome.stdoutText.split(separator: "\n").last, "no --json line: \(outcome.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], "\(last)")
        #expect(object["failed"] as? Bool == true, "\(last)")
        #expect((object["exit_status"] as? NSNumber)?.int32Value == c.status, "\(last)")
        #expect((object["error"] as? String)?.contains(c.message) == true, "\(last)")
        #expect(object["dry_run"] as? Bool == false, "\(last)")
        #expect(Set(object.keys).subtracting(["run_id", "dry_run", "failed", "exit_status", "error"]).isEmpty, "\(last)")
        #expect((object["run_id"] != nil) == c.records, "\(last)")

        let after = try String(contentsOfFile: metrics, encoding: .utf8)
        let pipeline = c.name.contains("pipeline") ? "nowhere" : "persist-sessions"
        #expect(after.contains("memify_last_run_exit_status{pipeline=\"\(pipeline)\",shard=\"all\"} \(c.status)"), "\(after)")
        // The last success is carried over, not lost with the failure.
        #expect(after.contains(String(lastSuccess).replacingOccurrences(of: "persist-sessions", with: pipeline)), "\(after)")

        // A run row only for a run that started: the good run, and the failed one if it started.
        let status = try WorkerProcess.run(["status", "--state", directory + "/s.db"])
        #expect(status.status == 0, "\(status.stderr)")
        let rows = status.stdoutText.split(separator: "\n").filter { $0.hasPrefix("  run-") }
        #expect(rows.count == (c.records ? 2 : 1), "\(status.stdoutText)")
    }

    @Test("a refused dry run: the --json line says so, and no metrics file is written")
    func dryRun() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memify-fail-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let outcome = try WorkerProcess.run(["run", "--dry-run", "--json", "--limit", "0", "--metrics-file", directory + "/m.prom", "--cache", Self.example])
        #expect(outcome.status == 64)
        let last = try #require(outcome.stdoutText.split(separator: "\n").last)
        #expect(last.contains("\"dry_run\":true") && last.contains("\"exit_status\":64"), "\(last)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/m.prom"))
    }
}

/// Under systemd (JOURNAL_STREAM set) log lines start with sd-daemon priorities; journald strips
/// them and files each line at its priority.
@Suite("journald priorities")
struct JournaldPriorityTests {
    @Test("<4> warning and <6> info under JOURNAL_STREAM, in both formats; none without; --log-level filters")
    func priorities() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memify-journal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let example = "fs:" + TestEnvironment.repositoryDirectory + "/examples/cognee-cache"
        func run(_ extra: [String], journal: String) throws -> [Substring] {
            let outcome = try WorkerProcess.run(["run", "--cache", example, "--graph", "sqlite:\(directory)/g.db", "--state", "\(directory)/s.db",
                                                 "--no-progress"] + extra, environment: ["JOURNAL_STREAM": journal, "EMBEDDING_ENDPOINT": ""])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            return outcome.stderr.split(separator: "\n")
        }
        let text = try run([], journal: "1:1")
        #expect(!text.isEmpty && text.allSatisfy { $0.hasPrefix("<4>") || $0.hasPrefix("<6>") }, "\(text)")
        #expect(text.contains { $0.hasPrefix("<4>") && $0.contains(" warning vectors: off") }, "\(text)")
        #expect(text.contains { $0.hasPrefix("<6>") && $0.contains(" info run done") }, "\(text)")
        let json = try run(["--log-format", "json"], journal: "1:1")
        #expect(json.contains { $0.hasPrefix("<6>{") && $0.contains("\"level\":\"info\"") }, "\(json)")
        let plain = try run([], journal: "")
        #expect(!plain.isEmpty && plain.allSatisfy { !$0.hasPrefix("<") }, "\(plain)")
        let warnings = try run(["--log-level", "warning"], journal: "1:1")
        #expect(!warnings.isEmpty && warnings.allSatisfy { $0.hasPrefix("<4>") }, "\(warnings)")
        let errors = try run(["--log-level", "error"], journal: "1:1")
        #expect(errors.isEmpty, "\(errors)")
    }
}
