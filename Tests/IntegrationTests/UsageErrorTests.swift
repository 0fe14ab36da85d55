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
}
