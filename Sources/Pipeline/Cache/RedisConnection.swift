internal import CHiredis
import Synchronization
import Glibc

/// A reply from Redis, copied out of hiredis's reply tree.
public enum RedisReply: Sendable, Equatable {
    case string([UInt8])
    case array([RedisReply])
    case integer(Int64)
    case null
    case status(String)
    case error(String)

    public var text: String? {
        switch self {
        case .string(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .status(let s): return s
        default: return nil
        }
    }
}

/// One blocking hiredis connection.
///
/// Every call blocks: run them on the connection's ``executor``, never on the cooperative pool.
/// The context sits behind a `Mutex`, so the type is `Sendable` by construction.
public final class RedisConnection: Sendable {
    public let url: RedisURL
    private let context: Mutex<OpaquePointer?>
    /// Bytes read by ``receiveLists(_:into:)`` past its last reply.
    private let carry = Mutex<[UInt8]>([])

    /// Connects, authenticates and selects the database. Blocking.
    public init(url: RedisURL, timeoutSeconds: Int = 10) throws(PipelineError) {
        self.url = url
        let where_ = "Redis at \(url.host):\(url.port)"
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        guard let raw = redisConnectWithTimeout(url.host, Int32(url.port), tv) else {
            throw PipelineError(.serviceUnavailable, operation: "connect to \(where_)", message: "out of memory")
        }
        let ctx = OpaquePointer(raw)
        if chiredis_err(raw) != 0 {
            let message = String(cString: chiredis_errstr(raw))
            redisFree(raw)
            throw PipelineError(.serviceUnavailable, operation: "connect to \(where_)", message: message)
        }
        // Reads of large pipelines can take a while; a dead server must not hang us forever.
        tv.tv_sec = max(timeoutSeconds, 60)
        redisSetTimeout(raw, tv)
        _ = redisEnableKeepAlive(raw)
        context = Mutex(ctx)

        if let password = url.password {
            var args: [[UInt8]] = [Array("AUTH".utf8)]
            if let user = url.username { args.append(Array(user.utf8)) }
            args.append(Array(password.utf8))
            if case .error(let message) = try command(args) {
                // Redis's own AUTH errors name no secret ("WRONGPASS invalid username-password pair").
                throw PipelineError(.serviceUnavailable, operation: "authenticate to \(where_)", message: message)
            }
        }
        if url.database != 0 {
            if case .error(let message) = try command(["SELECT", String(url.database)]) {
                throw PipelineError(.serviceUnavailable, operation: "select database \(url.database) on \(where_)",
                                    message: message)
            }
        }
    }

    deinit {
        context.withLock { ctx in
            if let ctx { redisFree(UnsafeMutablePointer<redisContext>(ctx)) }
            ctx = nil
        }
    }

    public func command(_ args: [String]) throws(PipelineError) -> RedisReply {
        try command(args.map { Array($0.utf8) })
    }

    public func command(_ args: [[UInt8]]) throws(PipelineError) -> RedisReply {
        try pipeline([args])[0]
    }

    /// Sends every command, then reads every reply: one round trip for the lot.
    public func pipeline(_ commands: [[[UInt8]]]) throws(PipelineError) -> [RedisReply] {
        try send(commands)
        return try receiveCopies(commands.count)
    }

    /// Queues commands without waiting for their replies: hiredis writes them out at the next
    /// ``receive(_:)`` that has to wait for the server. With one batch sent ahead of the one
    /// being read, the server works on the next batch while this side parses the current one.
    func send(_ commands: [[[UInt8]]]) throws(PipelineError) {
        try withContext { (c, location) throws(PipelineError) in
            for args in commands where Self.append(c, args) != CHIREDIS_OK {
                throw Self.ioError(c, location)
            }
        }
    }

