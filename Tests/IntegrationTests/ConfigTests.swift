import Foundation
import TestSupport
import Testing

/// cognee's `.env` under the process environment, and `config` saying which won, secrets masked.
@Suite("config and .env")
struct ConfigTests {
    static func envFile(_ text: String) throws -> (directory: String, path: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memify-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try text.write(toFile: directory + "/.env", atomically: true, encoding: .utf8)
        return (directory, directory + "/.env")
    }

    static func settings(_ outcome: WorkerProcess.Outcome) throws -> [String: (value: String?, source: String)] {
        let object = try #require(JSONSerialization.jsonObject(with: Data(outcome.stdout)) as? [String: Any], "\(outcome.stderr)")
        var out: [String: (value: String?, source: String)] = [:]
        for s in object["settings"] as? [[String: Any]] ?? [] {
            out[s["name"] as? String ?? ""] = (s["value"] as? String, s["source"] as? String ?? "")
        }
        return out
    }

    @Test("the same variable in .env and in the environment: the environment wins; python-dotenv's syntax; secrets masked")
    func precedence() throws {
        let (_, path) = try Self.envFile("""
            # cognee's settings
            export DB_HOST=file-host
            DB_NAME = "cog\\"nee" # a comment
            DB_USERNAME='lit # eral'
            DB_PORT=5433 # trailing comment
            DB_PASSWORD=hunter2-secret
            LLM_API_KEY="sk-test-key-123"
            CACHE_HOST=first
            CACHE_HOST=second
            MEMIFY_GRAPH_URL=postgresql://me:pg-secret-pw@db.example/cognee
            not a setting
            """)
        let outcome = try WorkerProcess.run(["config", "--json", "--env-file", path], environment: ["DB_HOST": "env-host"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let s = try Self.settings(outcome)
        #expect(s["DB_HOST"]?.value == "env-host" && s["DB_HOST"]?.source == "env")
        #expect(s["DB_NAME"]?.value == "cog\"nee" && s["DB_NAME"]?.source == ".env")
        #expect(s["DB_USERNAME"]?.value == "lit # eral")
        #expect(s["DB_PORT"]?.value == "5433")
        #expect(s["CACHE_HOST"]?.value == "second")
        #expect(s["DB_PASSWORD"]?.value == "***" && s["LLM_API_KEY"]?.value == "***")
        #expect(s["graph"]?.value == "postgresql://me:***@db.example/cognee" && s["graph"]?.source == ".env MEMIFY_GRAPH_URL")
        #expect(s["state"]?.value == ".memify/state.db" && s["state"]?.source == "default")
        for secret in ["hunter2-secret", "sk-test-key-123", "pg-secret-pw"] {
            #expect(!outcome.stdoutText.contains(secret) && !outcome.stderr.contains(secret), "\(secret) shown")
        }
        let text = try WorkerProcess.run(["config", "--env-file", path, "--state", "/tmp/s.db"])
        #expect(text.status == 0)
        #expect(text.stdoutText.contains("the .env file \(path)"))
        #expect(text.stdoutText.contains("/tmp/s.db  [flag --state]"), "\(text.stdoutText)")
        for secret in ["hunter2-secret", "sk-test-key-123", "pg-secret-pw"] { #expect(!text.stdoutText.contains(secret)) }
    }

    @Test(".env steers every command, under the process environment")
    func steers() throws {
        let (directory, path) = try Self.envFile("MEMIFY_GRAPH_URL=sqlite:/nonexistent/dir/g.db\n")
        let fromFile = try WorkerProcess.run(["migrate", "--env-file", path])
        #expect(fromFile.status == 64 && fromFile.stderr.contains("/nonexistent/dir does not exist"), "\(fromFile.stderr)")
        let fromEnvironment = try WorkerProcess.run(["migrate", "--env-file", path], environment: ["MEMIFY_GRAPH_URL": "sqlite:\(directory)/g.db"])
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.stderr)")
        #expect(FileManager.default.fileExists(atPath: directory + "/g.db"))
        let missing = try WorkerProcess.run(["config", "--env-file", directory + "/none.env"])
        #expect(missing.status == 64 && missing.stderr.contains("none.env' cannot be read"), "\(missing.stderr)")
    }
}
