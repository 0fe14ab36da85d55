/// The one error type of `GraphStore`, in the manner of postgres-nio's `PSQLError`.
///
/// `description` is safe to log: it never carries row values or connection secrets.
public struct GraphStoreError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case sqliteOpen, sqlite, connectionFailed, invalidArgument, postgres
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// A SQLite database could not be opened.
        public static let sqliteOpen = Code(.sqliteOpen)
        /// A SQLite call failed.
        public static let sqlite = Code(.sqlite)
        /// A server could not be reached.
        public static let connectionFailed = Code(.connectionFailed)
        /// PostgreSQL refused a statement (see `sqlState`).
        public static let postgres = Code(.postgres)
        /// A caller passed something we cannot use.
        public static let invalidArgument = Code(.invalidArgument)
        public var description: String { base.rawValue }
    }

    public var code: Code
    /// Our words for what we were doing.
    public var operation: String
    /// Safe to log.
    public var message: String
    public var sqlState: String?
    /// The connection was found lost at a transaction's `BEGIN`: nothing of the transaction
    /// reached the server, so it may be tried again on a new connection.
    public var transactionNotBegun = false
    public var underlying: (any Error)?
    public var file: String
    public var line: Int

    public init(_ code: Code, operation: String, message: String, sqlState: String? = nil,
                underlying: (any Error)? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.operation = operation
        self.message = message
        self.sqlState = sqlState
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    public var description: String {
        var text = "\(operation): \(message)"
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        return text
    }

    public var debugDescription: String {
        var text = "GraphStoreError(\(code), \(description), at \(file):\(line)"
        if let underlying { text += ", underlying: \(String(reflecting: underlying))" }
        return text + ")"
    }
}
