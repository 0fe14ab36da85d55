import Testing
@testable import MemifyCore
@testable import GraphStore
@testable import SessionCache
@testable import Extraction
@testable import Pipeline
@testable import MemifyTools

/// The URL forms `--cache` takes for Redis, and cognee's CACHE_* settings, read as redis-py
/// reads them.
@Suite("Redis URLs: TLS, unix sockets, cognee's CACHE_SSL settings")
struct RedisURLTests {
    @Test("rediss:// with redis-py's ssl_* query parameters")
    func rediss() throws {
        let url = try RedisURL(parsing: "rediss://worker:s%26cret@cache.internal:6380/2?ssl_ca_certs=/etc/ca%20dir/ca.pem&ssl_certfile=/c.pem&ssl_keyfile=/k.pem")
        #expect(url.host == "cache.internal" && url.port == 6380 && url.database == 2)
        #expect(url.username == "worker" && url.password == "s&cret")
        #expect(url.tls == RedisTLSOptions(certReqs: .required, checkHostname: true, caFile: "/etc/ca dir/ca.pem",
                                            certFile: "/c.pem", keyFile: "/k.pem"))
        #expect(url.description == "rediss://worker:***@cache.internal:6380/2")
        #expect(try RedisURL(parsing: "rediss://h").tls == RedisTLSOptions())
        #expect(try RedisURL(parsing: "rediss://h?ssl_cert_reqs=none").tls?.certReqs == RedisTLSOptions.CertificateRequirement.none)
        #expect(try RedisURL(parsing: "rediss://h?ssl_cert_reqs=OPTIONAL").tls?.certReqs == .optional)
        #expect(try RedisURL(parsing: "rediss://h?ssl_check_hostname=false").tls?.checkHostname == false)
        #expect(try RedisURL(parsing: "rediss://h?ssl_check_hostname=yes").tls?.checkHostname == true)
        #expect(try RedisURL(parsing: "redis://h/1?db=4").database == 4, "?db= wins, as in redis-py")
        #expect(try RedisURL(parsing: "redis://h").tls == nil)
    }

    @Test("refused: bad cert reqs, ssl_* without TLS, unknown parameters, a key without its certificate",
          arguments: ["rediss://h?ssl_cert_reqs=maybe", "redis://h?ssl_ca_certs=/ca.pem", "rediss://h?ssl_ca_cert=/ca.pem",
                      "rediss://h?ssl_keyfile=/k.pem", "unix:///s.sock?ssl_cert_reqs=none", "unix://relative.sock",
                      "http://h", "redis:h"])
    func refused(_ text: String) {
        let error = #expect(throws: WorkerError.self) { try RedisURL(parsing: text) }
        #expect(error?.code == .usage)
    }

    @Test("unix sockets: unix:// and redis+unix://, ?db=N, credentials")
    func unixSockets() throws {
        let url = try RedisURL(parsing: "unix://user:pw@/run/redis/redis.sock?db=3")
        #expect(url.socketPath == "/run/redis/redis.sock" && url.database == 3)
        #expect(url.username == "user" && url.password == "pw" && url.tls == nil)
        #expect(url.description == "unix://user:***@/run/redis/redis.sock?db=3")
        #expect(url.location == "/run/redis/redis.sock")
        #expect(try RedisURL(parsing: "redis+unix:///tmp/r.sock").socketPath == "/tmp/r.sock")
        #expect(try RedisURL(parsing: "unix:///tmp/r.sock").database == 0)
    }

    @Test("cognee's CACHE_* settings: CACHE_SSL, CACHE_SSL_CERT_REQS, and the CA and client files")
    func cogneeEnvironment() throws {
        let plain = try RedisURL(cogneeEnvironment: ["CACHE_HOST": "cache", "CACHE_PORT": "6390", "CACHE_PASSWORD": "pw"])
        #expect(plain == RedisURL(host: "cache", port: 6390, database: 0, password: "pw"))
        #expect(try RedisURL(cogneeEnvironment: [:]) == RedisURL(host: "localhost"))
        #expect(try RedisURL(cogneeEnvironment: ["CACHE_SSL": "false", "CACHE_SSL_CERT_REQS": "none"]).tls == nil)
        let tls = try RedisURL(cogneeEnvironment: ["CACHE_SSL": "True", "CACHE_SSL_CA_CERTS": "/ca.pem",
                                                   "CACHE_SSL_CERTFILE": "/c.pem", "CACHE_SSL_KEYFILE": "/k.pem"])
        #expect(tls.tls == RedisTLSOptions(certReqs: .required, caFile: "/ca.pem", certFile: "/c.pem", keyFile: "/k.pem"))
        #expect(try RedisURL(cogneeEnvironment: ["CACHE_SSL": "1", "CACHE_SSL_CERT_REQS": "none"]).tls?.certReqs == RedisTLSOptions.CertificateRequirement.none)
        #expect(try RedisURL(cogneeEnvironment: ["CACHE_SSL": "on"]).tls?.checkHostname == true)
        #expect(try RedisURL(cogneeEnvironment: ["CACHE_SSL": "on", "CACHE_SSL_CHECK_HOSTNAME": "false"]).tls?.checkHostname == false)
        for bad in [["CACHE_SSL": "sure"], ["CACHE_SSL": "yes", "CACHE_SSL_CERT_REQS": "always"], ["CACHE_PORT": "x"]] {
            let error = #expect(throws: WorkerError.self) { try RedisURL(cogneeEnvironment: bad) }
            #expect(error?.code == .usage)
        }
    }

    @Test("error replies that refuse the connection are exit 69; others are protocol errors",
          arguments: [("NOAUTH Authentication required.", true), ("WRONGPASS invalid username-password pair", true),
                      ("LOADING Redis is loading the dataset in memory", true), ("MASTERDOWN Link with MASTER is down", true),
                      ("ERR unknown command", false), ("WRONGTYPE Operation against a key", false)])
    func refusals(_ message: String, _ unavailable: Bool) {
        let error = RedisConnection.refusal(message, operation: "SCAN")
        #expect((error.code == .serviceUnavailable) == unavailable)
        #expect(error.message.hasPrefix(message))
    }

    @Test("general RESP2 replies, whole and cut anywhere")
    func generalReplies() throws {
        let wire = Array("+OK\r\n-ERR no\r\n:-42\r\n$-1\r\n*-1\r\n$5\r\nab\r\nc\r\n*2\r\n$1\r\n0\r\n*2\r\n$3\r\nk:1\r\n:7\r\n".utf8)
        let expected: [RedisReply] = [.status("OK"), .error("ERR no"), .integer(-42), .null, .null, .string(Array("ab\r\nc".utf8)),
                                      .array([.string([UInt8(ascii: "0")]), .array([.string(Array("k:1".utf8)), .integer(7)])])]
        var replies: [RedisReply] = []
        var position = 0
        wire.withUnsafeBytes { bytes in
            while position < bytes.count {
                guard case .reply(let reply, let end) = RESPReplyParser.parse(bytes, at: position) else {
                    Issue.record("not a whole reply at \(position)")
                    return
                }
                replies.append(reply)
                position = end
            }
            // Every proper prefix of the last reply asks for more, never more than the reply holds.
            let last = wire.count - "*2\r\n$1\r\n0\r\n*2\r\n$3\r\nk:1\r\n:7\r\n".utf8.count
            for cut in last..<wire.count {
                let prefix = UnsafeRawBufferPointer(rebasing: bytes[..<cut])
                guard case .needMore(let atLeast) = RESPReplyParser.parse(prefix, at: last) else {
                    Issue.record("cut at \(cut) did not ask for more")
                    continue
                }
                #expect(atLeast > cut && atLeast <= wire.count, "cut at \(cut): \(atLeast)")
            }
        }
        #expect(replies == expected)
        for bad in ["?x\r\n", "$x\r\n", "*2\r\n+a\r\n%3\r\n", "$2\r\nabcd"] {
            let step = Array(bad.utf8).withUnsafeBytes { RESPReplyParser.parse($0, at: 0) }
            guard case .malformed = step else { Issue.record("\(bad.debugDescription) not refused: \(step)"); continue }
        }
    }
}
