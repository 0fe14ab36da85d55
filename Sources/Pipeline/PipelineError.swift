/// The one error type of `Pipeline`. `description` is safe to log: it names what we were doing
/// and where, never a password or the payload of an entry.
public struct PipelineError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case serviceUnavailable, usage, unsupported, cacheFormat, io, protocolError, locked
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// A server (Redis, PostgreSQL) could not be reached or refused us: exit 69.
        public static let serviceUnavailable = Code(.serviceUnavailable)
        /// A URL, path or option cannot be used as given: exit 64.
        public static let usage = Code(.usage)
        /// Something we know about and do not support yet (e.g. `rediss://`): exit 64.
        public static let unsupported = Code(.unsupported)
        /// The cache is not in cognee's format.
        public static let cacheFormat = Code(.cacheFormat)
        /// A file could not be read or written.
        public static let io = Code(.io)
        /// Another run holds a lock we need: exit 75 (try later).
        public static let locked = Code(.locked)
        /// A server answered something we did not expect.
        public static let protocolError = Code(.protocolError)
        public var description: String { base.rawValue }
    }

    public var code: Code
    public var operation: String
    public var message: String
    public var underlying: (any Error)?
    public var file: String
    public var line: Int

    public init(_ code: Code, operation: String, message: String, underlying: (any Error)? = nil,
                file: String = #fileID, line: Int = #line) {
        self.code = code
        self.operation = operation
        self.message = message
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    public var description: String { "\(operation): \(message)" }

    public var debugDescription: String {
        var text = "PipelineError(\(code), \(description), at \(file):\(line)"
        if let underlying { text += ", underlying: \(String(reflecting: underlying))" }
        return text + ")"
    }
}
