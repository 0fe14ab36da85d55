package import MemifyCore
import Foundation
import Synchronization

/// Reads cognee's SQL session cache (spec §7: `CACHE_BACKEND=sqlite`, cognee's default, and
/// `turso` and `postgres`): the table `cache_qa_entries`, one row per entry, read-only.
///
/// A session is every visible row of one (`user_id`, `session_id`) in `seq` order, as cognee's
/// `get_session` returns it; an element's index is its position there, and a bad payload is
/// reported with its `seq`. Rows whose `expires_at` has passed are skipped as cognee skips them,
/// unless ``CacheReadOptions/includeExpired`` asks for them. The reader never writes, and it
/// holds no transaction open between statements, so cognee's writers never wait on it.
package struct SQLCacheSource: CacheSource {
    package enum Database: Sendable, Equatable {
        /// The SQLite (or turso) `cache.db`.
        case sqlite(path: String)
        /// A PostgreSQL connection string, handed to libpq as it is.
        case postgres(conninfo: String)
    }

    package let database: Database
    package let options: CacheReadOptions

    /// `path` may be the `cache.db` file or the folder that holds it (cognee's `DB_PATH`).
    package init(database: Database, options: CacheReadOptions = CacheReadOptions()) throws(WorkerError) {
        switch database {
        case .sqlite(let path): self.database = .sqlite(path: try Self.locate(path))
        case .postgres: self.database = database
        }
        self.options = options
    }

    package var location: String {
        switch database {
        case .sqlite(let path): return path
        case .postgres(let conninfo): return PostgresConnection.masked(conninfo)
        }
    }

    package static func locate(_ path: String) throws(WorkerError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw WorkerError(.usage, operation: "open SQL cache \(path)", message: "no such file or directory")
        }
        guard isDirectory.boolValue else { return path }
        let file = (path.hasSuffix("/") ? String(path.dropLast()) : path) + "/cache.db"
        guard FileManager.default.fileExists(atPath: file) else {
            throw WorkerError(.usage, operation: "open SQL cache \(path)",
                                message: "no cache.db in this folder (cognee keeps it in DB_PATH, beside its relational database)")
        }
        return file
    }

    package func makeCursor(filter: SessionFilter) async throws -> any SessionCursor {
        let now = options.now ?? Date().timeIntervalSince1970
        let executor = BlockingExecutor(label: "memify.sql.reader")
        let database = database
        let reader: any SQLCacheReader = try await executor.run { () throws -> any SQLCacheReader in
            switch database {
            case .sqlite(let path): return try SQLiteCacheReader(path: path)
            case .postgres(let conninfo): return try PostgresCacheReader(conninfo: conninfo)
            }
        }
        return SQLSessionCursor(reader: reader, executor: executor, filter: filter,
                                expiry: options.includeExpired ? nil : now, batchSize: options.batchSize,
                                fingerprints: options.fingerprints, malformed: options.malformedKeys)
    }
}

/// One backend's blocking queries: a `SELECT user_id, session_id, seq, payload` of
/// `cache_qa_entries` under these conditions, in this order, each row handed to `body` in place.
/// Every query only reads.
protocol SQLCacheReader: Sendable {
    var location: String { get }
    /// Returns how many rows it handed to `body`.
    func select(_ conditions: [SQLCacheCondition], order: SQLCacheOrder, limit: Int?,
                _ body: (SQLCacheRow) -> Void) throws -> Int
}

/// A condition of a ``SQLCacheReader`` query; each backend spells it in its own SQL.
enum SQLCacheCondition {
    /// Rows after this one in (user_id, session_id, seq) order.
    case after(SQLCachePosition)
    case user(String)
    case session(SessionKey)
    case seqAbove(Int64)
    /// Rows whose `expires_at` is after this time (Unix seconds), or unset: as cognee sees them.
    case visibleAt(Double)
}

enum SQLCacheOrder {
    /// (user_id, session_id, seq): a session's rows together.
    case session
    /// `seq` alone: the table's own order, a sequential read.
    case seq
}

extension SQLCacheReader {
    /// Up to `limit` rows after the row `after` in (user_id, session_id, seq) order, of one user
    /// or all; rows whose `expires_at` is at or before `expiry` (Unix seconds) are left out, none
    /// when it is nil. Returns how many it handed to `body`.
    func page(after: SQLCachePosition?, userID: String?, expiry: Double?, limit: Int,
              _ body: (SQLCacheRow) -> Void) throws -> Int {
        try select([after.map(SQLCacheCondition.after), userID.map(SQLCacheCondition.user), expiry.map(SQLCacheCondition.visibleAt)]
                       .compactMap { $0 }, order: .session, limit: limit, body)
    }

    /// The rows of one session by `seq`.
    func rows(of key: SessionKey, expiry: Double?, _ body: (SQLCacheRow) -> Void) throws {
        _ = try select([.session(key)] + (expiry.map { [SQLCacheCondition.visibleAt($0)] } ?? []), order: .seq, limit: nil, body)
    }

    /// Up to `limit` rows with `seq` above `afterSeq`, in `seq` order, of every session.
    func scan(afterSeq: Int64?, expiry: Double?, limit: Int, _ body: (SQLCacheRow) -> Void) throws -> Int {
        try select([afterSeq.map(SQLCacheCondition.seqAbove), expiry.map(SQLCacheCondition.visibleAt)].compactMap { $0 },
                   order: .seq, limit: limit, body)
    }
}

/// Where a page ended: the last row's session and `seq`.
struct SQLCachePosition: Sendable {
    var key: SessionKey
    var seq: Int64
}

/// One `cache_qa_entries` row, its bytes valid only during the callback.
struct SQLCacheRow {
    var userID: UnsafeRawBufferPointer
    var sessionID: UnsafeRawBufferPointer
    var seq: Int64
    var payload: UnsafeRawBufferPointer
}
