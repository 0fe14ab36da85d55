import GraphStore
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
public struct SQLCacheSource: CacheSource {
    public enum Database: Sendable, Equatable {
        /// The SQLite (or turso) `cache.db`.
        case sqlite(path: String)
        /// A PostgreSQL connection string, handed to libpq as it is.
        case postgres(conninfo: String)
    }

    public let database: Database
    public let options: CacheReadOptions

    /// `path` may be the `cache.db` file or the folder that holds it (cognee's `DB_PATH`).
    public init(database: Database, options: CacheReadOptions = CacheReadOptions()) throws(PipelineError) {
        switch database {
        case .sqlite(let path): self.database = .sqlite(path: try Self.locate(path))
        case .postgres: self.database = database
        }
        self.options = options
    }

    public var location: String {
        switch database {
        case .sqlite(let path): return path
        case .postgres(let conninfo): return PostgresConnection.masked(conninfo)
        }
    }

    static func locate(_ path: String) throws(PipelineError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw PipelineError(.usage, operation: "open SQL cache \(path)", message: "no such file or directory")
        }
        guard isDirectory.boolValue else { return path }
        let file = (path.hasSuffix("/") ? String(path.dropLast()) : path) + "/cache.db"
        guard FileManager.default.fileExists(atPath: file) else {
            throw PipelineError(.usage, operation: "open SQL cache \(path)",
                                message: "no cache.db in this folder (cognee keeps it in DB_PATH, beside its relational database)")
        }
        return file
    }

    public func makeCursor(filter: SessionFilter) async throws -> any SessionCursor {
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

/// One backend's blocking queries. Every method only reads; rows whose `expires_at` is at or
/// before `expiry` (Unix seconds) are left out, none when it is nil.
protocol SQLCacheReader: Sendable {
    var location: String { get }
    /// Up to `limit` rows after the row `after` in (user_id, session_id, seq) order, of one user
    /// or all; returns how many it handed to `body`.
    func page(after: SQLCachePosition?, userID: String?, expiry: Double?, limit: Int,
              _ body: (SQLCacheRow) -> Void) throws -> Int
    /// The rows of one session by `seq`.
    func rows(of key: SessionKey, expiry: Double?, _ body: (SQLCacheRow) -> Void) throws
    /// Up to `limit` rows with `seq` above `afterSeq`, in `seq` order (the table's own order: a
    /// sequential read), of every session; returns how many.
    func scan(afterSeq: Int64?, expiry: Double?, limit: Int, _ body: (SQLCacheRow) -> Void) throws -> Int
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

/// Formats Unix seconds as SQLAlchemy stores a naive UTC `DateTime` on SQLite
/// (`YYYY-MM-DD HH:MM:SS.ffffff`), which cognee compares as text.
func sqliteUTCText(_ seconds: Double) -> String {
    var whole = Int64(seconds.rounded(.down))
    var micros = Int64(((seconds - Double(whole)) * 1_000_000).rounded())
    if micros >= 1_000_000 { whole += 1; micros -= 1_000_000 }
    let days = whole >= 0 ? whole / 86_400 : (whole - 86_399) / 86_400
    let secondOfDay = whole - days * 86_400
    let date = CivilDate(daysSinceEpoch: days)
    func pad(_ n: Int64, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    return "\(pad(date.year, 4))-\(pad(date.month, 2))-\(pad(date.day, 2)) "
        + "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(micros, 6))"
}
