import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import Foundation

/// Where the integration servers are, from the variables `.ci/run` and `scripts/test` export.
package enum TestEnvironment {
    package static var redisURL: String? { ProcessInfo.processInfo.environment["MEMIFY_TEST_REDIS_URL"] }
    package static var postgresURL: String? { ProcessInfo.processInfo.environment["MEMIFY_TEST_POSTGRES_URL"] }
    /// `unix:///…/redis.sock`: the plain Redis's unix socket (same data as ``redisURL``).
    package static var redisUnixURL: String? { ProcessInfo.processInfo.environment["MEMIFY_TEST_REDIS_UNIX"] }
    /// `rediss://127.0.0.1:P`: a TLS-only Redis that asks for a client certificate (`tls-auth-clients optional`).
    package static var redisTLSURL: String? { ProcessInfo.processInfo.environment["MEMIFY_TEST_REDIS_TLS_URL"] }
    /// `rediss://127.0.0.1:P`: a TLS-only Redis that requires one (`tls-auth-clients yes`).
    package static var redisMutualTLSURL: String? { ProcessInfo.processInfo.environment["MEMIFY_TEST_REDIS_MTLS_URL"] }
    /// The test CA's files: `ca.crt`, `client.crt`, `client.key`, `other-ca.crt`, `other-ca.key`.
    package static var tlsDirectory: String? { ProcessInfo.processInfo.environment["MEMIFY_TEST_TLS_DIR"] }
    /// The test PostgreSQL has pgvector: `CREATE EXTENSION IF NOT EXISTS vector` works in any
    /// database the tests create. `scripts/servers start` tried it and exported
    /// `MEMIFY_TEST_PGVECTOR=1` (PostgreSQL 16 of `scripts/pgvector-bin`; Debian's 15 has none).
    /// ``PostgresTestDatabase/pgvectorWorks()`` asks the server itself.
    package static var pgvectorAvailable: Bool {
        postgresURL != nil && ProcessInfo.processInfo.environment["MEMIFY_TEST_PGVECTOR"] == "1"
    }
    /// `MEMIFY_REQUIRE_SERVERS=1` (set by `.ci/run`): a missing server fails a test instead of skipping it.
    package static var serversRequired: Bool { ProcessInfo.processInfo.environment["MEMIFY_REQUIRE_SERVERS"] == "1" }
    /// The python of a virtualenv with cognee 1.6.5 (`scripts/cognee-venv`), or nil.
    package static var cogneePython: String? { ProcessInfo.processInfo.environment["MEMIFY_COGNEE_PYTHON"] }

    /// `../shared/fixtures/cognee-1.6.5`, found from this file's location in the repository.
    package static var fixturesDirectory: String {
        if let override = ProcessInfo.processInfo.environment["MEMIFY_FIXTURES"] { return override }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/fixtures/cognee-1.6.5").path
    }

    package static var repositoryDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }
}

/// A new, empty database on the test PostgreSQL, for a test that needs tables at their default
/// place (cognee's cache tables live on the search_path): returns its URL.
package enum PostgresTestDatabase {
    package static func create(prefix: String) async throws -> String {
        guard let base = TestEnvironment.postgresURL else { throw FixtureError("MEMIFY_TEST_POSTGRES_URL is not set") }
        let database = "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
        try await BlockingExecutor(label: "test.pg").run {
            let admin = try PostgresConnection(conninfo: base)
            defer { admin.close() }
            try admin.execute("CREATE DATABASE \(database)", operation: "create database")
        }
        return base.replacingOccurrences(of: "/memify_test", with: "/\(database)")
    }

    /// Drops a database ``create(prefix:)`` made (its connections are closed first).
    package static func drop(_ url: String) async throws {
        guard let base = TestEnvironment.postgresURL, let database = url.split(separator: "/").last.map(String.init),
              database != "memify_test" else { return }
        try await BlockingExecutor(label: "test.pg").run {
            let admin = try PostgresConnection(conninfo: base)
            defer { admin.close() }
            try admin.execute("DROP DATABASE IF EXISTS \(database) WITH (FORCE)", operation: "drop database")
        }
    }

    /// Whether the server can create the `vector` extension, asked in a new database (dropped after).
    package static func pgvectorWorks() async -> Bool {
        guard let url = try? await create(prefix: "memify_pgvector_check") else { return false }
        let distance = try? await BlockingExecutor(label: "test.pg").run { () throws -> String? in
            let connection = try PostgresConnection(conninfo: url)
            defer { connection.close() }
            try connection.execute("CREATE EXTENSION IF NOT EXISTS vector", operation: "create extension vector")
            return try connection.query("SELECT '[1,0]'::vector <=> '[0,1]'::vector", operation: "cosine distance").first?.first ?? nil
        }
        try? await drop(url)
        return distance == "1"
    }
}
