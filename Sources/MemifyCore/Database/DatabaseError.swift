/// The one error type of `GraphStore`, in the manner of postgres-nio's `PSQLError`.
///
/// `description` is safe to log: it never carries row values or connection secrets.
package struct DatabaseError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case sqliteOpen, sqlite, connectionFailed, invalidArgument, postgres, decoding
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// A SQLite database could not be opened.
        package static let sqliteOpen = Code(.sqliteOpen)
        /// A SQLite call failed.
        package static let sqlite = Code(.sqlite)
        /// A server could not be reached.
        package static let connectionFailed = Code(.connectionFailed)
        /// PostgreSQL refused a statement (see `sqlState`).
        package static let postgres = Code(.postgres)
        /// A caller passed something we cannot use.
        package static let invalidArgument = Code(.invalidArgument)
        /// A result is not what the statement promises: a column missing, NULL where a value is
        /// needed, text not of the type asked for, no row where one must be.
        package static let decoding = Code(.decoding)
        package var description: String { base.rawValue }
    }

    package var code: Code
    /// Our words for what we were doing.
    package var operation: String
    /// Safe to log.
    package var message: String
    package var sqlState: String?
    /// The connection was found lost at a transaction's `BEGIN`: nothing of the transaction
    /// reached the server, so it may be tried again on a new connection.
    package var transactionNotBegun = false
    package var underlying: (any Error)?
    package var file: String
    package var line: Int

    package init(_ code: Code, operation: String, message: String, sqlState: String? = nil,
                underlying: (any Error)? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.operation = operation
        self.message = message
        self.sqlState = sqlState
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    package var description: String {
        var text = "\(operation): \(message)"
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        return text
    }

    package var debugDescription: String {
        var text = "DatabaseError(\(code), \(description), at \(file):\(line)"
        if let underlying { text += ", underlying: \(String(reflecting: underlying))" }
        return text + ")"
    }
}
