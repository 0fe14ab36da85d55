import Foundation
package import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A deterministic OpenAI-compatible `/v1/embeddings` server on loopback, for the worker's
/// tests and for cognee (another process) in the same test: plain HTTP/1.1 with
/// `Content-Length`, keep-alive (``LoopbackHTTPServer``).
///
/// Vectors are hashed bags of words, exactly as `scripts/probe-vectors-embed-server.py`
/// computes them, so the Python and Swift servers agree and texts sharing words are near:
/// lowercase the text, take the runs of `[a-z0-9]`, add 1 to bucket
/// `big-endian uint32 of sha256(word)[0..<4] % dims` per word; a text with no word gets
/// `[1, 0, …]`. Not normalised. The width is the request's `dimensions` when it sends one,
/// else the server's. `usage.prompt_tokens` is the number of whitespace-separated words.
///
/// Every request is recorded; faults can be queued for the next requests (``failNext(_:with:)``).
package final class EmbeddingTestServer: Sendable {
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

        /// `input`, a string or a list of strings.
        package var texts: [String] {
            switch bodyJSON?["input"] {
            case .string(let s)?: return [s]
            case .array(let items)?: return items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
            default: return []
            }
        }

        package var model: String? {
            if case .string(let m)? = bodyJSON?["model"] { return m }
            return nil
        }

        /// The request's `dimensions`, when it sent one.
        package var dimensions: Int? {
            if case .number(let n)? = bodyJSON?["dimensions"] { return Int(n.literal) }
            return nil
        }
    }

    /// What the next request gets instead of its vectors.
    package enum Fault: Sendable {
        /// An HTTP error status with an OpenAI-style error body, and `Retry-After` when given.
        case status(Int, retryAfter: String?, code: String?)
        /// The right answer, after this many seconds (longer than the client's timeout).
        case delay(Double)
        /// Vectors of this width instead of the asked one.
        case wrongDimensions(Int)
        /// `NaN` as the first component of the vector of text `index`.
        case nan(index: Int)

        package static func rateLimited(retryAfter: String?) -> Fault { .status(429, retryAfter: retryAfter, code: "rate_limit_exceeded") }
        package static let unauthorized = Fault.status(401, retryAfter: nil, code: "invalid_api_key")
        package static let serverError = Fault.status(500, retryAfter: nil, code: nil)
        package static let insufficientQuota = Fault.status(429, retryAfter: nil, code: "insufficient_quota")
    }

    private struct State {
        var http: LoopbackHTTPServer?
        var requests: [Request] = []
        var faults: [Fault] = []
        var textsEmbedded = 0
        var inFlight = 0
        var maxInFlight = 0
        var latency: Double
    }

    /// The width answered when a request sends no `dimensions`.
    package let dimensions: Int
    private let state: Mutex<State>

    /// `latency`: seconds every answer waits (so concurrent requests overlap measurably).
    package init(dimensions: Int = 16, latency: Double = 0) {
        self.dimensions = dimensions
        state = Mutex(State(latency: latency))
    }

    deinit { stop() }

    /// Starts listening on 127.0.0.1 (a free port); returns the port. Idempotent.
    @discardableResult
    package func start() throws -> Int {
        if let port = state.withLock({ $0.http?.port }) { return port }
        let http = try LoopbackHTTPServer(name: "embedding-test-server", keepAlive: true) { [weak self] request in
            guard let self else { return LoopbackHTTPServer.Response(status: 503, body: []) }
            return self.answer(request)
        }
        state.withLock { $0.http = http }
        return http.port
    }

    package func stop() {
        let http = state.withLock { s -> LoopbackHTTPServer? in
            defer { s.http = nil }
            return s.http
        }
        http?.stop()
    }

    package var port: Int? { state.withLock { $0.http?.port } }

    /// `http://127.0.0.1:PORT/v1` (cognee's and the worker's `EMBEDDING_ENDPOINT`); start first.
    package var endpoint: String { "http://127.0.0.1:\(port ?? 0)/v1" }

    package var requests: [Request] { state.withLock { $0.requests } }

    /// Texts answered with vectors (faulted answers excluded).
    package var textsEmbedded: Int { state.withLock { $0.textsEmbedded } }

    /// The most requests that were being answered at once.
    package var maxInFlight: Int { state.withLock { $0.maxInFlight } }

    /// The next `count` requests get `fault` (after any faults already queued).
    package func failNext(_ count: Int = 1, with fault: Fault) {
        state.withLock { $0.faults.append(contentsOf: Array(repeating: fault, count: count)) }
    }

    package func setLatency(_ seconds: Double) { state.withLock { $0.latency = seconds } }

    /// Forgets the recorded requests and counters (faults stay queued).
    package func resetRecording() {
        state.withLock { s in
            s.requests = []
            s.textsEmbedded = 0
            s.maxInFlight = 0
        }
    }

    // MARK: vectors

    /// The vector the server answers for `text` at width `dimensions`.
    package static func vector(for text: String, dimensions: Int) -> [Float] {
        var vector = [Float](repeating: 0, count: dimensions)
        let words = Self.words(text)
        for word in words {
            let digest = Digest.sha256(Array(word.utf8))
            let bucket = (UInt32(digest[0]) << 24 | UInt32(digest[1]) << 16 | UInt32(digest[2]) << 8 | UInt32(digest[3])) % UInt32(dimensions)
            vector[Int(bucket)] += 1
        }
        if words.isEmpty { vector[0] = 1 }
        return vector
    }

    /// Python's `re.findall(r"[a-z0-9]+", text.lower())`.
    static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                current.append(scalar)
            } else if !current.isEmpty {
                words.append(String(current))
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { words.append(String(current)) }
        return words
    }

    // MARK: answering

    private func answer(_ incoming: LoopbackHTTPServer.Request) -> LoopbackHTTPServer.Response {
        let (request, fault, latency) = state.withLock { s -> (Request, Fault?, Double) in
            let r = Request(method: incoming.method, target: incoming.target, headers: incoming.headers, body: incoming.body,
                            at: incoming.at, number: s.requests.count)
            s.requests.append(r)
            s.inFlight += 1
            s.maxInFlight = max(s.maxInFlight, s.inFlight)
            return (r, s.faults.isEmpty ? nil : s.faults.removeFirst(), s.latency)
        }
        defer { state.withLock { $0.inFlight -= 1 } }
        if latency > 0 { usleep(useconds_t(latency * 1_000_000)) }

        guard request.method == "POST", request.target.split(separator: "?").first?.hasSuffix("/embeddings") == true else {
            return Self.error(404, message: "no route \(request.method) \(request.target)", code: nil)
        }
        var width = request.dimensions.flatMap { $0 > 0 ? $0 : nil } ?? dimensions
        var nanIndex: Int?
        switch fault {
        case .status(let status, let retryAfter, let code)?:
            var response = Self.error(status, message: "scripted \(status)", code: code)
            if let retryAfter { response.headers.append(("Retry-After", retryAfter)) }
            return response
        case .delay(let seconds)?:
            usleep(useconds_t(seconds * 1_000_000))
        case .wrongDimensions(let w)?:
            width = w
        case .nan(let index)?:
            nanIndex = index
        case nil:
            break
        }
        let texts = request.texts
        var out = "{\"object\":\"list\",\"data\":["
        for (i, text) in texts.enumerated() {
            if i > 0 { out += "," }
            let vector = Self.vector(for: text, dimensions: width)
            let components = vector.enumerated().map { j, x in i == nanIndex && j == 0 ? "NaN" : Self.python(x) }
            out += "{\"object\":\"embedding\",\"index\":\(i),\"embedding\":[\(components.joined(separator: ","))]}"
        }
        let tokens = texts.reduce(0) { $0 + $1.split(whereSeparator: { $0.isWhitespace }).count }
        let model = JSONWriter.string(request.model.map { .string($0) } ?? .null, style: .compact)
        out += "],\"model\":\(model),\"usage\":{\"prompt_tokens\":\(tokens),\"total_tokens\":\(tokens)}}"
        if fault == nil { state.withLock { $0.textsEmbedded += texts.count } }
        return LoopbackHTTPServer.Response(status: 200, headers: [("Content-Type", "application/json")], body: Array(out.utf8))
    }

    /// Python's `repr` of a whole-number float: `1.0`.
    private static func python(_ x: Float) -> String {
        x == x.rounded() && abs(x) < 1e15 ? "\(Int(x)).0" : "\(x)"
    }

    private static func error(_ status: Int, message: String, code: String?) -> LoopbackHTTPServer.Response {
        var pairs: [(String, JSONValue)] = [("message", .string(message)), ("type", .string("scripted_error"))]
        pairs.append(("code", code.map { .string($0) } ?? .null))
        let body = JSONWriter.string(.object(JSONObject([("error", .object(JSONObject(pairs)))])), style: .compact)
        return LoopbackHTTPServer.Response(status: status, headers: [("Content-Type", "application/json")], body: Array(body.utf8))
    }
}
