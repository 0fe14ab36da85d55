import MemifyCore
internal import COpenSSL
import Glibc

/// The byte stream RESP travels on: a TCP or unix-domain socket, with OpenSSL over it for TLS.
///
/// Blocking, and not thread-safe: ``RedisConnection`` owns one behind its lock and uses it on
/// its executor only. Writes never raise SIGPIPE (`send(MSG_NOSIGNAL)`, also under TLS through
/// our own BIO): a connection the server closed is an error, not the end of the process.
final class RedisTransport {
    private let fd: Int32
    private var tls: TLSSession?
    /// For messages: "Redis at host:port".
    let peer: String

    /// Connects within `connectTimeout` seconds (the TLS handshake included); reads and writes
    /// then time out after `ioTimeout` seconds.
    init(url: RedisURL, connectTimeout: Int, ioTimeout: Int) throws(WorkerError) {
        peer = "Redis at \(url.location)"
        if let path = url.socketPath {
            fd = try Self.connectUnix(path: path, peer: peer)
        } else {
            fd = try Self.connectTCP(host: url.host, port: url.port, timeout: connectTimeout, peer: peer)
        }
        do throws(WorkerError) {
            if let options = url.tls {
                try Self.setTimeout(fd, seconds: connectTimeout)
                tls = try TLSSession(fd: fd, host: url.host, options: options, peer: peer)
            }
            try Self.setTimeout(fd, seconds: ioTimeout)
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    deinit {
        // close_notify is best effort: never wait on a server that stopped reading.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        tls?.close()
        Glibc.close(fd)
    }

    var isTLS: Bool { tls != nil }

    /// Writes every byte (blocking).
    func write(_ bytes: UnsafeRawBufferPointer) throws(WorkerError) {
        guard bytes.count > 0, let base = bytes.baseAddress else { return }
        if let tls { return try tls.write(base, bytes.count) }
        var done = 0
        while done < bytes.count {
            let n = send(fd, base + done, bytes.count - done, Int32(MSG_NOSIGNAL))
            if n > 0 {
                done += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                throw ioError("send to", errno: errno)
            }
        }
    }

    /// Reads what has arrived, at least one byte (waiting up to the read timeout), at most
    /// `capacity`. Never returns 0: a closed connection is an error.
    func read(into buffer: UnsafeMutableRawPointer, capacity: Int) throws(WorkerError) -> Int {
        if let tls { return try tls.read(buffer, capacity) }
        while true {
            let n = recv(fd, buffer, capacity, 0)
            if n > 0 { return n }
            if n == 0 { throw WorkerError(.serviceUnavailable, operation: "read from \(peer)", message: "connection closed by the server") }
            if errno == EINTR { continue }
            throw ioError("read from", errno: errno)
        }
    }

    private func ioError(_ verb: String, errno code: Int32) -> WorkerError {
        WorkerError(.serviceUnavailable, operation: "\(verb) \(peer)", message: Self.reason(code))
    }

    static func reason(_ code: Int32) -> String {
        code == EAGAIN || code == EWOULDBLOCK ? "timed out" : String(cString: strerror(code))
    }

    // MARK: sockets

    private static func connectUnix(path: String, peer: String) throws(WorkerError) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            throw WorkerError(.usage, operation: "connect to \(peer)", message: "socket path longer than \(capacity - 1) bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw WorkerError(.serviceUnavailable, operation: "connect to \(peer)", message: reason(errno)) }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 {
            let code = errno
            Glibc.close(fd)
            throw WorkerError(.serviceUnavailable, operation: "connect to \(peer)", message: reason(code))
        }
        return fd
    }

    /// Every address the name resolves to, in turn, each within `timeout` (a non-blocking
    /// connect and a poll); the socket is blocking again when returned, with TCP_NODELAY and
    /// keepalive probes (after 15 s idle, as hiredis, which this replaced, set them).
    private static func connectTCP(host: String, port: Int, timeout: Int, peer: String) throws(WorkerError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let list else {
            throw WorkerError(.serviceUnavailable, operation: "connect to \(peer)",
                                message: "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = ECONNREFUSED
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            guard fd >= 0 else { lastError = errno; continue }
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            var rc = Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen)
            if rc != 0 && errno == EINPROGRESS {
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                var ready: Int32
                repeat { ready = poll(&pfd, 1, Int32(timeout * 1000)) } while ready < 0 && errno == EINTR
                if ready == 0 {
                    rc = -1
                    errno = ETIMEDOUT
                } else if ready > 0 {
                    var soError: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
                    rc = soError == 0 ? 0 : -1
                    if soError != 0 { errno = soError }
                } else {
                    rc = -1
                }
            }
            if rc != 0 {
                lastError = errno
                Glibc.close(fd)
                continue
            }
            _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
            var on: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, socklen_t(MemoryLayout<Int32>.size))
            var idle: Int32 = 15, interval: Int32 = 5, count: Int32 = 3
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, &idle, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, &interval, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, &count, socklen_t(MemoryLayout<Int32>.size))
            return fd
        }
        let message = lastError == ETIMEDOUT ? "connection timed out after \(timeout) s" : String(cString: strerror(lastError))
        throw WorkerError(.serviceUnavailable, operation: "connect to \(peer)", message: message)
    }

    private static func setTimeout(_ fd: Int32, seconds: Int) throws(WorkerError) {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            guard setsockopt(fd, SOL_SOCKET, option, &tv, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
                throw WorkerError(.serviceUnavailable, operation: "set socket timeouts", message: reason(errno))
            }
        }
    }
}

