import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A plain HTTP/1.1 server on 127.0.0.1 for the scripted test servers (chat completions,
/// embeddings). POSIX sockets; the accept loop and every connection run on their own `Thread`s,
/// never on the Swift concurrency pool, so a handler may sleep to script latency. Requests must
/// carry a `Content-Length` (no chunked bodies: neither URLSession nor Python's httpx sends
/// them for JSON). With `keepAlive`, a connection serves requests until the client closes it
/// or asks `Connection: close`; without, every answer closes its connection.
package final class LoopbackHTTPServer: Sendable {
    package struct Request: Sendable {
        package var method: String
        package var target: String
        /// Lowercased names.
        package var headers: [String: String]
        package var body: [UInt8]
        /// Seconds since 1970, when the request was read completely.
        package var at: Double
    }

    package struct Response: Sendable {
        package var status: Int
        package var headers: [(String, String)]
        package var body: [UInt8]
        /// Seconds to wait before answering.
        package var delay: Double

        package init(status: Int, headers: [(String, String)] = [], body: [UInt8], delay: Double = 0) {
            self.status = status
            self.headers = headers
            self.body = body
            self.delay = delay
        }
    }

    package typealias Handler = @Sendable (Request) -> Response

    package let port: Int
    private let listener: Int32
    private let handler: Handler
    private let keepAlive: Bool
    private let stopped = Mutex(false)
    /// Open client connections, shut down by ``stop()`` so no connection thread outlives it.
    private let connections = Mutex<Set<Int32>>([])

    package init(name: String, keepAlive: Bool, handler: @escaping Handler) throws {
        self.handler = handler
        self.keepAlive = keepAlive
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket: \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            close(fd)
            throw FixtureError("bind/listen on 127.0.0.1: \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        listener = fd
        let thread = Thread { [self] in acceptLoop() }
        thread.name = name
        thread.start()
    }

    deinit { stop() }

    package func stop() {
        let first = stopped.withLock { s -> Bool in
            defer { s = true }
            return !s
        }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for fd in connections.withLock({ $0 }) { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while !stopped.withLock({ $0 }) {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            let open = connections.withLock { c -> Bool in
                guard !stopped.withLock({ $0 }) else { return false }
                c.insert(client)
                return true
            }
            guard open else {
                close(client)
                return
            }
            let thread = Thread { [self] in
                serve(client)
                connections.withLock { _ = $0.remove(client) }
                close(client)
            }
            thread.start()
        }
    }

    private func serve(_ fd: Int32) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        func fill() -> Bool {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return false }
            buffer.append(contentsOf: chunk[0..<n])
            return true
        }
        let separator: [UInt8] = [13, 10, 13, 10]
        while true {
            var headerEnd: Int?
            while headerEnd == nil {
                if let r = Self.firstRange(of: separator, in: buffer) { headerEnd = r } else if !fill() { return }
            }
            guard let end = headerEnd else { return }
            let head = String(decoding: buffer[0..<end], as: UTF8.self)
            var lines = head.components(separatedBy: "\r\n")
            let requestLine = lines.removeFirst().split(separator: " ")
            var headers: [String: String] = [:]
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            if headers["expect"]?.lowercased() == "100-continue" { write(fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            let bodyStart = end + 4
            while buffer.count < bodyStart + length { if !fill() { return } }
            let request = Request(method: requestLine.first.map(String.init) ?? "",
                                  target: requestLine.dropFirst().first.map(String.init) ?? "",
                                  headers: headers, body: Array(buffer[bodyStart..<(bodyStart + length)]),
                                  at: Date().timeIntervalSince1970)
            buffer.removeFirst(bodyStart + length)
            let reply = handler(request)
            if reply.delay > 0 { usleep(useconds_t(reply.delay * 1_000_000)) }
            let close = !keepAlive || headers["connection"]?.lowercased() == "close"
            var text = "HTTP/1.1 \(reply.status) \(reply.status == 200 ? "OK" : "Scripted")\r\nContent-Length: \(reply.body.count)\r\n"
                + "Connection: \(close ? "close" : "keep-alive")\r\n"
            for (name, value) in reply.headers { text += "\(name): \(value)\r\n" }
            guard write(fd, Array((text + "\r\n").utf8) + reply.body), !close else { return }
        }
    }

    @discardableResult
    private func write(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    private static func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] && Array(haystack[i..<(i + needle.count)]) == needle {
            return i
        }
        return nil
    }
}
