internal import CLibPQ
import Foundation
import Synchronization

/// One blocking libpq connection. Every call blocks: run them on a ``BlockingExecutor``. The
/// handle sits behind a `Mutex`, so the type is `Sendable` by construction.
///
/// Errors are built from the primary message and SQLSTATE of the server's answer, never from
/// `PQerrorMessage` of a failed statement, whose DETAIL lines can echo row data.
package final class PostgresConnection: Sendable {
    /// The connection string with any password masked: safe to log.
    package let location: String
    private let handle: Mutex<OpaquePointer?>

    /// Connects. The string goes to libpq as it is (URL or key=value), so `PG*` variables,
    /// `.pgpass`, service files and `sslmode` work as usual.
    package init(conninfo: String) throws(DatabaseError) {
        location = Self.masked(conninfo)
        // Parsed first: libpq's own parse errors quote the offending text, which may be the
        // password. Its messages never reach the user unscrubbed.
        let (password, parseError) = Self.parsePassword(conninfo)
        if let parseError {
            throw DatabaseError(.invalidArgument, operation: "connect to PostgreSQL at \(location)",
                                  message: "the connection string is malformed: \(Self.scrubParseError(parseError))")
        }
        guard let conn = PQconnectdb(conninfo) else {
            throw DatabaseError(.connectionFailed, operation: "connect to PostgreSQL at \(location)", message: "out of memory")
        }
        if PQstatus(conn) != CONNECTION_OK {
            let message = Self.scrub(Self.firstLine(String(cString: PQerrorMessage(conn))), password: password)
            PQfinish(conn)
            throw DatabaseError(.connectionFailed, operation: "connect to PostgreSQL at \(location)", message: message)
        }
        handle = Mutex(conn)
    }

    deinit { close() }

    /// Closes the connection now; every later call throws.
    package func close() {
        handle.withLock { conn in
            if let conn { PQfinish(conn) }
            conn = nil
        }
    }

    // The statements of ``SQLStatement`` are run by `rows`, `row`, `perform` and `forEachRow`,
    // not by overloads of `query` and `execute`: for a string literal Swift picks the `String`
    // overload over one taking an `ExpressibleByStringInterpolation` type, even a disfavored
    // one, so an interpolation meant to be bound would be spliced without a word.

    /// Runs one statement, its interpolated values bound as parameters, and returns its rows.
    package func rows(_ statement: SQLStatement, operation: String) throws(DatabaseError) -> [PostgresRow] {
        let result = try run(statement.sql, statement.parameters, operation: operation)
        return (0..<PQntuples(result.handle)).map { PostgresRow(result: result, row: $0) }
    }

    /// Runs a statement that answers exactly one row (`SELECT count(*) …`, `EXISTS`, a
    /// `RETURNING` of one row) and returns it; no row is an error, not an empty value.
    package func row(_ statement: SQLStatement, operation: String) throws(DatabaseError) -> PostgresRow {
        let rows = try rows(statement, operation: operation)
        guard rows.count == 1 else {
            throw DatabaseError(.decoding, operation: operation, message: "expected one row, the server answered \(rows.count)")
        }
        return rows[0]
    }

    /// Runs a statement for its effect. Without parameters it goes as a simple query, so a
    /// script of several statements separated by semicolons may run (DDL, `BEGIN`, `COMMIT`);
    /// with parameters it must be one statement.
    package func perform(_ statement: SQLStatement, operation: String) throws(DatabaseError) {
        if statement.parameters.isEmpty {
            try execute(statement.sql, operation: operation)
        } else {
            _ = try run(statement.sql, statement.parameters, operation: operation)
        }
    }

    /// Runs one statement and hands each row to `body` in place (no copy of its values), in
    /// order. For reads of many rows whose values are consumed as bytes.
    package func forEachRow<E: Error>(_ statement: SQLStatement, operation: String,
                                     _ body: (PostgresRow) throws(E) -> Void) throws -> Void {
        let result = try run(statement.sql, statement.parameters, operation: operation)
        for r in 0..<PQntuples(result.handle) {
            try body(PostgresRow(result: result, row: r))
        }
    }

    /// Runs one statement with bound parameters (text format; nil is NULL) and returns its rows.
    ///
    /// PostgresVectors moves to SQLStatement next, and the tests that still call this with it;
    /// then this goes. The SQL is a `String`: an interpolation in it is spliced, not bound.
    @discardableResult
    package func query(_ sql: String, _ parameters: [String?] = [], operation: String) throws(DatabaseError) -> [[String?]] {
        let result = try run(sql, parameters, operation: operation)
        return Self.copiedRows(result.handle)
    }

    /// Runs one statement with bound parameters (text format) and returns its checked result.
    private func run(_ sql: String, _ parameters: [String?], operation: String) throws(DatabaseError) -> PostgresResult {
        try handle.withLock { (conn: inout OpaquePointer?) throws(DatabaseError) -> PostgresResult in
            guard let conn else { throw Self.closed(operation) }
            // Keep every parameter's bytes alive (NUL-terminated) for the call.
            let buffers: [[CChar]?] = parameters.map { $0.map { Array($0.utf8CString) } }
            let result: OpaquePointer? = Self.withCStrings(buffers) { pointers in
                PQexecParams(conn, sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
            }
            do throws(DatabaseError) {
                try Self.check(result, conn, operation: operation)
            } catch {
                PQclear(result)
                throw error
            }
            return PostgresResult(handle: result!, operation: operation)
        }
    }

    /// Runs statements without parameters (several may be separated by semicolons).
    ///
    /// ``perform(_:operation:)`` runs an ``SQLStatement`` without parameters here. Called with
    /// a `String` by PostgresVectors, the tests and the tools until they move to SQLStatement:
    /// an interpolation in it is spliced, not bound.
    package func execute(_ sql: String, operation: String) throws(DatabaseError) {
        try handle.withLock { (conn: inout OpaquePointer?) throws(DatabaseError) in
            guard let conn else { throw Self.closed(operation) }
            let result = PQexec(conn, sql)
            defer { PQclear(result) }
            try Self.check(result, conn, operation: operation)
        }
    }

    /// `COPY … FROM STDIN` with `data` in COPY's text format.
    package func copyIn(_ sql: String, data: [UInt8], operation: String) throws(DatabaseError) {
        try copyIn(sql, operation: operation) { stream in stream.data = data }  // sent whole at the end
    }

    /// Rows on their way to a `COPY … FROM STDIN`: `write` appends them to `data` in COPY's
    /// text format and calls ``flush()`` between rows, which sends what has piled up. The
    /// server ingests the first rows while the next are still being formatted.
    package struct CopyStream {
        package var data: [UInt8] = []
        fileprivate let conn: OpaquePointer
        fileprivate var failed = false
        /// Bytes gathered before a send.
        static let chunk = 1 << 16

        fileprivate init(conn: OpaquePointer) {
            self.conn = conn
            data.reserveCapacity(Self.chunk + (Self.chunk >> 2))
        }

        /// Sends the rows so far once there are at least ``chunk`` bytes of them.
        package mutating func flush() {
            if data.count >= Self.chunk { send() }
        }

        /// Sends `data` (at most 1 MiB a call) and empties it.
        fileprivate mutating func send() {
            guard !failed, !data.isEmpty else { return }
            let conn = self.conn
            let ok = data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = min(1 << 20, raw.count - offset)
                    guard PQputCopyData(conn, raw.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self), Int32(n)) == 1
                    else { return false }
                    offset += n
                }
                return true
            }
            if !ok { failed = true }
            data.removeAll(keepingCapacity: true)
        }
    }

    /// `COPY … FROM STDIN`, its rows written by `write` (see ``CopyStream``).
    package func copyIn(_ sql: String, operation: String, write: (inout CopyStream) -> Void) throws(DatabaseError) {
        try handle.withLock { (conn: inout OpaquePointer?) throws(DatabaseError) in
            guard let conn else { throw Self.closed(operation) }
            let start = PQexec(conn, sql)
            let status = PQresultStatus(start)
            if status != PGRES_COPY_IN {
                defer { PQclear(start) }
                try Self.check(start, conn, operation: operation)
                throw DatabaseError(.postgres, operation: operation, message: "server did not enter COPY mode")
            }
            PQclear(start)
            var stream = CopyStream(conn: conn)
            write(&stream)
            stream.send()
            if PQputCopyEnd(conn, stream.failed ? "client aborted COPY" : nil) != 1 {
                throw DatabaseError(.connectionFailed, operation: operation, message: Self.firstLine(String(cString: PQerrorMessage(conn))))
            }
            var failure: DatabaseError?
            while let result = PQgetResult(conn) {
                if failure == nil {
                    do throws(DatabaseError) { try Self.check(result, conn, operation: operation) } catch { failure = error }
                }
                PQclear(result)
            }
            if let failure { throw failure }
        }
    }

    /// Connects again with the same parameters (`PQreset`), after the server dropped the
    /// connection; the session's settings are gone with it.
    package func reset() throws(DatabaseError) {
        try handle.withLock { (conn: inout OpaquePointer?) throws(DatabaseError) in
            guard let conn else { throw Self.closed("reconnect to PostgreSQL at \(location)") }
            PQreset(conn)
            if PQstatus(conn) != CONNECTION_OK {
                throw DatabaseError(.connectionFailed, operation: "reconnect to PostgreSQL at \(location)",
                                      message: Self.firstLine(String(cString: PQerrorMessage(conn))))
            }
        }
    }

    /// True when the server connection is gone (after a restart or a network failure).
    package var isBroken: Bool {
        handle.withLock { conn in conn.map { PQstatus($0) != CONNECTION_OK } ?? true }
    }

    // MARK: - Helpers

    private static func withCStrings<R>(_ buffers: [[CChar]?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        var pointers: [UnsafePointer<CChar>?] = []
        pointers.reserveCapacity(buffers.count)
        func recurse(_ i: Int) -> R {
            if i == buffers.count { return body(pointers) }
            guard let buffer = buffers[i] else {
                pointers.append(nil)
                return recurse(i + 1)
            }
            return buffer.withUnsafeBufferPointer { p in
                pointers.append(p.baseAddress)
                return recurse(i + 1)
            }
        }
        return recurse(0)
    }

    private static func check(_ result: OpaquePointer?, _ conn: OpaquePointer, operation: String) throws(DatabaseError) {
        guard let result else {
            throw DatabaseError(.connectionFailed, operation: operation, message: firstLine(String(cString: PQerrorMessage(conn))))
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_COPY_IN, PGRES_EMPTY_QUERY:
            return
        default:
            let state = PQresultErrorField(result, CLIBPQ_DIAG_SQLSTATE).map { String(cString: $0) }
            let primary = PQresultErrorField(result, CLIBPQ_DIAG_MESSAGE_PRIMARY).map { String(cString: $0) }
            let broken = PQstatus(conn) != CONNECTION_OK || state?.hasPrefix("08") == true || state?.hasPrefix("57P") == true
            let message = primary ?? firstLine(String(cString: PQerrorMessage(conn)))
            throw DatabaseError(broken ? .connectionFailed : .postgres, operation: operation,
                                  message: message.isEmpty ? "server closed the connection" : message, sqlState: state)
        }
    }

    private static func copiedRows(_ result: OpaquePointer) -> [[String?]] {
        let n = PQntuples(result), m = PQnfields(result)
        var out: [[String?]] = []
        out.reserveCapacity(Int(n))
        for r in 0..<n {
            var row: [String?] = []
            row.reserveCapacity(Int(m))
            for c in 0..<m {
                if PQgetisnull(result, r, c) == 1 {
                    row.append(nil)
                } else {
                    let length = Int(PQgetlength(result, r, c))
                    let value = PQgetvalue(result, r, c)!
                    row.append(String(decoding: UnsafeRawBufferPointer(start: value, count: length), as: UTF8.self))
                }
            }
            out.append(row)
        }
        return out
    }

    private static func closed(_ operation: String) -> DatabaseError {
        DatabaseError(.connectionFailed, operation: operation, message: "connection closed")
    }

    /// A libpq keyword/value connection string of the pairs whose value is set, each value
    /// quoted (so spaces, quotes and backslashes in a password survive).
    package static func conninfo(_ pairs: [(String, String?)]) -> String {
        pairs.compactMap { key, value in
            value.map { key + "='" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'" }
        }.joined(separator: " ")
    }

    /// The password libpq would use from the string itself (nil if none), or libpq's parse error.
    static func parsePassword(_ conninfo: String) -> (password: String?, error: String?) {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &error) else {
            defer { if let error { PQfreemem(error) } }
            return (nil, error.map { firstLine(String(cString: $0)) } ?? "out of memory")
        }
        defer { PQconninfoFree(options) }
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "password", let value = option.pointee.val { return (String(cString: value), nil) }
            option += 1
        }
        return (nil, nil)
    }

    /// A libpq message made safe to show: quoted values elided, the password (if known) masked.
    static func scrub(_ message: String, password: String?) -> String {
        var out = message
        if let password, !password.isEmpty {
            out = out.replacingOccurrences(of: password, with: "***")
            // A short password could still be told from where the mask lands (`user "***"`):
            // then no quoted value is shown at all.
            if password.count < 8 { out = out.replacingOccurrences(of: #""[^"]*""#, with: "\"…\"", options: .regularExpression) }
        }
        return out
    }

    /// A parse error names the bad part of the string, quoted: nothing from the first quote on
    /// is shown (a password may hold a quote, so quoted values cannot be elided safely).
    static func scrubParseError(_ message: String) -> String {
        guard let quote = message.firstIndex(of: "\"") else { return message }
        return message[..<quote].trimmingCharacters(in: .whitespaces) + " …"
    }

    static func firstLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
    }

    /// The connection string with the password masked (URL userinfo or `password=`).
    package static func masked(_ conninfo: String) -> String {
        if let scheme = conninfo.range(of: "://") {
            let rest = conninfo[scheme.upperBound...]
            // libpq takes the user info up to the last '@' before the first '/': a password may
            // hold '?', ':' or '#'.
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            var out = String(conninfo[..<scheme.upperBound])
            var remainder = rest[...]
            if let at = rest[..<slash].lastIndex(of: "@") {
                let userinfo = rest[..<at]
                let user = userinfo.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
                out += user + (userinfo.contains(":") ? ":***" : "")
                remainder = rest[at...]
            }
            return out + maskedQuery(String(remainder))
        }
        // No regex unless there is a password to hide: compiling one costs milliseconds, and
        // every run masks its connection strings.
        guard mentionsPassword(conninfo) else { return conninfo }
        return conninfo.replacingOccurrences(of: #"(?i)password\s*=\s*('([^'\\]|\\.)*'|\S+)"#, with: "password=***",
                                             options: .regularExpression)
    }

    /// A URL's host, path and query with the value of every `password` parameter replaced by
    /// `***`. libpq percent-decodes parameter names, so `p%61ssword` is one too.
    static func maskedQuery(_ rest: String) -> String {
        guard let q = rest.firstIndex(of: "?") else { return rest }
        let params = rest[rest.index(after: q)...].split(separator: "&", omittingEmptySubsequences: false).map { param -> String in
            guard let eq = param.firstIndex(of: "=") else { return String(param) }
            let name = param[..<eq]
            let decoded = String(decoding: percentDecoded(Array(name.utf8)), as: UTF8.self)
            return decoded.lowercased() == "password" ? "\(name)=***" : String(param)
        }
        return String(rest[...q]) + params.joined(separator: "&")
    }

    private static func percentDecoded(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count,
               let hi = Digest.hexValue(bytes[i + 1]), let lo = Digest.hexValue(bytes[i + 2]) {
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }

    /// Whether `text` holds "password" in any case.
    private static func mentionsPassword(_ text: String) -> Bool {
        let needle = Array("password".utf8)
        let bytes = Array(text.utf8)
        guard bytes.count >= needle.count else { return false }
        for start in 0...(bytes.count - needle.count) where bytes[start] | 0x20 == needle[0] {
            if (1..<needle.count).allSatisfy({ bytes[start + $0] | 0x20 == needle[$0] }) { return true }
        }
        return false
    }
}

/// A result as the server answered it, cleared when the last row of it goes.
///
/// `@unchecked Sendable`: libpq never changes a `PGresult` once it is handed out, and documents
/// it as read-only, safe to read from any thread.
private final class PostgresResult: @unchecked Sendable {
    let handle: OpaquePointer
    /// What the statement was run for, for the errors of reading its values.
    let operation: String

    init(handle: OpaquePointer, operation: String) {
        self.handle = handle
        self.operation = operation
    }

    deinit { PQclear(handle) }
}

/// One row of a result. Reading a column that is not there, a NULL where a value is needed or
/// text that is not of the asked type throws a ``DatabaseError`` (``DatabaseError/Code/decoding``)
/// naming the operation and the column, so a surprise never reads as an empty id or a zero.
/// Columns count from 0.
package struct PostgresRow: Sendable {
    private let result: PostgresResult
    private let row: Int32

    fileprivate init(result: PostgresResult, row: Int32) {
        self.result = result
        self.row = row
    }

    package var columnCount: Int { Int(PQnfields(result.handle)) }

    /// The column's text, or nil for NULL: for columns that may be NULL.
    package func optionalString(_ column: Int) throws(DatabaseError) -> String? {
        try optionalBytes(column).map { String(decoding: $0, as: UTF8.self) }
    }

    package func string(_ column: Int) throws(DatabaseError) -> String {
        String(decoding: try bytes(column), as: UTF8.self)
    }

    package func int64(_ column: Int) throws(DatabaseError) -> Int64 {
        guard let value = Int64(try string(column)) else { throw failure(column, "is not a 64-bit integer") }
        return value
    }

    package func int(_ column: Int) throws(DatabaseError) -> Int {
        guard let value = Int(try string(column)) else { throw failure(column, "is not an integer") }
        return value
    }

    package func double(_ column: Int) throws(DatabaseError) -> Double {
        guard let value = Double(try string(column)) else { throw failure(column, "is not a number") }
        return value
    }

    /// A `boolean` in text format (`t` or `f`).
    package func bool(_ column: Int) throws(DatabaseError) -> Bool {
        switch try string(column) {
        case "t": return true
        case "f": return false
        default: throw failure(column, "is not a boolean")
        }
    }

    /// The column's text-format bytes in place, valid while the row's result is alive (inside
    /// ``PostgresConnection/forEachRow(_:operation:_:)``'s body, which holds it; keep the row alive
    /// with `withExtendedLifetime` to hold on to the bytes of one from ``PostgresConnection/rows(_:operation:)``).
    package func bytes(_ column: Int) throws(DatabaseError) -> UnsafeRawBufferPointer {
        guard let value = try optionalBytes(column) else { throw failure(column, "is NULL") }
        return value
    }

    /// As ``bytes(_:)``, nil for NULL.
    package func optionalBytes(_ column: Int) throws(DatabaseError) -> UnsafeRawBufferPointer? {
        guard column >= 0, column < columnCount else {
            throw DatabaseError(.decoding, operation: result.operation,
                                message: "the result has no column \(column) (it has \(columnCount))")
        }
        let c = Int32(column)
        if PQgetisnull(result.handle, row, c) == 1 { return nil }
        let length = Int(PQgetlength(result.handle, row, c))
        guard length > 0, let value = PQgetvalue(result.handle, row, c) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: UnsafeRawPointer(value), count: length)
    }

    /// An error about a column that is there: named by its position and name, never its value.
    private func failure(_ column: Int, _ problem: String) -> DatabaseError {
        let name = PQfname(result.handle, Int32(column)).map { String(cString: $0) } ?? "?"
        return DatabaseError(.decoding, operation: result.operation, message: "column \(column) (\(name)) \(problem)")
    }
}