    /// Queues `LRANGE key 0 -1` for every key, like ``send(_:)``, formatted here into one
    /// buffer handed to hiredis in one call (no argument arrays per command).
    func sendLRANGEs(_ keys: some Collection<[UInt8]>) throws(PipelineError) {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(keys.reduce(0) { $0 + $1.count + 40 })
        for key in keys {
            buffer.append(contentsOf: "*4\r\n$6\r\nLRANGE\r\n$".utf8)
            buffer.append(contentsOf: String(key.count).utf8)  // a small string: no allocation
            buffer.append(contentsOf: "\r\n".utf8)
            buffer.append(contentsOf: key)
            buffer.append(contentsOf: "\r\n$1\r\n0\r\n$2\r\n-1\r\n".utf8)
        }
        guard !buffer.isEmpty else { return }
        try withContext { (c, location) throws(PipelineError) in
            let status = buffer.withUnsafeBufferPointer { bytes in
                UnsafeRawPointer(bytes.baseAddress!).withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    chiredis_append_formatted(c, $0, bytes.count)
                }
            }
            if status != CHIREDIS_OK { throw Self.ioError(c, location) }
        }
    }

    /// Sends every command now (``send(_:)``, then written out) and returns without waiting:
    /// the replies are read later with ``receive(_:)``, and meanwhile the server works.
    func sendNow(_ commands: [[[UInt8]]]) throws(PipelineError) {
        try send(commands)
        try withContext { (c, location) throws(PipelineError) in
            if chiredis_flush(c) != CHIREDIS_OK { throw Self.ioError(c, location) }
        }
    }

    /// Reads the replies of the next `count` commands sent (each an `LRANGE`: a flat list of
    /// bulk strings, or an error) straight from the socket into `arena`, parsing RESP here:
    /// the elements stay where they were read, with no reply object and no copy per element.
    /// Bytes read past the last reply (the start of the next batch's) are carried over.
    ///
    /// Once used, the connection's replies must all be read this way: hiredis's own reader
    /// never sees them.
    func receiveLists(_ count: Int, into arena: ReplyArena) throws(PipelineError) -> [ArenaReply] {
        return try withContext { (c, location) throws(PipelineError) -> [ArenaReply] in
            // Replies hiredis already buffered would be skipped by reading the socket directly.
            guard chiredis_buffered(c) == 0 else {
                throw PipelineError(.protocolError, operation: "read replies from Redis at \(location)",
                                    message: "hiredis holds unread replies on a connection read directly (a bug: one connection, one reader)")
            }
            if chiredis_flush(c) != CHIREDIS_OK { throw Self.ioError(c, location) }
            let fd = chiredis_fd(c)
            carry.withLock { bytes in
                arena.adopt(carried: bytes)
                bytes = []
            }
            var parser = RESPListParser()
            var replies: [ArenaReply] = []
            replies.reserveCapacity(count)
            while replies.count < count {
                switch parser.next(in: arena) {
                case .reply(let index):
                    replies.append(ArenaReply(arena: arena, index: index))
                case .needMore:
                    try arena.read(from: fd, operation: "read replies from Redis at \(location)")
                case .malformed(let why):
                    throw PipelineError(.protocolError, operation: "read replies from Redis at \(location)", message: why)
                }
            }
            carry.withLock { $0 = arena.takeUnparsed(from: parser.position) }
            return replies
        }
    }

    /// Reads the replies of the next `count` commands sent, copied out of hiredis's.
    func receiveCopies(_ count: Int) throws(PipelineError) -> [RedisReply] {
        try receive(count).map { Self.copy($0.reply) }
    }

