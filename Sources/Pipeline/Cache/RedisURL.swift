/// A parsed `redis://[user[:password]@]host[:port][/db]` URL.
///
/// `description` never shows the password.
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var database: Int
    public var username: String?
    public var password: String?

    public init(host: String = "127.0.0.1", port: Int = 6379, database: Int = 0,
                username: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
    }

    public init(parsing text: String) throws(PipelineError) {
        let operation = "parse Redis URL"
        if text.hasPrefix("rediss://") {
            throw PipelineError(
                .unsupported, operation: operation,
                message: "TLS (rediss://) is not supported yet; reach Redis over loopback or a TLS tunnel (stunnel, spiped) and use redis://")
        }
        guard text.hasPrefix("redis://") else {
            throw PipelineError(.usage, operation: operation,
                                message: "expected redis://[user:password@]host:port[/db]")
        }
        var rest = Substring(text.dropFirst("redis://".count))
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                username = Self.percentDecoded(credentials[..<colon])
                password = Self.percentDecoded(credentials[credentials.index(after: colon)...])
            } else {
                // redis://secret@host: a lone credential is a password, as redis-py reads it.
                password = Self.percentDecoded(credentials)
            }
            if username?.isEmpty == true { username = nil }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let db = Int(path), db >= 0 else {
                    throw PipelineError(.usage, operation: operation,
                                        message: "database '\(path)' is not a non-negative integer")
                }
                database = db
            }
        }
        var host = String(rest)
        var port = 6379
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {  // [::1]:6379
            let after = host[host.index(after: close)...]
            let inner = String(host[host.index(after: host.startIndex)..<close])
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()) else {
                    throw PipelineError(.usage, operation: operation, message: "port is not a number")
                }
                port = p
            }
            host = inner
        } else if let colon = host.lastIndex(of: ":") {
            guard let p = Int(host[host.index(after: colon)...]) else {
                throw PipelineError(.usage, operation: operation, message: "port is not a number")
            }
            port = p
            host = String(host[..<colon])
        }
        guard (1...65535).contains(port) else {
            throw PipelineError(.usage, operation: operation, message: "port \(port) is out of range")
        }
        if host.isEmpty { host = "127.0.0.1" }
        self.init(host: host, port: port, database: database, username: username, password: password)
    }

    private static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let h = iterator.next(), let l = iterator.next(),
               let value = UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `redis://host:port/db`, with any credentials masked.
    public var description: String {
        let auth = (username != nil || password != nil) ? "\(username ?? "")\(password != nil ? ":***" : "")@" : ""
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "redis://\(auth)\(shownHost):\(port)/\(database)"
    }
}
