import MemifyCore
import Foundation

/// cognee's SQLite (or turso) `cache.db`, opened read-only: in WAL mode cognee's writers go on
/// while it reads, and each statement reads one consistent snapshot.
final class SQLiteCacheReader: SQLCacheReader {
    let location: String
    private let database: SQLiteDatabase

    init(path: String) throws(WorkerError) {
        location = path
        do {
            let database = try openCacheDatabase(path)
            self.database = database
            guard try database.hasTable("cache_qa_entries") else {
                let hint = try database.hasTable("Cache")
                    ? "this is diskcache's cache.db (cognee's filesystem cache): read it with --cache fs:PATH"
                    : "it has no cache_qa_entries table (cognee creates it at its first session write)"
                throw WorkerError(.cacheFormat, operation: "open SQL cache \(path)", message: hint)
            }
        } catch let error as DatabaseError {
            throw WorkerError(.io, operation: "open SQL cache \(path)", message: error.message)
        } catch let error as WorkerError {
            throw error
        } catch {
            throw WorkerError(.io, operation: "open SQL cache \(path)", message: "\(error)")
        }
    }

    private static let columns = "SELECT user_id, session_id, seq, payload FROM cache_qa_entries"

    func select(_ conditions: [SQLCacheCondition], order: SQLCacheOrder, limit: Int?,
                _ body: (SQLCacheRow) -> Void) throws -> Int {
        let clauses = conditions.map { condition in
            switch condition {
            case .after: return "(user_id, session_id, seq) > (?, ?, ?)"
            case .user: return "user_id = ?"
            case .session: return "user_id = ? AND session_id = ?"
            case .seqAbove: return "seq > ?"
            // SQLAlchemy stores naive UTC text; cognee compares it as text with its own `now`.
            case .visibleAt: return "(expires_at IS NULL OR expires_at > ?)"
            }
        }
        let sql = Self.columns + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "))
            + (order == .session ? " ORDER BY user_id, session_id, seq" : " ORDER BY seq") + (limit.map { " LIMIT \($0)" } ?? "")
        return try read(sql, bind: { stmt throws(DatabaseError) in
            var n: Int32 = 0
            func text(_ value: String) throws(DatabaseError) { n += 1; try stmt.bind(n, value) }
            for condition in conditions {
                switch condition {
                case .after(let position):
                    try text(position.key.userID)
                    try text(position.key.sessionID)
                    n += 1; try stmt.bind(n, position.seq)
                case .user(let user): try text(user)
                case .session(let key):
                    try text(key.userID)
                    try text(key.sessionID)
                case .seqAbove(let seq): n += 1; try stmt.bind(n, seq)
                case .visibleAt(let time): try text(UTCTime.sqlite(time))
                }
            }
        }, body)
    }

    /// Runs a query of ``columns`` and hands each row to `body` in place; returns the row count.
    private func read(_ sql: String, bind: (inout SQLiteStatement) throws(DatabaseError) -> Void,
                      _ body: (SQLCacheRow) -> Void) throws -> Int {
        do {
            return try database.withStatement(sql, operation: "read \(location)") { stmt throws(DatabaseError) -> Int in
                try bind(&stmt)
                var count = 0
                while try stmt.step() {
                    count += 1
                    // A payload stored as a BLOB is read as its bytes, as Python's json.loads reads bytes.
                    body(SQLCacheRow(userID: stmt.unsafeBytes(0), sessionID: stmt.unsafeBytes(1), seq: stmt.int64(2),
                                     payload: stmt.unsafeBytes(3)))
                }
                return count
            }
        } catch {
            throw WorkerError(.io, operation: "read SQL cache \(location)", message: error.message)
        }
    }
}

/// cognee's SQL cache in PostgreSQL (`CACHE_BACKEND=postgres`): `payload` is JSONB, read as its
/// text. Each query is its own snapshot; no transaction stays open between them.
final class PostgresCacheReader: SQLCacheReader {
    let location: String
    private let connection: PostgresConnection

