/// The one error type of `Pipeline`. `description` is safe to log: it names what we were doing
/// and where, never a password or the payload of an entry.
package struct WorkerError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case serviceUnavailable, usage, unsupported, cacheFormat, io, protocolError, locked
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// A server (Redis, PostgreSQL) could not be reached or refused us: exit 69.
        package static let serviceUnavailable = Code(.serviceUnavailable)
        /// A URL, path or option cannot be used as given: exit 64.
        package static let usage = Code(.usage)
        /// Something we know about and do not support yet (e.g. `rediss://`): exit 64.
        package static let unsupported = Code(.unsupported)
        /// The cache is not in cognee's format.
        package static let cacheFormat = Code(.cacheFormat)
        /// A file could not be read or written.
        package static let io = Code(.io)
        /// Another run holds a lock we need: exit 75 (try later).
        package static let locked = Code(.locked)
        /// A server answered something we did not expect.
        package static let protocolError = Code(.protocolError)
        package var description: String { base.rawValue }
    }

    package var code: Code
    package var operation: String
    package var message: String
    package var underlying: (any Error)?
    package var file: String
    package var line: Int

    package init(_ code: Code, operation: String, message: String, underlying: (any Error)? = nil,
                file: String = #fileID, line: Int = #line) {
        self.code = code
        self.operation = operation
        self.message = message
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    package var description: String { "\(operation): \(message)" }

    package var debugDescription: String {
        var text = "WorkerError(\(code), \(description), at \(file):\(line)"
        if let underlying { text += ", underlying: \(String(reflecting: underlying))" }
        return text + ")"
    }
}
