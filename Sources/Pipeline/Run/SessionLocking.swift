import MemifyCore
package import GraphStore
package import SessionCache
import Extraction

/// Keeps two workers from processing one session at the same time, even when their shards are
/// misconfigured and overlap. A session another worker holds is skipped this run (the holder
/// persists it); the next run looks again.
package protocol SessionLocking: Sendable {
    /// Takes the locks it can without waiting; returns the sessions now held.
    func tryLock(_ keys: [SessionKey]) async throws -> Set<SessionKey>
    func unlock(_ keys: [SessionKey]) async throws
    /// Whether the locks taken are still held (their connection alive): a lost graph connection
    /// is retried only then, or the run would write on unlocked.
    func stillHeld() async -> Bool
}

/// Session locks as PostgreSQL advisory locks, held on the run lock's connection. The lock id is
/// the first 8 bytes of sha256("memify-worker session:" scope NUL user NUL session).
package struct PostgresSessionLocks: SessionLocking {
    package let lock: PostgresRunLock
    package let scope: String

    package init(lock: PostgresRunLock, scope: String) {
        self.lock = lock
        self.scope = scope
    }

    package func id(_ key: SessionKey) -> Int64 {
        let digest = Digest.sha256(Array("memify-worker session:\(scope)".utf8) + [0] + Array(key.userID.utf8) + [0]
                                   + Array(key.sessionID.utf8))
        return digest.prefix(8).reduce(Int64(0)) { ($0 << 8) | Int64($1) }
    }

    package func tryLock(_ keys: [SessionKey]) async throws -> Set<SessionKey> {
        let ids = Dictionary(keys.map { (id($0), $0) }, uniquingKeysWith: { a, _ in a })
        let held = try await lock.tryLock(Array(ids.keys))
        return Set(held.compactMap { ids[$0] })
    }

    package func unlock(_ keys: [SessionKey]) async throws {
        try await lock.unlock(keys.map(id))
    }

    package func stillHeld() async -> Bool { await lock.isHeld() }
}
