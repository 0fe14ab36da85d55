import Foundation
import MemifyCore
import GraphStore
import SessionCache
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Synchronization

/// One chat-completions call with the retry policy:
///
/// * 429 (rate limit), 408 and 5xx are retried, with exponential backoff and full jitter
///   (`random(0, min(maxRetryDelay, retryBaseDelay · 2^(attempt-1)))`), waiting at least what
///   `Retry-After` asks (seconds or an HTTP date; at most 10 minutes), up to `maxAttempts` attempts;
///   when they are used up the run stops with exit 69 (the service is unavailable).
/// * A request that gets no complete answer within `timeoutSeconds` is retried the same way;
///   after the last attempt its turns go to the quarantine (a turn too slow to answer is a
///   per-turn failure; replay retries it).
/// * A connection that cannot be made is retried, then stops the run (exit 69).
/// * 401/403 (key refused), 402 and 429 `insufficient_quota` (no credit), and 404 (no such
///   endpoint or model) are never retried: the run stops with exit 69, naming the endpoint.
/// * Other 4xx (e.g. 400 context too long) reject the request's turns: quarantine.
struct LLMClient: Sendable {
    let configuration: LLMConfiguration
    let transport: LLMTransport
    let logger: Logger

    enum Result: Sendable {
        /// The model's message content and the provider's usage, when it reported one.
        case answer(content: String, usage: (tokensIn: Int, tokensOut: Int)?)
        /// This request's turns cannot be extracted (reason safe to log; raw: what came back).
        case rejected(reason: String, raw: [UInt8])
    }

    init(configuration: LLMConfiguration, logger: Logger) {
        self.configuration = configuration
        self.transport = LLMTransport(timeoutSeconds: configuration.timeoutSeconds)
        self.logger = logger
    }

    private var endpoint: String { configuration.displayEndpoint }

    private var call: ProviderCall {
        let configuration = self.configuration, endpoint = self.endpoint
        return ProviderCall(transport: transport, policy: policy, apiKey: configuration.apiKey, endpoint: endpoint,
                            requestModel: configuration.requestModel, what: "LLM", keyHint: "LLM_API_KEY", notFoundHint: "",
                            logger: logger) { message in
            WorkerError(.serviceUnavailable, operation: "call the LLM at \(endpoint) (model \(configuration.model))", message: message)
        }
    }

    private var policy: HTTPRetryPolicy {
        HTTPRetryPolicy(maxAttempts: configuration.maxAttempts, baseDelay: configuration.retryBaseDelay, maxDelay: configuration.maxRetryDelay)
    }

    func send(body: [UInt8]) async throws -> Result {
        let call = self.call
        guard let url = configuration.chatCompletionsURL else { throw call.unavailable("the endpoint is not a valid URL") }
        var headers = ["Content-Type": "application/json", "Accept": "application/json"]
        if let key = configuration.apiKey, !key.isEmpty {
            if configuration.provider == .azure { headers["api-key"] = key } else { headers["Authorization"] = "Bearer " + key }
        }
        switch try await call.post(url: url, headers: headers, body: body) {
        case .timedOut:
            return .rejected(reason: "no answer from \(endpoint) within \(Int(configuration.timeoutSeconds))s, \(configuration.maxAttempts) attempts",
                             raw: [])
        case .response(let response) where (200..<300).contains(response.status):
            return Self.decode(response.body)
        case .response(let response):
            return .rejected(reason: "HTTP \(response.status) from \(endpoint)\(call.errorMessage(response.body))", raw: response.body)
        }
    }

    /// Full jitter, at least `Retry-After`, never more than ten minutes (``HTTPRetryPolicy``).
    func backoff(attempt: Int, retryAfter: Double?) -> Double { policy.delay(attempt: attempt, retryAfter: retryAfter) }

    /// `Retry-After: 7` or `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`, as seconds from now.
    static func parseRetryAfter(_ value: String) -> Double? { HTTPRetryPolicy.parseRetryAfter(value) }

