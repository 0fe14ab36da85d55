import MemifyCore
import Foundation

/// A session-level advisory lock that keeps two workers (on different machines, or with
/// different state databases) from running the same scope against one PostgreSQL graph. The
/// lock is held by its own connection for the whole run and released when it closes, so a
/// killed worker never leaves it behind.
package final class PostgresRunLock: Sendable {
    package let scope: String
    let connection: PostgresConnection
    let executor: BlockingExecutor

    private init(scope: String, connection: PostgresConnection, executor: BlockingExecutor) {
        self.scope = scope
        self.connection = connection
        self.executor = executor
    }

    /// The lock key of a scope: the first 8 bytes of sha256("memify-worker run:" + scope), big-endian.
    package static func key(scope: String) -> Int64 {
        let digest = Digest.sha256(Array(("memify-worker run:" + scope).utf8))
        return digest.prefix(8).reduce(Int64(0)) { ($0 << 8) | Int64($1) }
    }

    /// Takes the lock without waiting. Returns nil and the holder's description when another
    /// session holds it.
    package static func acquire(conninfo: String, scope: String, holderName: String) async throws
        -> (lock: PostgresRunLock?, holder: String?) {
        let executor = BlockingExecutor(label: "memify.run-lock")
        return try await executor.run { () throws -> (lock: PostgresRunLock?, holder: String?) in
            let connection = try PostgresConnection(conninfo: conninfo)
            let key = Self.key(scope: scope)
            try connection.perform("SELECT set_config('application_name', \(String(holderName.prefix(63))), false)",
                                   operation: "name the run-lock session")
            let got = try connection.row("SELECT pg_try_advisory_lock(\(key)::bigint)", operation: "take the run lock")
            if try got.bool(0) {
                return (PostgresRunLock(scope: scope, connection: connection, executor: executor), nil)
            }
            let high = UInt32(truncatingIfNeeded: UInt64(bitPattern: key) >> 32)
            let low = UInt32(truncatingIfNeeded: UInt64(bitPattern: key))
            let rows = try connection.rows("""
                SELECT a.pid::text, a.application_name, coalesce(host(a.client_addr), 'local'), a.backend_start::text
                FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted AND l.classid = \(Int64(high))::bigint::oid AND l.objid = \(Int64(low))::bigint::oid
                  AND l.objsubid = 1
                """, operation: "find the run-lock holder")
            // The holder may be gone by now (no row), and pg_stat_activity shows NULL for what
            // this role may not see: either way the message says what it knows.
            let holder = try rows.first.map { (row) throws(DatabaseError) -> String in
                let pid = try row.optionalString(0) ?? "?", name = try row.optionalString(1) ?? ""
                let host = try row.optionalString(2) ?? "?", since = try row.optionalString(3) ?? "?"
                return "PostgreSQL backend \(pid) '\(name)' from \(host) since \(since)"
            }
            return (nil, holder ?? "another session")
        }
    }

    /// Session-level advisory locks on `keys`, taken without waiting, on the run lock's
    /// connection (so they go when the run goes). Returns the keys now held.
    package func tryLock(_ keys: [Int64]) async throws -> Set<Int64> {
        guard !keys.isEmpty else { return [] }
        let connection = self.connection
        return try await executor.run { () throws -> Set<Int64> in
            Set(try connection.rows("SELECT k::text FROM unnest(\(keys)::bigint[]) AS k WHERE pg_try_advisory_lock(k)",
                                    operation: "lock sessions").map { (row) throws(DatabaseError) in try row.int64(0) })
        }
    }

    package func unlock(_ keys: [Int64]) async throws {
        guard !keys.isEmpty else { return }
        let connection = self.connection
        try await executor.run {
            try connection.perform("SELECT count(pg_advisory_unlock(k)) FROM unnest(\(keys)::bigint[]) AS k", operation: "unlock sessions")
        }
    }

    /// The identity of the graph in `placement`, on the lock's connection, when its schema is
    /// current and has one (see ``DeferredGraphWriter``); nil when a writer must migrate first.
    package func currentGraphIdentity(placement: GraphPlacement) async throws -> String? {
        let connection = self.connection
        return try await executor.run { () throws(DatabaseError) -> String? in
            try PostgresGraphWriter.currentIdentity(on: connection, placement: placement)
        }
    }

    /// The commit counter of the state `stateID` in the graph in `placement` (see
    /// ``GraphWriter/commitSequence(stateID:)``), on the lock's connection: a run whose schema is
    /// current learns whether its checkpoints are behind the graph without connecting a writer.
    package func commitSequence(placement: GraphPlacement, stateID: String) async throws -> Int64 {
        let connection = self.connection
        let table = PostgresGraphWriter.quoteIdentifier(placement.schema) + ".memify_commit"
        return try await executor.run { () throws(DatabaseError) -> Int64 in
            try PostgresGraphWriter.commitSequence(on: connection, table: table, stateID: stateID, location: "schema \(placement.schema)")
        }
    }

    /// Releases the lock and closes its connection: the run is over. The unlock is explicit, so
    /// the lock is free once this returns, not only once the server has ended the session (the
    /// sessions' locks, each released after its batch, would go with the session too).
    /// Whether the lock's connection is alive, and so the run lock and the session locks it
    /// holds are still held (advisory locks end with their connection).
    package func isHeld() async -> Bool {
        let connection = self.connection
        return (try? await executor.run { () throws(DatabaseError) -> Bool in
            try connection.rows("SELECT 1", operation: "check the run lock").count == 1
        }) ?? false
    }

    package func release() async {
        let connection = self.connection
        _ = try? await executor.run {
            defer { connection.close() }
            try connection.perform("SELECT pg_advisory_unlock(\(Self.key(scope: self.scope))::bigint)", operation: "release the run lock")
        }
    }
}
