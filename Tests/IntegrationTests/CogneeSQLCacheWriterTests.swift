import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import TestSupport
import Testing

/// cognee 1.6.5 keeps writing its SQL cache through its own adapter (`scripts/cognee-sql-writer.py`:
/// new turns, answer edits, feedback) while `memify-worker run` reads the same cache again and
/// again. Neither side may see an error, and at the end every turn cognee wrote is persisted
/// exactly once, with its last edit.
@Suite("cognee writes its SQL cache while the worker reads it", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["MEMIFY_COGNEE_PYTHON"] != nil,
                "set MEMIFY_COGNEE_PYTHON (scripts/cognee-venv) to run cognee's own cache writer"))
struct CogneeSQLCacheWriterTests {
    struct WriterReport: Decodable {
        var written: Int
        var edited: Int
        var errors: Int
        // swiftlint:disable:next identifier_name
        var qa_ids: [String]
        var median_write_ms: Double?
        var p99_write_ms: Double?
        var max_write_ms: Double?
    }

    static func startWriter(_ arguments: [String], log: String) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(ProcessInfo.processInfo.environment["MEMIFY_COGNEE_PYTHON"]))
        process.arguments = [TestEnvironment.repositoryDirectory + "/scripts/cognee-sql-writer.py"] + arguments
        let out = Pipe()
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
        return (process, out)
    }

    static func summary(_ outcome: WorkerProcess.Outcome) throws -> JSONObject {
        let last = try #require(outcome.stdoutText.split(separator: "\n").last, "no summary: \(outcome.stderr)")
        guard case .object(let object) = try JSONParser.parse(String(last)) else { throw FixtureError("summary is not an object") }
        return object
    }

    static func number(_ s: JSONObject, _ field: String) -> Int? {
        if case .number(let n)? = s[field] { return Int(n.literal) }
        return nil
    }

    /// Runs the worker until the writer stops, then once more; returns the last summary and the report.
    static func race(cache: String, directory: String, writer arguments: [String]) async throws -> (JSONObject, WriterReport, Int) {
        let log = directory + "/writer.log"
        let (writer, out) = try startWriter(arguments, log: log)
        // The writer's output is read whole at its end, off this task (it is small).
        let report = Task.detached { out.fileHandleForReading.readDataToEndOfFile() }
        let arguments = ["run", "--cache", cache, "--graph", "sqlite:" + directory + "/graph.db",
                         "--state", directory + "/state.db", "--json", "--no-progress"]
        var runs = 0
        var failures: [String] = []
        while writer.isRunning {
            let outcome = try WorkerProcess.run(arguments)
            // 0, or 64/1 before cognee has made its file and table (while it imports).
            if outcome.status != 0 {
                let made = FileManager.default.fileExists(atPath: directory + "/cache.db")
                #expect(outcome.stderr.contains("no cache.db") || outcome.stderr.contains("no cache_qa_entries table") || !made,
                        "run while cognee writes: exit \(outcome.status): \(outcome.stderr)")
                failures.append(String(outcome.stderr.suffix(300)))
            } else {
                runs += 1
            }
            try await Task.sleep(for: .milliseconds(300))
        }
        if runs == 0 { Issue.record("no run succeeded while cognee wrote; failures: \(failures.suffix(3))") }
        writer.waitUntilExit()
        let writerLog = String((try? String(contentsOfFile: log, encoding: .utf8))?.suffix(3000) ?? "")
        #expect(writer.terminationStatus == 0, "cognee's writer: \(writerLog)")
        let data = await report.value
        let line = try #require(String(decoding: data, as: UTF8.self).split(separator: "\n").last, "writer printed nothing: \(writerLog)")
        let parsed = try JSONDecoder().decode(WriterReport.self, from: Data(line.utf8))
        let final = try summary(try WorkerProcess.run(arguments))
        return (final, parsed, runs)
    }

    static func chunkCount(_ graph: String) throws -> Int {
        try SQLiteDatabase(path: graph, mode: .readOnly).withStatement(
            "SELECT count(*) FROM graph_node WHERE type = 'DocumentChunk'", operation: "count chunks") { stmt throws(DatabaseError) -> Int in
            _ = try stmt.step()
            return Int(stmt.int64(0))
        }
    }

    @Test("SQLite cache.db (cognee's default): no error on either side, every turn persisted once",
          .timeLimit(.minutes(10)))
    func sqlite() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memify-cognee-sql-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let (final, report, runs) = try await Self.race(
            cache: "sqlite:" + directory, directory: directory,
            writer: ["--backend", "sqlite", "--db-path", directory, "--seconds", "45", "--sessions", "4",
                     "--user", "cli-user-42", "--seed", "11", "--interval-ms", "20", "--answer-bytes", "600"])
        #expect(report.errors == 0)
        #expect(report.written > 20, "cognee wrote \(report.written) turns")
        #expect(Self.number(final, "turns_seen") == report.written)
        #expect(Self.number(final, "turns_quarantined") == 0)
        #expect(try Self.chunkCount(directory + "/graph.db") == Set(report.qa_ids).count)
        let again = try Self.summary(try WorkerProcess.run(
            ["run", "--cache", "sqlite:" + directory, "--graph", "sqlite:" + directory + "/graph.db",
             "--state", directory + "/state.db", "--json", "--no-progress"]))
        #expect(Self.number(again, "turns_persisted") == 0)
        print("cognee's cache writes while the worker read (SQLite): median \(report.median_write_ms ?? -1) ms, p99 \(report.p99_write_ms ?? -1) ms, max \(report.max_write_ms ?? -1) ms; \(runs) runs")
        // A reader that held cognee's writers (a long read transaction, a lock) would show as
        // writes of seconds; cognee's own busy timeout is 30 s.
        #expect((report.max_write_ms ?? 0) < 5_000)
    }

    @Test("PostgreSQL cache: no error on either side, every turn persisted once",
          .enabled(if: TestEnvironment.postgresURL != nil, "set MEMIFY_TEST_POSTGRES_URL"), .timeLimit(.minutes(10)))
    func postgres() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memify-cognee-pg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let url = try await PostgresTestDatabase.create(prefix: "memify_cache")
        let (final, report, runs) = try await Self.race(
            cache: url, directory: directory,
            writer: ["--backend", "postgres", "--cache-db-url", url, "--seconds", "45", "--sessions", "4",
                     "--seed", "12", "--interval-ms", "20", "--answer-bytes", "600"])
        #expect(report.errors == 0)
        #expect(report.written > 20)
        #expect(Self.number(final, "turns_seen") == report.written)
        #expect(try Self.chunkCount(directory + "/graph.db") == Set(report.qa_ids).count)
        print("cognee's cache writes while the worker read (PostgreSQL): median \(report.median_write_ms ?? -1) ms, p99 \(report.p99_write_ms ?? -1) ms, max \(report.max_write_ms ?? -1) ms; \(runs) runs")
        #expect((report.max_write_ms ?? 0) < 5_000)
    }
}
