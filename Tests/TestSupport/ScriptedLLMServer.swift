import Foundation
package import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import Synchronization

/// A real HTTP/1.1 server on loopback that speaks OpenAI's chat-completions protocol with
/// scripted answers, for the LLM extractor's tests (``LoopbackHTTPServer``: every answer has a
/// `Content-Length` and closes the connection). Every request is recorded (headers, body,
/// arrival time) so tests can assert on them.
package final class ScriptedLLMServer: Sendable {
    package struct Request: Sendable {
        package var method: String
        package var target: String
        /// Lowercased names.
        package var headers: [String: String]
        package var body: [UInt8]
        /// Seconds since 1970, when the request was read completely.
        package var at: Double
        /// 0-based, in arrival order.
        package var number: Int

        package var bodyJSON: JSONObject? {
            if case .object(let o)? = try? JSONParser.parse(body) { return o }
            return nil
        }

        /// The user message (`messages[1].content`).
        package var userMessage: String {
            guard case .array(let messages)? = bodyJSON?["messages"] else { return "" }
            for m in messages {
                if case .object(let o) = m, o["role"] == .string("user"), case .string(let text)? = o["content"] { return text }
            }
            return ""
        }

        /// The turns of the request: (index, text) from `<turn index="N">…</turn>`.
        package var turns: [(index: Int, text: String)] {
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

    package struct Reply: Sendable {
        package var status: Int
        package var headers: [(String, String)]
        package var body: [UInt8]
        /// Seconds to wait before answering.
        package var delay: Double

        package init(status: Int = 200, headers: [(String, String)] = [], body: [UInt8], delay: Double = 0) {
            self.status = status
            self.headers = headers
            self.body = body
            self.delay = delay
        }

        package init(status: Int, json: String, headers: [(String, String)] = [], delay: Double = 0) {
            self.init(status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(json.utf8), delay: delay)
        }

        /// A chat completion whose message content is `content`, with a `usage` object when
        /// token counts are given.
        package static func completion(_ content: String, promptTokens: Int? = nil, completionTokens: Int? = nil,
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

    package typealias Responder = @Sendable (Request) -> Reply

    package var port: Int { http.port }
    private let http: LoopbackHTTPServer
    private let recorded: Recorder

    private final class Recorder: Sendable {
        let list = Mutex<[Request]>([])
    }

    /// `http://127.0.0.1:PORT/v1`, the base URL to give the worker.
    package var endpoint: String { "http://127.0.0.1:\(port)/v1" }

    package var requests: [Request] { recorded.list.withLock { $0 } }

    package init(responder: @escaping Responder) throws {
        let recorded = Recorder()
        self.recorded = recorded
        http = try LoopbackHTTPServer(name: "scripted-llm-server", keepAlive: false) { incoming in
            let request = recorded.list.withLock { list -> Request in
                let r = Request(method: incoming.method, target: incoming.target, headers: incoming.headers, body: incoming.body,
                                at: incoming.at, number: list.count)
                list.append(r)
                return r
            }
            let reply = responder(request)
            return LoopbackHTTPServer.Response(status: reply.status, headers: reply.headers, body: reply.body, delay: reply.delay)
        }
    }

    deinit { stop() }

    package func stop() { http.stop() }

    // MARK: scripted answers

    /// A valid answer object for one turn: the entities "Alice" (Person) and "Paris" (Location),
    /// a Timestamp "2010", the edges `moved_to` and `moved_at`, and a summary naming the turn.
    package static func goodTurn(index: Int, text: String) -> JSONValue {
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
    package static func answer(for request: Request,
                              turn: (Int, String) -> JSONValue = { goodTurn(index: $0, text: $1) }) -> String {
        JSONWriter.string(.object(JSONObject([("turns", .array(request.turns.map { turn($0.index, $0.text) }))])), style: .compact)
    }
}
