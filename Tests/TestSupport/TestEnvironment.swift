import GraphStore
import Foundation

/// Where the integration servers are, from the variables `.ci/run` and `scripts/test` export.
public enum TestEnvironment {
    public static var redisURL: String? { ProcessInfo.processInfo.environment["MEMIFY_TEST_REDIS_URL"] }
    public static var postgresURL: String? { ProcessInfo.processInfo.environment["MEMIFY_TEST_POSTGRES_URL"] }
    /// `unix:///…/redis.sock`: the plain Redis's unix socket (same data as ``redisURL``).
    public static var redisUnixURL: String? { ProcessInfo.processInfo.environment["MEMIFY_TEST_REDIS_UNIX"] }
    /// `rediss://127.0.0.1:P`: a TLS-only Redis that asks for a client certificate (`tls-auth-clients optional`).
    public static var redisTLSURL: String? { ProcessInfo.processInfo.environment["MEMIFY_TEST_REDIS_TLS_URL"] }
    /// `rediss://127.0.0.1:P`: a TLS-only Redis that requires one (`tls-auth-clients yes`).
    public static var redisMutualTLSURL: String? { ProcessInfo.processInfo.environment["MEMIFY_TEST_REDIS_MTLS_URL"] }
    /// The test CA's files: `ca.crt`, `client.crt`, `client.key`, `other-ca.crt`, `other-ca.key`.
    public static var tlsDirectory: String? { ProcessInfo.processInfo.environment["MEMIFY_TEST_TLS_DIR"] }

    /// `../shared/fixtures/cognee-1.6.5`, found from this file's location in the repository.
    public static var fixturesDirectory: String {
        if let override = ProcessInfo.processInfo.environment["MEMIFY_FIXTURES"] { return override }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/fixtures/cognee-1.6.5").path
    }

    public static var repositoryDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }
}

/// A new, empty database on the test PostgreSQL, for a test that needs tables at their default
/// place (cognee's cache tables live on the search_path): returns its URL.
public enum PostgresTestDatabase {
    public static func create(prefix: String) async throws -> String {
        guard let base = TestEnvironment.postgresURL else { throw FixtureError("MEMIFY_TEST_POSTGRES_URL is not set") }
        let database = "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
        try await BlockingExecutor(label: "test.pg").run {
            let admin = try PostgresConnection(conninfo: base)
            defer { admin.close() }
            try admin.execute("CREATE DATABASE \(database)", operation: "create database")
        }
        return base.replacingOccurrences(of: "/memify_test", with: "/\(database)")
    }
}