/// One OpenSSL client session over a connected socket: its own context (trust store and
/// client certificate), its own BIO method. Blocking, like the socket.
private final class TLSSession {
    private let context: OpaquePointer
    private let ssl: OpaquePointer
    private let method: OpaquePointer
    private let peer: String

    init(fd: Int32, host: String, options: RedisTLSOptions, peer: String) throws(WorkerError) {
        self.peer = peer
        let operation = "set up TLS for \(peer)"
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw WorkerError(.serviceUnavailable, operation: operation, message: Self.queuedError() ?? "SSL_CTX_new failed")
        }
        do throws(WorkerError) {
            try Self.configure(context, options: options, operation: operation)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        guard let method = copenssl_socket_method() else {
            SSL_CTX_free(context)
            throw WorkerError(.serviceUnavailable, operation: operation, message: "BIO_meth_new failed")
        }
        guard let ssl = SSL_new(context) else {
            BIO_meth_free(method)
            SSL_CTX_free(context)
            throw WorkerError(.serviceUnavailable, operation: operation, message: Self.queuedError() ?? "SSL_new failed")
        }
        // From here on a failure frees all three in deinit.
        self.context = context
        self.ssl = ssl
        self.method = method
        if options.certReqs.verifies {
            SSL_set_verify(ssl, COPENSSL_VERIFY_PEER, nil)
            if options.checkHostname {
                let param = SSL_get0_param(ssl)
                let isAddress = Self.isIPAddress(host)
                let set = isAddress ? X509_VERIFY_PARAM_set1_ip_asc(param, host) : SSL_set1_host(ssl, host)
                guard set == 1 else {
                    throw WorkerError(.usage, operation: operation, message: "cannot check the certificate against '\(host)'")
                }
            }
        } else {
            SSL_set_verify(ssl, COPENSSL_VERIFY_NONE, nil)
        }
        // SNI for names, never for addresses (as Python does).
        if !Self.isIPAddress(host) { _ = copenssl_set_sni(ssl, host) }
        guard let bio = copenssl_socket_bio(method, fd) else {
            throw WorkerError(.serviceUnavailable, operation: operation, message: "BIO_new failed")
        }
        SSL_set_bio(ssl, bio, bio)

        ERR_clear_error()
        while true {
            let rc = SSL_connect(ssl)
            if rc == 1 { break }
            let code = SSL_get_error(ssl, rc)
            let savedErrno = errno
            if code == COPENSSL_ERROR_WANT_READ || code == COPENSSL_ERROR_WANT_WRITE { continue }
            throw handshakeError(code: code, errno: savedErrno, options: options)
        }
    }

