import Foundation
public import GraphStore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A real HTTP/1.1 server on loopback that speaks OpenAI's chat-completions protocol with
/// scripted answers, for the LLM extractor's tests. POSIX sockets; the accept loop and every
/// connection run on their own `Thread`s, never on the Swift concurrency pool. Requests carry a
/// `Content-Length`; every answer has one and closes the connection. Every request is recorded
/// (headers, body, arrival time) so tests can assert on them.
public final class ScriptedLLMServer: Sendable {
    public struct Request: Sendable {
        public var method: String
        public var target: String
        /// Lowercased names.
        public var headers: [String: String]
        public var body: [UInt8]
        /// Seconds since 1970, when the request was read completely.
        public var at: Double
        /// 0-based, in arrival order.
        public var number: Int

        public var bodyJSON: JSONObject? {
            if case .object(let o)? = try? JSONParser.parse(body) { return o }
            return nil
        }

        /// The user message (`messages[1].content`).
        public var userMessage: String {
            guard case .array(let messages)? = bodyJSON?["messages"] else { return "" }
            for m in messages {
                if case .object(let o) = m, o["role"] == .string("user"), case .string(let text)? = o["content"] { return text }
            }
            return ""
        }

        /// The turns of the request: (index, text) from `<turn index="N">…</turn>`.
        public var turns: [(index: Int, text: String)] {
            var out: [(Int, String)] = []
            var rest = Substring(userMessage)
            while let open = rest.range(of: "<turn index=\"") {
                rest = rest[open.upperBound...]
                guard let quote = rest.firstIndex(of: "\""), let index = Int(rest[..<quote]),
                      let start = rest.range(of: ">\n"), let end = rest.range(of: "\n</turn>") else { break }
                out.append((index, String(rest[start.upperBound..<end.lowerBound])))
                rest = rest[end.upperBound...]
            }
            return out
        }
    }

    public struct Reply: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]
        /// Seconds to wait before answering.
        public var delay: Double

        public init(status: Int = 200, headers: [(String, String)] = [], body: [UInt8], delay: Double = 0) {
            self.status = status
            self.headers = headers
            self.body = body
            self.delay = delay
        }

        public init(status: Int, json: String, headers: [(String, String)] = [], delay: Double = 0) {
            self.init(status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(json.utf8), delay: delay)
        }

        /// A chat completion whose message content is `content`, with a `usage` object when
        /// token counts are given.
        public static func completion(_ content: String, promptTokens: Int? = nil, completionTokens: Int? = nil,
                                      delay: Double = 0) -> Reply {
            var pairs: [(String, JSONValue)] = [
                ("id", .string("chatcmpl-test")), ("object", .string("chat.completion")), ("model", .string("scripted")),
                ("choices", .array([.object(JSONObject([
                    ("index", .number(JSONNumber(0))),
                    ("message", .object(JSONObject([("role", .string("assistant")), ("content", .string(content))]))),
                    ("finish_reason", .string("stop")),
                ]))])),
            ]
            if let promptTokens, let completionTokens {
                pairs.append(("usage", .object(JSONObject([
                    ("prompt_tokens", .number(JSONNumber(promptTokens))), ("completion_tokens", .number(JSONNumber(completionTokens))),
                    ("total_tokens", .number(JSONNumber(promptTokens + completionTokens))),
                ]))))
            }
            return Reply(status: 200, json: JSONWriter.string(.object(JSONObject(pairs)), style: .compact), delay: delay)
        }
    }

    public typealias Responder = @Sendable (Request) -> Reply

    public let port: Int
    private let listener: Int32
    private let responder: Responder
    private let recorded = Mutex<[Request]>([])
    private let stopped = Mutex(false)

    /// `http://127.0.0.1:PORT/v1`, the base URL to give the worker.
    public var endpoint: String { "http://127.0.0.1:\(port)/v1" }

    public var requests: [Request] { recorded.withLock { $0 } }

    public init(responder: @escaping Responder) throws {
        self.responder = responder
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
        guard bound == 0, listen(fd, 64) == 0 else {
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
        thread.name = "scripted-llm-server"
        thread.start()
    }

    deinit { stop() }

    public func stop() {
        let first = stopped.withLock { s -> Bool in
            defer { s = true }
            return !s
        }
        if first {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }
    }

    private func acceptLoop() {
        while !stopped.withLock({ $0 }) {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            let thread = Thread { [self] in serve(client) }
            thread.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        func fill() -> Bool {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return false }
            buffer.append(contentsOf: chunk[0..<n])
            return true
        }
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            if let r = firstRange(of: separator, in: buffer) { headerEnd = r } else if !fill() { return }
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
        let request = recorded.withLock { list -> Request in
            let r = Request(method: requestLine.first.map(String.init) ?? "", target: requestLine.dropFirst().first.map(String.init) ?? "",
                            headers: headers, body: Array(buffer[bodyStart..<(bodyStart + length)]),
                            at: Date().timeIntervalSince1970, number: list.count)
            list.append(r)
            return r
        }
        let reply = responder(request)
        if reply.delay > 0 { usleep(useconds_t(reply.delay * 1_000_000)) }
        var text = "HTTP/1.1 \(reply.status) \(reply.status == 200 ? "OK" : "Scripted")\r\nContent-Length: \(reply.body.count)\r\nConnection: close\r\n"
        for (name, value) in reply.headers { text += "\(name): \(value)\r\n" }
        write(fd, Array((text + "\r\n").utf8) + reply.body)
    }

    private func write(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    private func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] && Array(haystack[i..<(i + needle.count)]) == needle {
            return i
        }
        return nil
    }

    // MARK: scripted answers

    /// A valid answer object for one turn: the entities "Alice" (Person) and "Paris" (Location),
    /// a Timestamp "2010", the edges `moved_to` and `moved_at`, and a summary naming the turn.
    public static func goodTurn(index: Int, text: String) -> JSONValue {
        func node(_ id: String, _ type: String, _ description: String) -> JSONValue {
            .object(JSONObject([("id", .string(id)), ("name", .string(id)), ("type", .string(type)), ("description", .string(description))]))
        }
        func edge(_ s: String, _ t: String, _ r: String, _ d: String) -> JSONValue {
            .object(JSONObject([("source_node_id", .string(s)), ("target_node_id", .string(t)), ("relationship_name", .string(r)),
                                ("description", .string(d))]))
        }
        let first = text.split(separator: "\n").first.map(String.init) ?? ""
        return .object(JSONObject([
            ("index", .number(JSONNumber(index))), ("summary", .string("Summary: \(first)")),
            ("nodes", .array([node("Alice", "Person", "Alice moved."), node("Paris", "Location", "A city."),
                              node("2010", "Timestamp", "The year 2010.")])),
            ("edges", .array([edge("Alice", "Paris", "moved_to", "Alice moved to Paris."),
                              edge("Alice", "2010", "moved_at", "Alice moved in 2010.")])),
        ]))
    }

    /// `{"turns":[…]}` for the request's turns, each made by `turn` (default ``goodTurn``).
    public static func answer(for request: Request,
                              turn: (Int, String) -> JSONValue = { goodTurn(index: $0, text: $1) }) -> String {
        JSONWriter.string(.object(JSONObject([("turns", .array(request.turns.map { turn($0.index, $0.text) }))])), style: .compact)
    }
}
