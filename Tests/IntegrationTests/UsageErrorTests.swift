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