    /// Reads the replies of the next `count` commands sent.
    func receive(_ count: Int) throws(PipelineError) -> [OwnedReply] {
        return try withContext { (c, location) throws(PipelineError) -> [OwnedReply] in
            // Bytes read directly past the last list reply would be lost to hiredis's reader.
            guard carry.withLock({ $0.isEmpty }) else {
                throw PipelineError(.protocolError, operation: "read replies from Redis at \(location)",
                                    message: "replies read directly are pending on this connection (a bug: one connection, one reader)")
            }
            var replies: [OwnedReply] = []
            replies.reserveCapacity(count)
            for _ in 0..<count {
                var reply: UnsafeMutablePointer<redisReply>?
                guard chiredis_get_reply(c, &reply) == CHIREDIS_OK, let reply else {
                    throw Self.ioError(c, location)
                }
                replies.append(OwnedReply(reply))
            }
            return replies
        }
    }

    /// Runs `body` with the open hiredis context (locked) and the server's `host:port` for
    /// messages; a closed connection is an error.
    private func withContext<T: Sendable>(
        _ body: (UnsafeMutablePointer<redisContext>, String) throws(PipelineError) -> T
    ) throws(PipelineError) -> T {
        let location = "\(url.host):\(url.port)"
        return try context.withLock { (ctx: inout OpaquePointer?) throws(PipelineError) -> T in
            guard let ctx else {
                throw PipelineError(.serviceUnavailable, operation: "use Redis at \(location)", message: "connection closed")
            }
            return try body(UnsafeMutablePointer<redisContext>(ctx), location)
        }
    }

    private static func append(_ c: UnsafeMutablePointer<redisContext>, _ args: [[UInt8]]) -> Int32 {
        // One contiguous buffer holds every argument, so each pointer stays valid for the call.
        var flat: [UInt8] = []
        flat.reserveCapacity(args.reduce(1) { $0 + $1.count })
        var offsets: [Int] = []
        offsets.reserveCapacity(args.count)
        for arg in args {
            offsets.append(flat.count)
            flat.append(contentsOf: arg)
        }
        flat.append(0)  // never empty, so baseAddress is never nil
        let lengths = args.map(\.count)
        return flat.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!)
            var argv: [UnsafePointer<CChar>?] = offsets.map { (base + $0).assumingMemoryBound(to: CChar.self) }
            return argv.withUnsafeMutableBufferPointer { av in
                lengths.withUnsafeBufferPointer { al in
                    chiredis_append_argv(c, Int32(args.count), av.baseAddress, al.baseAddress)
                }
            }
        }
    }

    private static func ioError(_ c: UnsafeMutablePointer<redisContext>, _ location: String) -> PipelineError {
        let detail = chiredis_err(c) != 0 ? String(cString: chiredis_errstr(c)) : "no reply"
        return PipelineError(.serviceUnavailable, operation: "talk to Redis at \(location)", message: detail)
    }

    static func copy(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let r = reply.pointee
        switch r.type {
        case CHIREDIS_REPLY_STRING:
            return .string(bytes(r))
        case CHIREDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(r.elements)
            for i in 0..<r.elements {
                if let element = chiredis_element(reply, i) { items.append(copy(element)) } else { items.append(.null) }
            }
            return .array(items)
        case CHIREDIS_REPLY_INTEGER:
            return .integer(r.integer)
        case CHIREDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(r), as: UTF8.self))
        case CHIREDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(r), as: UTF8.self))
        default:
            return .null
        }
    }

    static func bytes(_ r: redisReply) -> [UInt8] {
        guard let str = r.str, r.len > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: str, count: r.len))
    }
}

/// One hiredis reply tree, owned: freed with `freeReplyObject` when the last reference goes.
/// Read it (``RedisConnection/copy(_:)``) while the owner is alive: a pointer taken out of it
/// dangles once the owner goes, which Swift may do right after its last use.
///
/// `@unchecked Sendable`: the tree is never mutated after hiredis built it, and only read (or
/// freed, once) afterwards.
final class OwnedReply: @unchecked Sendable {
    let reply: UnsafeMutablePointer<redisReply>

    init(_ reply: UnsafeMutablePointer<redisReply>) { self.reply = reply }

    deinit { chiredis_free_reply(reply) }
}

struct RedisReplyError: Error, Sendable {
    var message: String
}
