package import MemifyCore
/// Where a Redis is and how to talk to it, parsed from a URL as redis-py's `from_url` reads one:
///
///     redis://[[user]:password@]host[:port][/db][?db=N]
///     rediss://[[user]:password@]host[:port][/db][?ssl_cert_reqs=…&ssl_ca_certs=PATH&ssl_certfile=PATH&ssl_keyfile=PATH]
///     unix://[[user]:password@]/path/to/redis.sock[?db=N]        (also spelled redis+unix://)
///
/// `description` never shows the password.
package struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    package var host: String
    package var port: Int
    package var database: Int
    package var username: String?
    package var password: String?
    /// A unix-domain socket to connect to instead of `host:port`.
    package var socketPath: String?
    /// TLS (`rediss://`, or cognee's `CACHE_SSL=true`); nil for plain TCP or a unix socket.
    package var tls: RedisTLSOptions?

    package init(host: String = "127.0.0.1", port: Int = 6379, database: Int = 0,
                username: String? = nil, password: String? = nil,
                socketPath: String? = nil, tls: RedisTLSOptions? = nil) {
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
        self.socketPath = socketPath
        self.tls = tls
    }

    /// The URL's query parameters we read (redis-py's names); any other is refused, so a
    /// misspelled `ssl_ca_certs` cannot silently turn into a connection without it.
    static let queryParameters = ["db", "ssl_cert_reqs", "ssl_ca_certs", "ssl_ca_path", "ssl_certfile",
                                  "ssl_keyfile", "ssl_check_hostname"]

    package init(parsing text: String) throws(WorkerError) {
        let operation = "parse Redis URL"
        let forms = "expected redis://[user:password@]host:port[/db], rediss://… (TLS) or unix:///path/to/redis.sock[?db=N]"
        let parts = text.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw WorkerError(.usage, operation: operation, message: forms) }
        let scheme = parts[0].lowercased()
        guard ["redis", "rediss", "unix", "redis+unix"].contains(scheme) else {
            throw WorkerError(.usage, operation: operation, message: forms)
        }
        var rest = parts[1]
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
        var query: [String: String] = [:]
        if let question = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: question)...].split(separator: "&") where !pair.isEmpty {
                let name = String(pair.prefix { $0 != "=" })
                let value = Self.percentDecoded(pair.drop { $0 != "=" }.dropFirst())
                guard Self.queryParameters.contains(name) else {
                    throw WorkerError(.usage, operation: operation,
                                        message: "unknown parameter '\(name)'; known: \(Self.queryParameters.joined(separator: ", "))")
                }
                query[name] = value
            }
            rest = rest[..<question]
        }
        var database = 0
        var host = "127.0.0.1"
        var port = 6379
        var socketPath: String?
        if scheme == "unix" || scheme == "redis+unix" {
            let path = Self.percentDecoded(rest)
            guard path.hasPrefix("/") else {
                throw WorkerError(.usage, operation: operation, message: "expected unix:///absolute/path/to/redis.sock[?db=N]")
            }
            socketPath = path
        } else {
            if let slash = rest.firstIndex(of: "/") {
                let path = rest[rest.index(after: slash)...]
                rest = rest[..<slash]
                if !path.isEmpty { database = try Self.database(path, operation) }
            }
            host = String(rest)
            if host.hasPrefix("["), let close = host.firstIndex(of: "]") {  // [::1]:6379
                let after = host[host.index(after: close)...]
                let inner = String(host[host.index(after: host.startIndex)..<close])
                if after.hasPrefix(":") {
                    guard let p = Int(after.dropFirst()) else {
                        throw WorkerError(.usage, operation: operation, message: "port is not a number")
                    }
                    port = p
                }
                host = inner
            } else if let colon = host.lastIndex(of: ":") {
                guard let p = Int(host[host.index(after: colon)...]) else {
                    throw WorkerError(.usage, operation: operation, message: "port is not a number")
                }
                port = p
                host = String(host[..<colon])
            }
            guard (1...65535).contains(port) else {
                throw WorkerError(.usage, operation: operation, message: "port \(port) is out of range")
            }
            if host.isEmpty { host = "127.0.0.1" }
        }
        // As redis-py: ?db= wins over the path's database.
        if let db = query["db"] { database = try Self.database(Substring(db), operation) }

        var tls: RedisTLSOptions?
        let sslParameters = query.keys.filter { $0.hasPrefix("ssl_") }.sorted()
        if scheme == "rediss" {
            var options = RedisTLSOptions()
            if let reqs = query["ssl_cert_reqs"] { options.certReqs = try .init(parsing: reqs, from: "ssl_cert_reqs") }
            if let check = query["ssl_check_hostname"] {
                // redis-py's to_bool: 0, F, FALSE, N, NO (any case) are false; anything else true.
                options.checkHostname = !["0", "F", "FALSE", "N", "NO"].contains(check.uppercased())
            }
            options.caFile = query["ssl_ca_certs"].flatMap { $0.isEmpty ? nil : $0 }
            options.caPath = query["ssl_ca_path"].flatMap { $0.isEmpty ? nil : $0 }
            options.certFile = query["ssl_certfile"].flatMap { $0.isEmpty ? nil : $0 }
            options.keyFile = query["ssl_keyfile"].flatMap { $0.isEmpty ? nil : $0 }
            try options.validate()
            tls = options
        } else if let first = sslParameters.first {
            throw WorkerError(.usage, operation: operation, message: "\(first) needs a rediss:// URL (TLS)")
        }
        self.init(host: host, port: port, database: database, username: username, password: password,
                  socketPath: socketPath, tls: tls)
    }

    /// cognee's own settings (spec §1): `CACHE_HOST`, `CACHE_PORT`, `CACHE_USERNAME`,
    /// `CACHE_PASSWORD`, `CACHE_SSL`, `CACHE_SSL_CERT_REQS`, always database 0; and, named as
    /// redis-py names its arguments (cognee 1.6.5 has no setting for them),
    /// `CACHE_SSL_CA_CERTS`, `CACHE_SSL_CERTFILE`, `CACHE_SSL_KEYFILE` and
    /// `CACHE_SSL_CHECK_HOSTNAME` (default true, as redis-py ≥ 6; the redis-py 5 that cognee's
    /// `redis` extra pins does not check the name: set it false to connect as such a cognee does).
    package init(cogneeEnvironment environment: [String: String]) throws(WorkerError) {
        let portText = environment["CACHE_PORT"] ?? ""
        guard let port = portText.isEmpty ? 6379 : Int(portText), (1...65535).contains(port) else {
            throw WorkerError(.usage, operation: "read CACHE_PORT", message: "'\(portText)' is not a port number")
        }
        self.init(host: environment["CACHE_HOST"] ?? "localhost", port: port, database: 0,
                  username: environment["CACHE_USERNAME"].flatMap { $0.isEmpty ? nil : $0 },
                  password: environment["CACHE_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 })
        guard try Self.pydanticBool(environment["CACHE_SSL"], name: "CACHE_SSL") else { return }
        var options = RedisTLSOptions()
        if let reqs = environment["CACHE_SSL_CERT_REQS"], !reqs.isEmpty {
            options.certReqs = try .init(parsing: reqs, from: "CACHE_SSL_CERT_REQS")
        }
        options.caFile = environment["CACHE_SSL_CA_CERTS"].flatMap { $0.isEmpty ? nil : $0 }
        options.certFile = environment["CACHE_SSL_CERTFILE"].flatMap { $0.isEmpty ? nil : $0 }
        options.keyFile = environment["CACHE_SSL_KEYFILE"].flatMap { $0.isEmpty ? nil : $0 }
        if let check = environment["CACHE_SSL_CHECK_HOSTNAME"], !check.isEmpty {
            options.checkHostname = try Self.pydanticBool(check, name: "CACHE_SSL_CHECK_HOSTNAME")
        }
        try options.validate()
        tls = options
    }

    /// A boolean as pydantic reads one from the environment (unset: false).
    static func pydanticBool(_ value: String?, name: String) throws(WorkerError) -> Bool {
        guard let value, !value.isEmpty else { return false }
        switch value.lowercased() {
        case "1", "on", "t", "true", "y", "yes": return true
        case "0", "off", "f", "false", "n", "no": return false
        default:
            throw WorkerError(.usage, operation: "read \(name)", message: "'\(value)' is not a boolean (true or false)")
        }
    }

    private static func database(_ text: Substring, _ operation: String) throws(WorkerError) -> Int {
        guard let db = Int(text), db >= 0 else {
            throw WorkerError(.usage, operation: operation, message: "database '\(text)' is not a non-negative integer")
        }
        return db
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

    /// Where the server is, for messages: `host:port`, or the socket's path.
    package var location: String {
        if let socketPath { return socketPath }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// `redis://host:port/db`, `rediss://…` or `unix:///path?db=N`, with any credentials masked.
    package var description: String {
        let auth = (username != nil || password != nil) ? "\(username ?? "")\(password != nil ? ":***" : "")@" : ""
        if let socketPath { return "unix://\(auth)\(socketPath)?db=\(database)" }
        return "\(tls == nil ? "redis" : "rediss")://\(auth)\(location)/\(database)"
    }
}

/// How a TLS connection checks the server and presents itself, with redis-py's meanings
/// (`SSLConnection`, which hands them to Python's `ssl` module).
package struct RedisTLSOptions: Sendable, Equatable {
    /// `ssl_cert_reqs` / `CACHE_SSL_CERT_REQS`. A server always presents a certificate, so, as
    /// in Python's `ssl` on the client side, `optional` verifies exactly as `required` does:
    /// the chain against the CA file (and the system's CAs), and the server's name. `none`
    /// verifies nothing (the connection is encrypted, but anyone can be at the other end).
    package enum CertificateRequirement: String, Sendable, Equatable {
        case required, optional, none

        init(parsing text: String, from name: String) throws(WorkerError) {
            guard let value = Self(rawValue: text.lowercased()) else {
                throw WorkerError(.usage, operation: "read \(name)", message: "'\(text)' is not one of required, optional, none")
            }
            self = value
        }

        package var verifies: Bool { self != .none }
    }

    package var certReqs: CertificateRequirement = .required
    /// Whether the server's certificate must name the host connected to (DNS name or IP address
    /// in its subjectAltName): redis-py 6's default, `ssl_check_hostname=false` turns it off.
    /// Never checked with `none`.
    package var checkHostname = true
    /// CA certificates (PEM) trusted besides the system's: `ssl_ca_certs` / `CACHE_SSL_CA_CERTS`.
    package var caFile: String?
    /// A directory of hashed CA certificates: `ssl_ca_path`.
    package var caPath: String?
    /// The client certificate chain (PEM), for servers that ask for one (`tls-auth-clients`).
    package var certFile: String?
    /// The client key (PEM, unencrypted); without it the key is read from `certFile`.
    package var keyFile: String?

    package init(certReqs: CertificateRequirement = .required, checkHostname: Bool = true, caFile: String? = nil,
                caPath: String? = nil, certFile: String? = nil, keyFile: String? = nil) {
        self.certReqs = certReqs
        self.checkHostname = checkHostname
        self.caFile = caFile
        self.caPath = caPath
        self.certFile = certFile
        self.keyFile = keyFile
    }

    func validate() throws(WorkerError) {
        if keyFile != nil && certFile == nil {
            throw WorkerError(.usage, operation: "configure Redis TLS",
                                message: "a client key (ssl_keyfile, CACHE_SSL_KEYFILE) needs its certificate (ssl_certfile, CACHE_SSL_CERTFILE)")
        }
    }
}