    /// The context's trust store, protocol floor and client certificate.
    private static func configure(_ context: OpaquePointer, options: RedisTLSOptions, operation: String) throws(WorkerError) {
        _ = copenssl_ctx_set_min_tls12(context)
        copenssl_ctx_set_read_ahead(context)
        // Read ahead into 128 KiB instead of one record's 16 KiB: a batch's replies in a few
        // recv calls instead of dozens.
        SSL_CTX_set_default_read_buffer_len(context, 128 * 1024)
        copenssl_ctx_set_auto_retry(context)
        copenssl_ctx_refuse_passphrases(context)
        // As Python's ssl.create_default_context(): the system's CAs, then the given ones.
        _ = SSL_CTX_set_default_verify_paths(context)
        if options.caFile != nil || options.caPath != nil {
            guard SSL_CTX_load_verify_locations(context, options.caFile, options.caPath) == 1 else {
                let what = [options.caFile.map { "CA file \($0)" }, options.caPath.map { "CA directory \($0)" }]
                    .compactMap { $0 }.joined(separator: " or ")
                throw WorkerError(.usage, operation: operation,
                                    message: "cannot load \(what): \(queuedError() ?? "unreadable") (ssl_ca_certs, CACHE_SSL_CA_CERTS)")
            }
        }
        if let certFile = options.certFile {
            guard SSL_CTX_use_certificate_chain_file(context, certFile) == 1 else {
                throw WorkerError(.usage, operation: operation,
                                    message: "cannot load client certificate \(certFile): \(queuedError() ?? "unreadable")")
            }
            let keyFile = options.keyFile ?? certFile
            guard SSL_CTX_use_PrivateKey_file(context, keyFile, COPENSSL_FILETYPE_PEM) == 1 else {
                // The reason names no key material ("no start line", "key values mismatch").
                let reason = queuedError() ?? "unreadable"
                let need = reason.contains("mismatch") ? " (not the key of \(certFile))" : " (an unencrypted PEM key is needed)"
                throw WorkerError(.usage, operation: operation, message: "cannot load client key \(keyFile): \(reason)\(need)")
            }
            guard SSL_CTX_check_private_key(context) == 1 else {
                ERR_clear_error()
                throw WorkerError(.usage, operation: operation,
                                    message: "client key \(keyFile) does not match certificate \(certFile)")
            }
        }
    }

    deinit {
        SSL_free(ssl)  // frees the BIO
        SSL_CTX_free(context)
        BIO_meth_free(method)
    }

    /// Sends close_notify (best effort, never waiting for the answer).
    func close() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    func write(_ base: UnsafeRawPointer, _ count: Int) throws(WorkerError) {
        var done = 0
        while done < count {
            ERR_clear_error()
            let chunk = Int32(min(count - done, 1 << 30))
            let n = SSL_write(ssl, base + done, chunk)
            if n > 0 {
                done += Int(n)
                continue
            }
            let code = SSL_get_error(ssl, n)
            let savedErrno = errno
            if code == COPENSSL_ERROR_WANT_READ || code == COPENSSL_ERROR_WANT_WRITE { continue }
            // A server that ends the session (a refused client certificate) sends an alert saying
            // why, then closes: a write then fails with a reset, and the alert is still there to read.
            if code == COPENSSL_ERROR_SYSCALL, savedErrno == ECONNRESET || savedErrno == EPIPE, let alert = pendingAlert() {
                throw WorkerError(.serviceUnavailable, operation: "send to \(peer)", message: "TLS: \(alert)\(Self.alertHint(alert))")
            }
            throw ioError("send to", code: code, errno: savedErrno)
        }
    }

    /// One record or more: after the first, whatever OpenSSL already holds decrypted or read
    /// ahead, up to `capacity` (fewer parser resumes per batch).
    func read(_ buffer: UnsafeMutableRawPointer, _ capacity: Int) throws(WorkerError) -> Int {
        var total = 0
        let limit = Int32(min(capacity, Int(Int32.max)))
        while true {
            ERR_clear_error()
            let n = SSL_read(ssl, buffer + total, limit - Int32(total))
            if n > 0 {
                total += Int(n)
                if total < capacity && SSL_pending(ssl) > 0 { continue }
                return total
            }
            let code = SSL_get_error(ssl, n)
            let savedErrno = errno
            if code == COPENSSL_ERROR_WANT_READ || code == COPENSSL_ERROR_WANT_WRITE { continue }
            throw ioError("read from", code: code, errno: savedErrno)
        }
    }

