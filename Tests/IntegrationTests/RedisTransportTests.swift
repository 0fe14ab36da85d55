import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import TestSupport
import Testing

/// Reads the session cache, written once, over TCP and another way; every session must come
/// back the same (sorted, as two servers' SCAN orders may differ).
private func readAll(_ url: RedisURL, batchSize: Int = 100) async throws -> [SessionKey: ObservedSession] {
    var observed: [SessionKey: ObservedSession] = [:]
    for try await read in RedisCacheSource(url: url, options: CacheReadOptions(batchSize: batchSize)).sessions() {
        #expect(observed[read.key] == nil, "\(read.key) returned twice")
        observed[read.key] = ObservedSession(read)
    }
    return observed
}

private func sameSessions(_ a: [SessionKey: ObservedSession], _ b: [SessionKey: ObservedSession]) -> Bool {
    a.count == b.count && a.allSatisfy { key, session in
        b[key].map { $0.entries == session.entries && $0.errorIndexes == session.errorIndexes } ?? false
    }
}

private func sortedLines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
    bytes.split(separator: UInt8(ascii: "\n")).sorted { $0.lexicographicallyPrecedes($1) }
}

private func writeCorpus(_ corpus: SyntheticCorpus, to url: RedisURL) async throws {
    try await BlockingExecutor(label: "test").run {
        let connection = try RedisConnection(url: url)
        _ = try connection.command(["FLUSHDB"])
        let writer = RedisCacheWriter(connection: connection, ttlSeconds: nil)
        for start in stride(from: 0, to: corpus.sessions, by: 100) {
            try writer.append(entries: (start..<min(corpus.sessions, start + 100)).map { (corpus.key(session: $0), corpus.entries(session: $0)) })
        }
    }
}

@Suite("Redis over TLS", .serialized,
       .enabled(if: TestEnvironment.redisTLSURL != nil && TestEnvironment.tlsDirectory != nil && TestEnvironment.redisURL != nil,
                "set MEMIFY_TEST_REDIS_TLS_URL and MEMIFY_TEST_TLS_DIR (scripts/servers starts TLS Redis servers when openssl is installed)"))
struct RedisTLSTests {
    static let database = 11
    let tls: String
    let port: String
    let dir: String

    init() throws {
        tls = try #require(TestEnvironment.redisTLSURL)
        port = String(tls.split(separator: ":").last ?? "")
        dir = try #require(TestEnvironment.tlsDirectory)
    }

    /// The TLS server at `host`, database `db`, with these query parameters.
    func url(host: String = "127.0.0.1", db: Int = database, _ query: String) -> String {
        "rediss://\(host):\(port)/\(db)?\(query)"
    }