    /// `choices[0].message.content` and `usage`; a body that is not a completion rejects the turns.
    static func decode(_ body: [UInt8]) -> Result {
        guard case .object(let object)? = try? JSONParser.parse(body) else {
            return .rejected(reason: "malformed JSON from the server (not a chat completion)", raw: body)
        }
        guard case .array(let choices)? = object["choices"], case .object(let choice)? = choices.first,
              case .object(let message)? = choice["message"] else {
            return .rejected(reason: "the server's answer has no choices[0].message", raw: body)
        }
        if case .string(let refusal)? = message["refusal"] {
            return .rejected(reason: "the model refused: \(refusal.prefix(200))", raw: body)
        }
        guard case .string(let content)? = message["content"] else {
            return .rejected(reason: "the server's answer has no message content", raw: body)
        }
        var usage: (Int, Int)?
        if case .object(let u)? = object["usage"], case .number(let p)? = u["prompt_tokens"], case .number(let c)? = u["completion_tokens"],
           let pi = Int(p.literal), let ci = Int(c.literal) {
            usage = (pi, ci)
        }
        return .answer(content: content, usage: usage)
    }
}

/// HTTP POST through URLSession (libcurl on Linux), with a total deadline per request: the
/// task is cancelled when the deadline passes, whatever the server is doing.
final class LLMTransport: Sendable {
    struct Response: Sendable {
        var status: Int
        /// Lowercased names.
        var headers: [String: String]
        var body: [UInt8]
    }

    enum Failure: Error, Sendable {
        case timedOut
        case connection(String)
    }

    let timeoutSeconds: Double
    private let session: URLSession

    init(timeoutSeconds: Double) {
        self.timeoutSeconds = timeoutSeconds
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeoutSeconds + 5
        configuration.timeoutIntervalForResource = timeoutSeconds + 10
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        session = URLSession(configuration: configuration)
    }

    deinit { session.finishTasksAndInvalidate() }

    private final class Call: Sendable {
        private struct State { var task: URLSessionDataTask?; var finished = false; var timedOut = false; var cancelled = false }
        private let state = Mutex(State())
        func start(_ task: URLSessionDataTask) {
            let cancelled = state.withLock { s -> Bool in s.task = task; return s.cancelled }
            if cancelled { task.cancel() }
        }
        /// Marks the call finished; returns whether it had timed out.
        func finish() -> Bool { state.withLock { s in s.finished = true; return s.timedOut } }
        func timeOut() {
            let task = state.withLock { s -> URLSessionDataTask? in
                guard !s.finished else { return nil }
                s.timedOut = true
                return s.task
            }
            task?.cancel()
        }
        func cancel() {
            let task = state.withLock { s -> URLSessionDataTask? in s.cancelled = true; return s.finished ? nil : s.task }
            task?.cancel()
        }
    }

    func post(url: URL, headers: [String: String], body: [UInt8]) async throws -> Response {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = Data(body)
        request.timeoutInterval = timeoutSeconds + 5
        let call = Call()
        let timeout = timeoutSeconds
        let session = self.session
        let frozen = request
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Response, any Error>) in
                let task = session.dataTask(with: frozen) { data, response, error in
                    let timedOut = call.finish()
                    if timedOut {
                        continuation.resume(throwing: Failure.timedOut)
                    } else if let error {
                        let nsError = error as NSError
                        if nsError.code == NSURLErrorCancelled {
                            continuation.resume(throwing: CancellationError())
                        } else if nsError.code == NSURLErrorTimedOut {
                            continuation.resume(throwing: Failure.timedOut)
                        } else {
                            continuation.resume(throwing: Failure.connection(nsError.localizedDescription))
                        }
                    } else if let http = response as? HTTPURLResponse {
                        var fields: [String: String] = [:]
                        for (name, value) in http.allHeaderFields {
                            if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
                        }
                        continuation.resume(returning: Response(status: http.statusCode, headers: fields, body: [UInt8](data ?? Data())))
                    } else {
                        continuation.resume(throwing: Failure.connection("not an HTTP response"))
                    }
                }
                call.start(task)
                task.resume()
                DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { call.timeOut() }
            }
        } onCancel: {
            call.cancel()
        }
    }
}