    /// The reason of an alert the server sent before the connection broke, if one was read.
    private func pendingAlert() -> String? {
        ERR_clear_error()
        var byte: UInt8 = 0
        let n = SSL_read(ssl, &byte, 1)
        guard n <= 0, SSL_get_error(ssl, n) == COPENSSL_ERROR_SSL else {
            ERR_clear_error()
            return nil
        }
        return Self.queuedError()
    }

    private func ioError(_ verb: String, code: Int32, errno savedErrno: Int32) -> WorkerError {
        let operation = "\(verb) \(peer)"
        switch code {
        case COPENSSL_ERROR_ZERO_RETURN:
            return WorkerError(.serviceUnavailable, operation: operation, message: "connection closed by the server (TLS close_notify)")
        case COPENSSL_ERROR_SYSCALL:
            let queued = Self.queuedError()
            if let queued { return WorkerError(.serviceUnavailable, operation: operation, message: queued) }
            if savedErrno == 0 { return WorkerError(.serviceUnavailable, operation: operation, message: "connection closed by the server") }
            return WorkerError(.serviceUnavailable, operation: operation, message: RedisTransport.reason(savedErrno))
        default:
            let reason = Self.queuedError() ?? "TLS error \(code)"
            return WorkerError(.serviceUnavailable, operation: operation, message: "TLS: \(reason)\(Self.alertHint(reason))")
        }
    }

    private func handshakeError(code: Int32, errno savedErrno: Int32, options: RedisTLSOptions) -> WorkerError {
        let operation = "TLS handshake with \(peer)"
        let verify = SSL_get_verify_result(ssl)
        if verify != COPENSSL_X509_V_OK {
            let why = String(cString: X509_verify_cert_error_string(verify))
            ERR_clear_error()
            var fix = "give the CA that signed the server's certificate with ssl_ca_certs=PATH in the URL or CACHE_SSL_CA_CERTS"
            if why.contains("mismatch") {
                fix = "connect by a name or address the certificate names, or turn the name check off with ssl_check_hostname=false (CACHE_SSL_CHECK_HOSTNAME=false)"
            }
            return WorkerError(.serviceUnavailable, operation: operation,
                                 message: "certificate verify failed: \(why); \(fix), or set ssl_cert_reqs=none (CACHE_SSL_CERT_REQS=none) to skip verification")
        }
        let queued = Self.queuedError()
        if code == COPENSSL_ERROR_SYSCALL, queued == nil {
            var why = savedErrno == 0 ? "connection closed by the server" : RedisTransport.reason(savedErrno)
            if savedErrno == 0 || savedErrno == EAGAIN || savedErrno == ECONNRESET {
                why += " (is it a TLS port? A plain Redis port never answers a TLS handshake; use redis:// for one)"
            }
            return WorkerError(.serviceUnavailable, operation: operation, message: why)
        }
        let reason = queued ?? "TLS error \(code)"
        var hint = Self.alertHint(reason)
        if reason.contains("wrong version number") || reason.contains("packet length too long") {
            hint = "; the port does not speak TLS (use redis:// for a plain port)"
        }
        return WorkerError(.serviceUnavailable, operation: operation, message: "\(reason)\(hint)")
    }

    /// What to do about an alert the server sent.
    private static func alertHint(_ reason: String) -> String {
        if reason.contains("certificate required") || reason.contains("bad certificate")
            || reason.contains("unknown ca") || reason.contains("handshake failure") {
            return "; the server wants a client certificate it trusts: give ssl_certfile=PATH and ssl_keyfile=PATH in the URL (CACHE_SSL_CERTFILE, CACHE_SSL_KEYFILE)"
        }
        return ""
    }

    /// The oldest error on this thread's OpenSSL queue, as "reason" text (the queue is then cleared).
    static func queuedError() -> String? {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return nil }
        if let reason = ERR_reason_error_string(code) { return String(cString: reason) }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