    @Test("a verified TLS connection reads cognee's fixture, and a corpus exactly as plain TCP reads it", .timeLimit(.minutes(10)))
    func verifiedReadsAsPlain() async throws {
        let verified = try RedisURL(parsing: url("ssl_ca_certs=\(dir)/ca.crt"))
        try await BlockingExecutor(label: "test").run { try CogneeFixture.loadRedis(into: RedisConnection(url: verified)) }
        let expected = try CogneeFixture.expected(.redis)
        for batchSize in [100, 7] {
            let problems = FixtureComparison.differences(observed: try await readAll(verified, batchSize: batchSize), expected: expected)
            #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        }

        // The same synthetic corpus on the plain server and the TLS one; read by address (the
        // certificate's IP SAN) and by name (its DNS SAN).
        let corpus = SyntheticCorpus(seed: 7, users: 9, sessions: 400, turnsPerSession: 5, entryBytes: 3000)
        let plain = try RedisURL(parsing: try #require(TestEnvironment.redisURL) + "/\(Self.database)")
        try await writeCorpus(corpus, to: plain)
        try await writeCorpus(corpus, to: verified)
        let overTCP = try await readAll(plain)
        #expect(overTCP.count == 400)
        for host in ["127.0.0.1", "localhost"] {
            for batchSize in [100, 3] {
                let overTLS = try await readAll(try RedisURL(parsing: url(host: host, "ssl_ca_certs=\(dir)/ca.crt")), batchSize: batchSize)
                #expect(sameSessions(overTLS, overTCP), "\(host), batch \(batchSize): TLS read differs from TCP")
            }
        }
        // The command line too: the same dump, byte for byte (lines sorted).
        let tlsDump = try WorkerProcess.run(["sessions", "dump", "--cache", url("ssl_ca_certs=\(dir)/ca.crt")])
        let tcpDump = try WorkerProcess.run(["sessions", "dump", "--cache", plain.description])
        #expect(tlsDump.status == 0, "\(tlsDump.stderr)")
        #expect(sortedLines(tlsDump.stdout) == sortedLines(tcpDump.stdout))
    }

    @Test("a server certificate from an unknown CA is refused: exit 69, naming the server, the reason and the fix",
          arguments: ["ssl_ca_certs=OTHER", "", "ssl_cert_reqs=optional&ssl_ca_certs=OTHER"])
    func wrongCA(_ query: String) throws {
        let outcome = try WorkerProcess.run(["sessions", "list", "--cache", url(query.replacingOccurrences(of: "OTHER", with: "\(dir)/other-ca.crt"))])
        #expect(outcome.status == 69, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("127.0.0.1:\(port)"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("certificate verify failed: "), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("ssl_ca_certs") && outcome.stderr.contains("CACHE_SSL_CERT_REQS"), "\(outcome.stderr)")
    }

    @Test("ssl_cert_reqs=none (CACHE_SSL_CERT_REQS=none) accepts a server no CA vouches for")
    func certReqsNone() throws {
        let viaURL = try WorkerProcess.run(["sessions", "list", "--cache", url("ssl_cert_reqs=none&ssl_ca_certs=\(dir)/other-ca.crt")])
        #expect(viaURL.status == 0, "\(viaURL.stderr)")
        var cognee = ["CACHE_BACKEND": "redis", "CACHE_HOST": "127.0.0.1", "CACHE_PORT": port, "CACHE_SSL": "true"]
        cognee["CACHE_SSL_CERT_REQS"] = "none"
        #expect(try WorkerProcess.run(["sessions", "list"], environment: cognee).status == 0)
        // cognee's default, required: verified against CACHE_SSL_CA_CERTS, refused without it.
        cognee["CACHE_SSL_CERT_REQS"] = nil
        let unverified = try WorkerProcess.run(["sessions", "list"], environment: cognee)
        #expect(unverified.status == 69, "\(unverified.stderr)")
        #expect(unverified.stderr.contains("certificate verify failed"))
        cognee["CACHE_SSL_CA_CERTS"] = "\(dir)/ca.crt"
        let verified = try WorkerProcess.run(["sessions", "list"], environment: cognee)
        #expect(verified.status == 0, "\(verified.stderr)")
    }

    @Test("unreadable CA, certificate or key files are usage errors naming the file",
          arguments: ["ssl_ca_certs=/nonexistent/ca.pem", "ssl_certfile=/nonexistent/c.pem",
                      "ssl_certfile=CLIENT&ssl_keyfile=/nonexistent/k.pem", "ssl_certfile=CLIENT&ssl_keyfile=OTHERKEY"])
    func badFiles(_ query: String) throws {
        let text = query.replacingOccurrences(of: "CLIENT", with: "\(dir)/client.crt").replacingOccurrences(of: "OTHERKEY", with: "\(dir)/other-ca.key")
        let outcome = try WorkerProcess.run(["sessions", "list", "--cache", url(text)])
        #expect(outcome.status == 64, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("/nonexistent/") || outcome.stderr.contains("other-ca.key"), "\(outcome.stderr)")
        #expect(!outcome.stderr.contains("PRIVATE KEY"))
    }

    @Test("a server that requires client certificates accepts ours and refuses none or an untrusted one",
          .enabled(if: TestEnvironment.redisMutualTLSURL != nil, "set MEMIFY_TEST_REDIS_MTLS_URL"), .timeLimit(.minutes(10)))
    func clientCertificates() async throws {
        let base = try #require(TestEnvironment.redisMutualTLSURL)
        let ca = "ssl_ca_certs=\(dir)/ca.crt"
        let withCert = try RedisURL(parsing: "\(base)/\(Self.database)?\(ca)&ssl_certfile=\(dir)/client.crt&ssl_keyfile=\(dir)/client.key")
        let corpus = SyntheticCorpus(seed: 8, users: 3, sessions: 30, turnsPerSession: 2, entryBytes: 500)
        try await writeCorpus(corpus, to: withCert)
        #expect(try await readAll(withCert).count == 30)

        // The server's alert says why ("certificate required", "unknown ca"), unless the reset
        // that follows it overtakes it: then the hint says what to look at.
        for (query, why) in [("", ["ssl_certfile"]),
                             ("&ssl_certfile=\(dir)/other-ca.crt&ssl_keyfile=\(dir)/other-ca.key", ["unknown ca", "may not trust"])] {
            let outcome = try WorkerProcess.run(["sessions", "list", "--cache", "\(base)/\(Self.database)?\(ca)\(query)"])
            #expect(outcome.status == 69, "\(outcome.stderr)")
            #expect(why.contains { outcome.stderr.contains($0) }, "\(outcome.stderr)")
            #expect(outcome.stderr.contains(String(base.dropFirst("rediss://".count))), "\(outcome.stderr)")
        }
    }

    @Test("a password travels inside TLS, and a wrong one is exit 69 without echoing it")
    func auth() throws {
        let wrong = try WorkerProcess.run(["sessions", "list", "--cache", "rediss://nobody:wrong-pw-xyz@127.0.0.1:\(port)/0?ssl_ca_certs=\(dir)/ca.crt"])
        #expect(wrong.status == 69, "\(wrong.stderr)")
        #expect(wrong.stderr.contains("WRONGPASS") && !wrong.stderr.contains("wrong-pw-xyz"), "\(wrong.stderr)")
    }
}

@Suite("Redis over a unix socket", .serialized,
       .enabled(if: TestEnvironment.redisUnixURL != nil && TestEnvironment.redisURL != nil,
                "set MEMIFY_TEST_REDIS_UNIX (scripts/servers starts Redis with a unix socket)"))
struct RedisUnixSocketTests {
    static let database = 12

    @Test("a unix socket reads the fixture as TCP does; the command line too", .timeLimit(.minutes(10)))
    func sameAsTCP() async throws {
        let tcp = try RedisURL(parsing: try #require(TestEnvironment.redisURL) + "/\(Self.database)")
        let unixText = try #require(TestEnvironment.redisUnixURL) + "?db=\(Self.database)"
        let unix = try RedisURL(parsing: unixText)
        try await BlockingExecutor(label: "test").run { try CogneeFixture.loadRedis(into: RedisConnection(url: tcp)) }
        let overUnix = try await readAll(unix, batchSize: 5)
        #expect(FixtureComparison.differences(observed: overUnix, expected: try CogneeFixture.expected(.redis)).isEmpty)
        #expect(sameSessions(overUnix, try await readAll(tcp)))
        let viaUnix = try WorkerProcess.run(["sessions", "dump", "--cache", unixText])
        let viaTCP = try WorkerProcess.run(["sessions", "dump", "--cache", tcp.description])
        #expect(viaUnix.status == 3, "\(viaUnix.stderr)")  // the fixture's corrupt sessions
        #expect(sortedLines(viaUnix.stdout) == sortedLines(viaTCP.stdout))
        let redisUnix = try WorkerProcess.run(["sessions", "list", "--cache", "redis+" + unixText])
        #expect(redisUnix.status == 3 || redisUnix.status == 0, "\(redisUnix.stderr)")
        #expect(!redisUnix.stdout.isEmpty)
    }
}

/// A connection the server dropped must fail with an error, never kill the process with
/// SIGPIPE (the test process would die here).
@Suite("Redis: a dropped connection is an error, not SIGPIPE",
       .enabled(if: TestEnvironment.redisURL != nil, "set MEMIFY_TEST_REDIS_URL"))
struct RedisDroppedConnectionTests {
    static var urls: [String] {
        let dir = TestEnvironment.tlsDirectory ?? ""
        return [TestEnvironment.redisURL, TestEnvironment.redisUnixURL,
                TestEnvironment.redisTLSURL.map { "\($0)?ssl_ca_certs=\(dir)/ca.crt" }].compactMap { $0 }
    }

    @Test("writing a large pipeline to a killed connection throws .serviceUnavailable", arguments: urls)
    func killed(_ text: String) async throws {
        let url = try RedisURL(parsing: text)
        try await BlockingExecutor(label: "test").run {
            let victim = try RedisConnection(url: url)
            guard case .integer(let id) = try victim.command(["CLIENT", "ID"]) else { throw FixtureError("no CLIENT ID") }
            let admin = try RedisConnection(url: url)
            #expect(try admin.command(["CLIENT", "KILL", "ID", String(id)]) == .integer(1))
            let value = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
            let commands = (0..<16).map { [Array("SET".utf8), Array("memify-sigpipe-\($0)".utf8), value] }
            do {
                _ = try victim.pipeline(commands)
                Issue.record("a pipeline on a killed connection succeeded")
            } catch let error as WorkerError {
                #expect(error.code == .serviceUnavailable, "\(error)")
            }
            // The connection stays failed, with a clear message.
            #expect(throws: WorkerError.self) { try victim.command(["PING"]) }
        }
    }
}

/// A fake Redis on a unix socket that answers every read with one fixed error reply.
private final class RefusingRedis: @unchecked Sendable {  // the fd and path are set once, then only read
    let path: String
    private let listener: Int32

    init(reply: String) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("memify-refuse-\(UUID().uuidString.prefix(8)).sock").path
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 8) == 0 else { throw FixtureError("cannot listen on \(path)") }
        let answer = Array(reply.utf8)
        Thread {
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { return }
                Thread {
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    while read(client, &buffer, buffer.count) > 0 { _ = send(client, answer, answer.count, Int32(MSG_NOSIGNAL)) }
                    close(client)
                }.start()
            }
        }.start()
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        unlink(path)
    }
}

@Suite("Redis refusing the whole connection is exit 69")
struct RedisRefusalTests {
    @Test("NOAUTH, LOADING and MASTERDOWN on SCAN exit 69 with Redis's words",
          arguments: ["-NOAUTH Authentication required.\r\n", "-LOADING Redis is loading the dataset in memory\r\n",
                      "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n"])
    func refused(_ reply: String) async throws {
        let server = try RefusingRedis(reply: reply)
        let word = String(reply.dropFirst().prefix { $0 != " " })
        do {
            for try await _ in RedisCacheSource(url: try RedisURL(parsing: "unix://\(server.path)")).sessions() {}
            Issue.record("\(word) was not an error")
        } catch let error as WorkerError {
            #expect(error.code == .serviceUnavailable)
            #expect(error.message.contains(word))
        }
        let outcome = try WorkerProcess.run(["sessions", "list", "--cache", "unix://\(server.path)"])
        #expect(outcome.status == 69, "\(outcome.stderr)")
        #expect(outcome.stderr.contains(word) && outcome.stderr.contains(server.path), "\(outcome.stderr)")
    }
}
