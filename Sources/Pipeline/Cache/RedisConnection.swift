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
        try withRawPipeline(commands) { replies in replies.map { Self.copy($0) } }
    }

    /// Sends every command and lends the raw hiredis replies to `body` before freeing them.
    /// For callers that copy only what they need (the session reader, the raw benchmark).
    func withRawPipeline<R: Sendable>(
        _ commands: [[[UInt8]]], _ body: ([UnsafeMutablePointer<redisReply>]) throws(PipelineError) -> R
    ) throws(PipelineError) -> R {
        let location = "\(url.host):\(url.port)"
        return try context.withLock { (ctx: inout OpaquePointer?) throws(PipelineError) -> R in
            guard let ctx else {
                throw PipelineError(.serviceUnavailable, operation: "use Redis at \(location)", message: "connection closed")
            }
            let c = UnsafeMutablePointer<redisContext>(ctx)
            for args in commands {
                let rc = Self.append(c, args)
                if rc != CHIREDIS_OK { throw Self.ioError(c, location) }
            }
            var replies: [UnsafeMutablePointer<redisReply>] = []
            replies.reserveCapacity(commands.count)
            defer { for r in replies { chiredis_free_reply(r) } }
            for _ in commands {
                var reply: UnsafeMutablePointer<redisReply>?
                if chiredis_get_reply(c, &reply) != CHIREDIS_OK || reply == nil {
                    throw Self.ioError(c, location)
                }
                replies.append(reply!)
            }
            return try body(replies)
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

    /// For the reader: the elements of an array reply as byte arrays, or the error text.
    static func listElements(_ reply: UnsafeMutablePointer<redisReply>) -> Result<[[UInt8]], RedisReplyError> {
        let r = reply.pointee
        switch r.type {
        case CHIREDIS_REPLY_ARRAY:
            var items: [[UInt8]] = []
            items.reserveCapacity(r.elements)
            for i in 0..<r.elements {
                if let element = chiredis_element(reply, i) { items.append(bytes(element.pointee)) } else { items.append([]) }
            }
            return .success(items)
        case CHIREDIS_REPLY_ERROR:
            return .failure(RedisReplyError(message: String(decoding: bytes(r), as: UTF8.self)))
        default:
            return .failure(RedisReplyError(message: "unexpected reply type \(r.type)"))
        }
    }

    /// For the raw benchmark: the number of elements of an array reply, copying nothing.
    static func elementCount(_ reply: UnsafeMutablePointer<redisReply>) -> Int {
        reply.pointee.type == CHIREDIS_REPLY_ARRAY ? reply.pointee.elements : 0
    }
}

struct RedisReplyError: Error, Sendable {
    var message: String
}