    init(conninfo: String) throws(WorkerError) {
        location = "PostgreSQL at " + PostgresConnection.masked(conninfo)
        do {
            connection = try PostgresConnection(conninfo: conninfo)
        } catch {
            throw WorkerError(error.code == .invalidArgument ? .usage : .serviceUnavailable,
                                operation: "connect to the SQL cache, \(location)", message: error.message)
        }
        let found: Bool
        do {
            found = try connection.row("SELECT to_regclass('cache_qa_entries') IS NOT NULL", operation: "find cache_qa_entries").bool(0)
        } catch {
            throw WorkerError(.serviceUnavailable, operation: "read the SQL cache, \(location)", message: error.message)
        }
        guard found else {
            throw WorkerError(.cacheFormat, operation: "open the SQL cache, \(location)",
                                message: "no cache_qa_entries table on the search_path (cognee creates it at its first session write; is this the cache database?)")
        }
    }

    private static let columns: SQLStatement = "SELECT user_id, session_id, seq, payload::text FROM cache_qa_entries"

    func select(_ conditions: [SQLCacheCondition], order: SQLCacheOrder, limit: Int?,
                _ body: (SQLCacheRow) -> Void) throws -> Int {
        let clauses = conditions.map { condition -> SQLStatement in
            switch condition {
            case .after(let position):
                return "(user_id, session_id, seq) > (\(position.key.userID), \(position.key.sessionID), \(position.seq))"
            case .user(let user): return "user_id = \(user)"
            case .session(let key): return "user_id = \(key.userID) AND session_id = \(key.sessionID)"
            case .seqAbove(let seq): return "seq > \(seq)"
            case .visibleAt(let time): return "(expires_at IS NULL OR expires_at > to_timestamp(\(time)::double precision))"
            }
        }
        var statement = Self.columns
        if !clauses.isEmpty { statement += " WHERE " + clauses.joined(separator: " AND ") }
        statement += order == .session ? " ORDER BY user_id, session_id, seq" : " ORDER BY seq"
        if let limit { statement += " LIMIT \(limit)" }
        return try read(statement, body)
    }

    private func read(_ statement: SQLStatement, _ body: (SQLCacheRow) -> Void) throws -> Int {
        var count = 0
        try run {
            try connection.forEachRow(statement, operation: "read cache_qa_entries") { (row: PostgresRow) throws(DatabaseError) in
                count += 1
                // `payload` is NOT NULL in cognee's table; a NULL one would be that entry's
                // fault, so it goes on as no bytes and is reported as a bad entry (as the SQLite
                // reader hands it on), with the rows around it still read.
                body(SQLCacheRow(userID: try row.bytes(0), sessionID: try row.bytes(1), seq: try row.int64(2),
                                 payload: try row.optionalBytes(3) ?? UnsafeRawBufferPointer(start: nil, count: 0)))
            }
        }
        return count
    }

    /// Runs a query, its errors said as the cache's.
    private func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as DatabaseError {
            let code: WorkerError.Code = error.code == .connectionFailed ? .serviceUnavailable : .io
            throw WorkerError(code, operation: "read the SQL cache, \(location)",
                                message: error.message + (code == .serviceUnavailable ? "; the next run resumes where this one stopped" : ""))
        }
    }
}

/// Opens a cache's SQLite file read-only, for reading while cognee writes to it. A read-only
/// connection still needs the -shm file of a WAL database; on read-only media it cannot create
/// one, and only there is the file read as immutable. On writable media cognee may be writing:
/// immutable would read past its WAL and see stale rows, so the error stands.
func openCacheDatabase(_ path: String) throws(DatabaseError) -> SQLiteDatabase {
    let database = try SQLiteDatabase(path: path, mode: .readOnly)
    do {
        try database.execute("SELECT count(*) FROM sqlite_master")
        return database
    } catch {
        let folder = (path as NSString).deletingLastPathComponent
        guard access(folder.isEmpty ? "." : folder, W_OK) != 0 else { throw error }
        return try SQLiteDatabase(path: path, mode: .immutable)
    }
}
