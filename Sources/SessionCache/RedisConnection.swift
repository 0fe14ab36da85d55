package import MemifyCore
import Synchronization
import Glibc

/// A reply from Redis (RESP2).
package enum RedisReply: Sendable, Equatable {
    case string([UInt8])
    case array([RedisReply])
    case integer(Int64)
    case null
    case status(String)
    case error(String)

    package var text: String? {
        switch self {
        case .string(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .status(let s): return s
        default: return nil
        }
    }
}

/// One blocking connection to Redis: TCP, TLS or a unix socket (``RedisTransport``), with our
/// own RESP2 writer and readers — a general one (``receiveCopies(_:)``) and the list fast path
/// (``receiveLists(_:into:)``) that parses `LRANGE` replies where they were read.
///
/// Every call blocks: run them on the connection's executor, never on the cooperative pool.
/// The state sits behind a `Mutex`, so the type is `Sendable` by construction.
package final class RedisConnection: Sendable {
    package let url: RedisURL
    private let wire: Mutex<Wire>

    /// The socket and the bytes on their way: commands formatted and not yet written, replies
    /// read and not yet parsed. Only touched under the connection's lock.
    private final class Wire {
        let transport: RedisTransport
        var outgoing: [UInt8] = []
        var inbound: [UInt8] = []
        var inboundStart = 0
        /// Set by an I/O or protocol error: the stream's position is lost, the connection unusable.
        var broken: WorkerError?

        init(_ transport: RedisTransport) { self.transport = transport }
    }

    /// Connects (within `timeoutSeconds`, the TLS handshake included), authenticates and
    /// selects the database. Reads and writes then time out after `max(timeoutSeconds, 60)`
    /// seconds: reads of large pipelines take a while, but a dead server must not hang us
    /// forever. Blocking.
    package init(url: RedisURL, timeoutSeconds: Int = 10) throws(WorkerError) {
        self.url = url
        let transport = try RedisTransport(url: url, connectTimeout: timeoutSeconds, ioTimeout: max(timeoutSeconds, 60))
        let isTLS = transport.isTLS
        wire = Mutex(Wire(transport))
        let where_ = "Redis at \(url.location)"
        do throws(WorkerError) {
            try handshake(where_, isTLS: isTLS)
        } catch where error.code == .serviceUnavailable && isTLS
                    && (error.message.contains("reset by peer") || error.message.contains("closed by the server")) {
            // Closed right after a handshake that succeeded: a server that requires client
            // certificates does that when it gets none (or one it does not trust) and its alert is lost.
            var hinted = error
            hinted.message += url.tls?.certFile == nil
                ? "; if the server requires client certificates (tls-auth-clients yes), give ssl_certfile=PATH and ssl_keyfile=PATH (CACHE_SSL_CERTFILE, CACHE_SSL_KEYFILE)"
                : "; the server may not trust the client certificate \(url.tls?.certFile ?? "")"
            throw hinted
        } catch where error.code == .serviceUnavailable && !isTLS && url.socketPath == nil
                    && (error.message.contains("reset by peer") || error.message.contains("closed by the server")) {
            var hinted = error
            hinted.message += " (if it is a TLS port, use rediss:// or CACHE_SSL=true)"
            throw hinted
        }
    }

    /// AUTH (or, under TLS, PING) and SELECT.
    private func handshake(_ where_: String, isTLS: Bool) throws(WorkerError) {
        if let password = url.password {
            var args: [[UInt8]] = [Array("AUTH".utf8)]
            if let user = url.username { args.append(Array(user.utf8)) }
            args.append(Array(password.utf8))
            if case .error(let message) = try command(args) {
                // Redis's own AUTH errors name no secret ("WRONGPASS invalid username-password pair").
                throw WorkerError(.serviceUnavailable, operation: "authenticate to \(where_)", message: message)
            }
        } else if isTLS {
            // Under TLS 1.3 a server that wants a client certificate says so after the handshake,
            // in an alert on the first read: a PING makes that a connect error, not a SCAN's.
            if case .error(let message) = try command(["PING"]) {
                throw Self.refusal(message, operation: "PING \(where_)")
            }
        }
        if url.database != 0 {
            if case .error(let message) = try command(["SELECT", String(url.database)]) {
                throw WorkerError(.serviceUnavailable, operation: "select database \(url.database) on \(where_)",
                                    message: message)
            }
        }
        // Named, so an operator's CLIENT LIST shows which connections are a worker's (and which
        // process's). An ACL that forbids it (NOPERM) is no reason to fail.
        _ = try command(["CLIENT", "SETNAME", "memify-worker-\(getpid())"])
    }

    /// An error reply as an error: `.serviceUnavailable` (exit 69) when the server refuses us
    /// as a whole — NOAUTH, WRONGPASS, LOADING (restarting), MASTERDOWN (a replica cut off) —
    /// else `.protocolError`.
    static func refusal(_ message: String, operation: String) -> WorkerError {
        let word = message.prefix { $0 != " " }
        switch word {
        case "NOAUTH", "WRONGPASS":
            return WorkerError(.serviceUnavailable, operation: operation,
                                 message: "\(message) (give user:password@ in the URL, or CACHE_USERNAME and CACHE_PASSWORD)")
        case "LOADING", "MASTERDOWN", "NOPERM":
            return WorkerError(.serviceUnavailable, operation: operation, message: message)
        default:
            return WorkerError(.protocolError, operation: operation, message: message)
        }
    }

    /// Whether an error reply refuses the whole connection rather than one command's key.
    static func refusesConnection(_ message: String) -> Bool {
        refusal(message, operation: "").code == .serviceUnavailable
    }

    package func command(_ args: [String]) throws(WorkerError) -> RedisReply {
        try command(args.map { Array($0.utf8) })
    }

    package func command(_ args: [[UInt8]]) throws(WorkerError) -> RedisReply {
        try pipeline([args])[0]
    }

    /// Sends every command, then reads every reply: one round trip for the lot.
    package func pipeline(_ commands: [[[UInt8]]]) throws(WorkerError) -> [RedisReply] {
        try send(commands)
        return try receiveCopies(commands.count)
    }

    /// Queues commands without waiting for their replies: they are written out at the next
    /// receive (or ``sendNow(_:)``). With one batch sent ahead of the one being read, the
    /// server works on the next batch while this side parses the current one.
    func send(_ commands: [[[UInt8]]]) throws(WorkerError) {
        try withWire { wire throws(WorkerError) in
            for args in commands {
                wire.outgoing.append(UInt8(ascii: "*"))
                Self.appendDecimal(args.count, to: &wire.outgoing)
                for arg in args {
                    wire.outgoing.append(contentsOf: "\r\n$".utf8)
                    Self.appendDecimal(arg.count, to: &wire.outgoing)
                    wire.outgoing.append(contentsOf: "\r\n".utf8)
                    wire.outgoing.append(contentsOf: arg)
                }
                wire.outgoing.append(contentsOf: "\r\n".utf8)
            }
        }
    }

    /// Queues `LRANGE key 0 -1` for every key, like ``send(_:)``.
    package func sendLRANGEs(_ keys: some Collection<[UInt8]>) throws(WorkerError) {
        try withWire { wire throws(WorkerError) in
            wire.outgoing.reserveCapacity(wire.outgoing.count + keys.reduce(0) { $0 + $1.count + 40 })
            for key in keys {
                wire.outgoing.append(contentsOf: "*4\r\n$6\r\nLRANGE\r\n$".utf8)
                Self.appendDecimal(key.count, to: &wire.outgoing)
                wire.outgoing.append(contentsOf: "\r\n".utf8)
                wire.outgoing.append(contentsOf: key)
                wire.outgoing.append(contentsOf: "\r\n$1\r\n0\r\n$2\r\n-1\r\n".utf8)
            }
        }
    }

    /// Sends every command now and returns without waiting: the replies are read later, and
    /// meanwhile the server works.
    func sendNow(_ commands: [[[UInt8]]]) throws(WorkerError) {
        try send(commands)
        try withWire { wire throws(WorkerError) in try Self.flush(wire) }
    }

    /// Reads the replies of the next `count` commands sent (each an `LRANGE`: a flat list of
    /// bulk strings, or an error) into `arena`, parsing RESP there: the elements stay where
    /// they were read, with no reply object and no copy per element. Bytes read past the last
    /// reply (the start of the next batch's) are kept for the next read, of either kind.
    package func receiveLists(_ count: Int, into arena: ReplyArena) throws(WorkerError) -> [ArenaReply] {
        try withWire { wire throws(WorkerError) -> [ArenaReply] in
            try Self.flush(wire)
            if wire.inboundStart < wire.inbound.count {
                arena.adopt(carried: Array(wire.inbound[wire.inboundStart...]))
            }
            wire.inbound.removeAll(keepingCapacity: true)
            wire.inboundStart = 0
            var parser = RESPListParser()
            var replies: [ArenaReply] = []
            replies.reserveCapacity(count)
            while replies.count < count {
                switch parser.next(in: arena) {
                case .reply(let index):
                    replies.append(ArenaReply(arena: arena, index: index))
                case .needMore:
                    try arena.read(from: wire.transport)
                case .malformed(let why):
                    throw WorkerError(.protocolError, operation: "read replies from \(wire.transport.peer)", message: why)
                }
            }
            wire.inbound = arena.takeUnparsed(from: parser.position)
            return replies
        }
    }

    /// Reads the replies of the next `count` commands sent.
    func receiveCopies(_ count: Int) throws(WorkerError) -> [RedisReply] {
        try withWire { wire throws(WorkerError) -> [RedisReply] in
            try Self.flush(wire)
            var replies: [RedisReply] = []
            replies.reserveCapacity(count)
            var needed = 0  // bytes the next reply needs at least (from inboundStart)
            var scratch: UnsafeMutableRawPointer?
            defer { free(scratch) }
            while replies.count < count {
                if wire.inbound.count - wire.inboundStart >= needed {
                    let step = wire.inbound.withUnsafeBytes { RESPReplyParser.parse($0, at: wire.inboundStart) }
                    switch step {
                    case .reply(let reply, let end):
                        replies.append(reply)
                        wire.inboundStart = end
                        needed = 0
                        continue
                    case .needMore(let atLeast):
                        needed = atLeast - wire.inboundStart
                    case .malformed(let why):
                        throw WorkerError(.protocolError, operation: "read replies from \(wire.transport.peer)", message: why)
                    }
                }
                // Read more (the parsed prefix dropped first, when it is most of the buffer).
                if wire.inboundStart > 0 && wire.inboundStart * 2 >= wire.inbound.count {
                    wire.inbound.removeFirst(wire.inboundStart)
                    wire.inboundStart = 0
                }
                let chunk = 64 * 1024
                if scratch == nil { scratch = malloc(chunk) }
                let n = try wire.transport.read(into: scratch!, capacity: chunk)
                wire.inbound.append(contentsOf: UnsafeRawBufferPointer(start: scratch, count: n))
            }
            if wire.inboundStart == wire.inbound.count {
                wire.inbound.removeAll(keepingCapacity: wire.inbound.capacity <= 1 << 20)
                wire.inboundStart = 0
            }
            return replies
        }
    }

    /// Runs `body` with the connection's wire, locked; an error thrown from it breaks the
    /// connection (what was read or written of a reply or a command is unknown).
    private func withWire<T: Sendable>(_ body: (Wire) throws(WorkerError) -> T) throws(WorkerError) -> T {
        try wire.withLock { (wire: inout Wire) throws(WorkerError) -> T in
            if let broken = wire.broken {
                throw WorkerError(.serviceUnavailable, operation: "use \(wire.transport.peer)",
                                    message: "the connection failed earlier (\(broken.message))")
            }
            do throws(WorkerError) {
                return try body(wire)
            } catch {
                wire.broken = error
                throw error
            }
        }
    }

    private static func flush(_ wire: Wire) throws(WorkerError) {
        guard !wire.outgoing.isEmpty else { return }
        // withUnsafeBytes rethrows untyped: the typed error travels in a Result.
        try wire.outgoing.withUnsafeBytes { bytes in
            Result { () throws(WorkerError) in try wire.transport.write(bytes) }
        }.get()
        wire.outgoing.removeAll(keepingCapacity: wire.outgoing.capacity <= 1 << 20)
    }

    private static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: String(value).utf8)  // a small string: no allocation
    }
}

