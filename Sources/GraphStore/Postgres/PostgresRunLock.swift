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
            try connection.query("SELECT set_config('application_name', $1, false)", [String(holderName.prefix(63))],
                                 operation: "name the run-lock session")
            let got = try connection.query("SELECT pg_try_advisory_lock($1::bigint)", [String(key)],
                                           operation: "take the run lock")
            if got.first?.first == "t" {
                return (PostgresRunLock(scope: scope, connection: connection, executor: executor), nil)
            }
            let high = UInt32(truncatingIfNeeded: UInt64(bitPattern: key) >> 32)
            let low = UInt32(truncatingIfNeeded: UInt64(bitPattern: key))
            let rows = try connection.query("""
                SELECT a.pid::text, a.application_name, coalesce(host(a.client_addr), 'local'), a.backend_start::text
                FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid
                  AND l.objsubid = 1
                """, [String(high), String(low)], operation: "find the run-lock holder")
            let holder = rows.first.map { "PostgreSQL backend \($0[0] ?? "?") '\($0[1] ?? "")' from \($0[2] ?? "?") since \($0[3] ?? "?")" }
            return (nil, holder ?? "another session")
        }
    }

    /// Session-level advisory locks on `keys`, taken without waiting, on the run lock's
    /// connection (so they go when the run goes). Returns the keys now held.
    package func tryLock(_ keys: [Int64]) async throws -> Set<Int64> {
        guard !keys.isEmpty else { return [] }
        let connection = self.connection
        let literal = "{" + keys.map(String.init).joined(separator: ",") + "}"
        let rows = try await executor.run {
            try connection.query("SELECT k::text FROM unnest($1::bigint[]) AS k WHERE pg_try_advisory_lock(k)", [literal],
                                 operation: "lock sessions")
        }
        return Set(rows.compactMap { $0.first.flatMap { $0 }.flatMap { Int64($0) } })
    }

    package func unlock(_ keys: [Int64]) async throws {
        guard !keys.isEmpty else { return }
        let connection = self.connection
        let literal = "{" + keys.map(String.init).joined(separator: ",") + "}"
        _ = try await executor.run {
            try connection.query("SELECT count(pg_advisory_unlock(k)) FROM unnest($1::bigint[]) AS k", [literal],
                                 operation: "unlock sessions")
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
            try connection.query("SELECT 1", operation: "check the run lock").count == 1
        }) ?? false
    }

    package func release() async {
        let connection = self.connection
        _ = try? await executor.run {
            defer { connection.close() }
            try connection.query("SELECT pg_advisory_unlock($1::bigint)", [String(Self.key(scope: self.scope))],
                                 operation: "release the run lock")
        }
    }
}
