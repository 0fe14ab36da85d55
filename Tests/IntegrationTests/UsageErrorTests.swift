import Foundation
import TestSupport
import Testing

/// Options that cannot work are refused before anything is opened: exit 64 and a message that
/// names the value and the rule.
@Suite("usage errors")
struct UsageErrorTests {
    @Test("--schema: empty, longer than PostgreSQL keeps, or one of PostgreSQL's own", arguments: [
        ("", "cannot be empty"),
        (String(repeating: "s", count: 80), "63 bytes"),
        ("information_schema", "PostgreSQL's own"),
        ("pg_catalog", "PostgreSQL's own"),
    ])
    func schemas(schema: String, message: String) throws {
        for command in [["migrate"], ["run", "--cache", "fs:/nonexistent"]] {
            let outcome = try WorkerProcess.run(command + ["--graph", "sqlite:/nonexistent/g.db", "--schema", schema])
            #expect(outcome.status == 64, "\(command) --schema '\(schema)': \(outcome.stderr)")
            #expect(outcome.stderr.contains(message), "\(outcome.stderr)")
        }
    }

    @Test("--help says a password in a URL shows in ps, and where to put it instead")
    func passwordsInArgv() throws {
        let help = try WorkerProcess.run(["run", "--help"])
        #expect(help.status == 0)
        let text = help.stdoutText.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("visible to every user in `ps`"), "\(text)")
        #expect(text.contains("PGPASSWORD"))
        #expect(text.contains("CACHE_PASSWORD"))
    }

    @Test("impossible dates, inverted windows, negative limits, unknown graph providers, a missing graph directory, a mistyped command",
          arguments: [
            (["run", "--since", "2026-02-31", "--cache", "fs:/nonexistent"], [String: String](), "--since '2026-02-31'"),
            (["run", "--since", "2026-03-01", "--until", "2026-02-01", "--cache", "fs:/nonexistent"], [:], "is not before --until"),
            (["run", "--limit", "-1", "--cache", "fs:/nonexistent"], [:], "--limit must be at least 1, got -1"),
            (["migrate"], ["GRAPH_DATABASE_PROVIDER": "kuzu"], "GRAPH_DATABASE_PROVIDER=kuzu"),
            (["migrate"], ["GRAPH_DATABASE_PROVIDER": "neo4j"], "pass --graph"),
            (["migrate", "--graph", "sqlite:/nonexistent/dir/g.db"], [:], "/nonexistent/dir does not exist"),
            (["runn", "--cache", "fs:x"], [:], "unknown command 'runn' (did you mean 'run'?)"),
          ])
    func mistakes(arguments: [String], environment: [String: String], message: String) throws {
        let outcome = try WorkerProcess.run(arguments, environment: environment)
        #expect(outcome.status == 64, "\(arguments): \(outcome.stderr)")
        #expect(outcome.stderr.contains(message), "\(arguments): \(outcome.stderr)")
    }

    @Test("a leap day is a date; --create makes a missing graph directory")
    func accepted() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memify-usage-\(UUID().uuidString)").path
        let outcome = try WorkerProcess.run(["migrate", "--graph", "sqlite:\(directory)/new/g.db", "--create"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(FileManager.default.fileExists(atPath: directory + "/new/g.db"))
        let leap = try WorkerProcess.run(["run", "--dry-run", "--since", "2024-02-29", "--until", "2024-03-01", "--cache", "fs:" + TestEnvironment.repositoryDirectory + "/examples/cognee-cache",
                                          "--graph", "sqlite:\(directory)/new/g.db", "--state", directory + "/s.db"])
        #expect(leap.status == 0, "\(leap.stderr)")
    }
}

/// `status --check` as a monitoring probe runs it: one line, exit 0 or 2.
@Suite("status --check")
struct StatusCheckTests {
    @Test("no run yet, a good run, a stale success, a failed last run")
    func check() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memify-check-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let state = ["--state", directory + "/state.db"]
        let none = try WorkerProcess.run(["status", "--check"] + state)
        #expect(none.status == 2 && none.stdoutText.hasPrefix("CRITICAL: no state database"), "\(none.stdoutText)")

        let example = "fs:" + TestEnvironment.repositoryDirectory + "/examples/cognee-cache"
        let good = try WorkerProcess.run(["run", "--cache", example, "--graph", "sqlite:" + directory + "/graph.db", "--no-progress"] + state)
        #expect(good.status == 0, "\(good.stderr)")
        let ok = try WorkerProcess.run(["status", "--check", "--max-age", "1d"] + state)
        #expect(ok.status == 0 && ok.stdoutText.hasPrefix("OK: the last run"), "\(ok.stdoutText)")
        let stale = try WorkerProcess.run(["status", "--check", "--max-age", "0s"] + state)
        #expect(stale.status == 2 && stale.stdoutText.contains("more than --max-age 0s"), "\(stale.stdoutText)")
        #expect(try WorkerProcess.run(["status", "--check", "--max-age", "soon"] + state).status == 64)

        let failed = try WorkerProcess.run(["run", "--cache", "redis://127.0.0.1:1/0", "--graph", "sqlite:" + directory + "/graph.db",
                                            "--no-progress"] + state)
        #expect(failed.status == 69, "\(failed.stderr)")
        let critical = try WorkerProcess.run(["status", "--check"] + state)
        #expect(critical.status == 2 && critical.stdoutText.contains("failed"), "\(critical.stdoutText)")
    }
}