/// Parses one RESP2 reply of any type from a buffer. Not resumable: when the bytes run out it
/// says how many it needs at least (exactly, for a bulk string), and the caller parses again
/// from the reply's start once they are there.
enum RESPReplyParser {
    enum Step {
        case reply(RedisReply, end: Int)
        /// The buffer must hold at least this many bytes (from its start) before a retry.
        case needMore(Int)
        case malformed(String)
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, at start: Int, depth: Int = 0) -> Step {
        guard depth < 64 else { return .malformed("replies nested too deep") }
        guard start < bytes.count else { return .needMore(start + 1) }
        guard let (line, after) = line(bytes, from: start + 1) else { return .needMore(bytes.count + 1) }
        switch bytes[start] {
        case UInt8(ascii: "+"):
            return .reply(.status(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[line]), as: UTF8.self)), end: after)
        case UInt8(ascii: "-"):
            return .reply(.error(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[line]), as: UTF8.self)), end: after)
        case UInt8(ascii: ":"):
            guard let value = integer(bytes, line) else { return .malformed("bad integer reply") }
            return .reply(.integer(value), end: after)
        case UInt8(ascii: "$"):
            guard let length = integer(bytes, line), length >= -1 else { return .malformed("bad bulk string length") }
            if length == -1 { return .reply(.null, end: after) }
            let end = after + Int(length) + 2
            guard end <= bytes.count else { return .needMore(end) }
            guard bytes[end - 2] == 0x0D, bytes[end - 1] == 0x0A else { return .malformed("bulk string not followed by CRLF") }
            return .reply(.string(Array(bytes[after..<(end - 2)])), end: end)
        case UInt8(ascii: "*"):
            guard let count = integer(bytes, line), count >= -1 else { return .malformed("bad array length") }
            if count == -1 { return .reply(.null, end: after) }
            var items: [RedisReply] = []
            items.reserveCapacity(Int(min(count, 1 << 16)))
            var position = after
            for _ in 0..<count {
                switch parse(bytes, at: position, depth: depth + 1) {
                case .reply(let item, let end):
                    items.append(item)
                    position = end
                case let other:
                    return other
                }
            }
            return .reply(.array(items), end: position)
        case let type:
            return .malformed("unexpected reply type '\(Unicode.Scalar(type))'")
        }
    }

    /// The line from `start` up to CRLF, and where the next begins.
    private static func line(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (Range<Int>, Int)? {
        guard start < bytes.count, let base = bytes.baseAddress,
              let cr = memchr(base + start, 0x0D, bytes.count - start) else { return nil }
        let end = UnsafeRawPointer(cr) - base
        guard end + 1 < bytes.count else { return nil }
        // A CR not followed by LF leaves a line the caller's checks refuse.
        return bytes[end + 1] == 0x0A ? (start..<end, end + 2) : (start..<(end + 1), end + 2)
    }

    private static func integer(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int64? {
        var i = range.lowerBound
        var negative = false
        if i < range.upperBound, bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        guard i < range.upperBound, range.upperBound - i <= 18 else { return nil }
        var value: Int64 = 0
        while i < range.upperBound {
            let digit = Int64(bytes[i]) - 48
            guard (0...9).contains(digit) else { return nil }
            value = value * 10 + digit
            i += 1
        }
        return negative ? -value : value
    }
}

struct RedisReplyError: Error, Sendable {
    var message: String
}
