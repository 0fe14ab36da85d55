internal import CSQLite3
import Synchronization

/// A thin, checked wrapper over one sqlite3 connection.
///
/// Calls block: run them on a ``BlockingExecutor``. The handle sits behind a `Mutex`, so the
/// type is `Sendable` by construction and two threads can never use the connection at once.
package final class SQLiteDatabase: Sendable {
    package enum Mode: Sendable {
        /// Read-only; never creates, writes or checkpoints the file.
        case readOnly
        /// Read-only, and the file is promised not to change (no locks, no -shm). For caches on
        /// read-only media, where a WAL database cannot otherwise be opened.
        case immutable
        case readWrite
        case readWriteCreate
    }

    package let path: String
    private let handle: Mutex<OpaquePointer?>

    package init(path: String, mode: Mode, busyTimeoutMilliseconds: Int32 = 30_000) throws(DatabaseError) {
        self.path = path
        var db: OpaquePointer?
        var flags = SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX
        switch mode {
        case .readOnly, .immutable: flags |= SQLITE_OPEN_READONLY
        case .readWrite: flags |= SQLITE_OPEN_READWRITE
        case .readWriteCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        }
        let uri: String
        switch mode {
        case .readOnly: uri = "file:\(Self.uriEscape(path))?mode=ro"
        case .immutable: uri = "file:\(Self.uriEscape(path))?immutable=1"
        case .readWrite, .readWriteCreate: uri = "file:\(Self.uriEscape(path))"
        }
        let rc = sqlite3_open_v2(uri, &db, flags, nil)
        if rc != SQLITE_OK {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw DatabaseError(.sqliteOpen, operation: "open SQLite database \(path)", message: message)
        }
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
        sqlite3_extended_result_codes(db, 1)
        handle = Mutex(db)
    }

    deinit { close() }

    /// Closes the database now; every later call throws. The last connection to close
    /// checkpoints the WAL into the file (two fsyncs); with `checkpoint` false it does not: the
    /// WAL keeps its transactions, unsynced (as each commit is, at `synchronous=NORMAL`), for
    /// the next open or checkpoint.
    package func close(checkpoint: Bool = true) {
        handle.withLock { db in
            if let db {
                if !checkpoint { _ = csqlite3_no_checkpoint_on_close(db) }
                sqlite3_close_v2(db)
            }
            db = nil
        }
    }

    /// Rows inserted, updated or deleted through this connection since it opened.
    package var totalChanges: Int {
        handle.withLock { db in db.map { Int(sqlite3_total_changes64($0)) } ?? 0 }
    }

    /// Percent-escapes the bytes that SQLite's URI parser gives a meaning to, and non-ASCII.
    private static func uriEscape(_ path: String) -> String {
        var out = ""
        for byte in path.utf8 {
            if byte >= 0x80 || byte == UInt8(ascii: "%") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") {
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            } else {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return out
    }

    /// Runs one or more statements that take no parameters and return no rows.
    package func execute(_ sql: String) throws(DatabaseError) {
        try handle.withLock { (db: inout OpaquePointer?) throws(DatabaseError) in
            guard let db else { throw Self.closedError(operation: "execute SQL") }
            let rc = sqlite3_exec(db, sql, nil, nil, nil)
            if rc != SQLITE_OK { throw Self.error(db, rc, operation: "execute SQL on \(path)") }
        }
    }

    /// Prepares `sql`, lends the statement to `body`, and finalizes it afterwards.
    package func withStatement<R: Sendable>(
        _ sql: String, operation: String, _ body: (inout SQLiteStatement) throws(DatabaseError) -> R
    ) throws(DatabaseError) -> R {
        try handle.withLock { (db: inout OpaquePointer?) throws(DatabaseError) -> R in
            guard let db else { throw Self.closedError(operation: operation) }
            var stmt: OpaquePointer?
            let rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nil)
            guard rc == SQLITE_OK, let stmt else { throw Self.error(db, rc, operation: operation) }
            defer { sqlite3_finalize(stmt) }
            var statement = SQLiteStatement(db: db, stmt: stmt, operation: operation)
            return try body(&statement)
        }
    }

    /// Whether the database has a table named `name` (an older file may lack a newer one).
    package func hasTable(_ name: String) throws(DatabaseError) -> Bool {
        try withStatement("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                          operation: "look for the \(name) table in \(path)") { stmt throws(DatabaseError) -> Bool in
            try stmt.bind(1, name)
            return try stmt.step() && stmt.int64(0) > 0
        }
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back when it throws.
    package func transaction<R: Sendable>(_ body: () throws(DatabaseError) -> R) throws(DatabaseError) -> R {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    static func error(_ db: OpaquePointer, _ rc: Int32, operation: String) -> DatabaseError {
        let message = String(cString: sqlite3_errmsg(db))
        return DatabaseError(.sqlite, operation: operation, message: "\(message) (sqlite code \(rc))")
    }

    private static func closedError(operation: String) -> DatabaseError {
        DatabaseError(.sqlite, operation: operation, message: "database is closed")
    }
}

/// One prepared statement, usable only inside ``SQLiteDatabase/withStatement(_:operation:_:)``.
package struct SQLiteStatement {
    package enum ColumnType: Sendable, Equatable {
        case integer, float, text, blob, null
    }

    fileprivate let db: OpaquePointer
    fileprivate let stmt: OpaquePointer
    package let operation: String

    fileprivate init(db: OpaquePointer, stmt: OpaquePointer, operation: String) {
        self.db = db
        self.stmt = stmt
        self.operation = operation
    }

    package mutating func reset() {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
    }

    package mutating func bind(_ index: Int32, _ value: String?) throws(DatabaseError) {
        // With its length, not NUL-terminated: a NUL inside an id must not cut it short.
        guard let value else { return try check(sqlite3_bind_null(stmt, index)) }
        try bindText(index, bytes: Array(value.utf8))
    }

    package mutating func bind(_ index: Int32, _ value: Int64?) throws(DatabaseError) {
        try check(value.map { sqlite3_bind_int64(stmt, index, $0) } ?? sqlite3_bind_null(stmt, index))
    }

    package mutating func bind(_ index: Int32, _ value: Double?) throws(DatabaseError) {
        try check(value.map { sqlite3_bind_double(stmt, index, $0) } ?? sqlite3_bind_null(stmt, index))
    }

    /// Binds UTF-8 bytes as TEXT (not BLOB): diskcache only matches TEXT keys and values.
    package mutating func bindText(_ index: Int32, bytes: [UInt8]) throws(DatabaseError) {
        let rc = bytes.withUnsafeBytes { buffer -> Int32 in
            guard let base = buffer.baseAddress else {
                return sqlite3_bind_text(stmt, index, "", 0, csqlite3_transient())
            }
            return sqlite3_bind_text(stmt, index, base.assumingMemoryBound(to: CChar.self), Int32(buffer.count),
                                     csqlite3_transient())
        }
        try check(rc)
    }

    package mutating func bindBlob(_ index: Int32, bytes: [UInt8]) throws(DatabaseError) {
        let rc = bytes.withUnsafeBufferPointer { buffer in
            sqlite3_bind_blob(stmt, index, buffer.baseAddress ?? UnsafePointer(bitPattern: 1), Int32(buffer.count),
                              csqlite3_transient())
        }
        try check(rc)
    }

    /// Advances to the next row; false when the statement is done.
    package mutating func step() throws(DatabaseError) -> Bool {
        let rc = sqlite3_step(stmt)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteDatabase.error(db, rc, operation: operation)
        }
    }

    package func columnType(_ index: Int32) -> ColumnType {
        switch sqlite3_column_type(stmt, index) {
        case SQLITE_INTEGER: return .integer
        case SQLITE_FLOAT: return .float
        case SQLITE_TEXT: return .text
        case SQLITE_BLOB: return .blob
        default: return .null
        }
    }

    package func int64(_ index: Int32) -> Int64 { sqlite3_column_int64(stmt, index) }
    /// Rows changed by the last INSERT, UPDATE or DELETE.
    package var changes: Int { Int(sqlite3_changes(db)) }
    package func double(_ index: Int32) -> Double { sqlite3_column_double(stmt, index) }

    /// The column's bytes as stored (TEXT as UTF-8, BLOB as is), with no validation.
    package func bytes(_ index: Int32) -> [UInt8] {
        withBytes(index) { Array($0) }
    }

    /// Calls `body` with the column's bytes in place (TEXT as UTF-8, BLOB as is; NULL as no
    /// bytes), valid only during the call.
    package func withBytes<R, E: Error>(_ index: Int32, _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(unsafeBytes(index))
    }

    /// The column's bytes in place (TEXT as UTF-8, BLOB as is; NULL as no bytes), valid until
    /// the statement steps, resets or is finalized, and while no other call converts this
    /// column. For row loops that read several columns without nesting closures.
    package func unsafeBytes(_ index: Int32) -> UnsafeRawBufferPointer {
        let isText = sqlite3_column_type(stmt, index) == SQLITE_TEXT
        // The pointer first, then the length (sqlite3's rule: the call that converts goes first).
        let pointer: UnsafeRawPointer? = isText
            ? sqlite3_column_text(stmt, index).map { UnsafeRawPointer($0) }
            : sqlite3_column_blob(stmt, index)
        let count = Int(sqlite3_column_bytes(stmt, index))
        guard let pointer, count > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: pointer, count: count)
    }

    /// The column as a String, with invalid UTF-8 repaired (for keys and names, not payloads).
    package func text(_ index: Int32) -> String? {
        if sqlite3_column_type(stmt, index) == SQLITE_NULL { return nil }
        return String(decoding: bytes(index), as: UTF8.self)
    }

    private func check(_ rc: Int32) throws(DatabaseError) {
        if rc != SQLITE_OK { throw SQLiteDatabase.error(db, rc, operation: operation) }
    }
}
