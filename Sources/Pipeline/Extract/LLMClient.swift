import Foundation
import GraphStore
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

    private func unavailable(_ message: String) -> PipelineError {
        PipelineError(.serviceUnavailable, operation: "call the LLM at \(endpoint) (model \(configuration.model))", message: message)
    }

    func send(body: [UInt8]) async throws -> Result {
        guard let url = configuration.chatCompletionsURL else { throw unavailable("the endpoint is not a valid URL") }
        var headers = ["Content-Type": "application/json", "Accept": "application/json"]
        if let key = configuration.apiKey, !key.isEmpty {
            if configuration.provider == .azure { headers["api-key"] = key } else { headers["Authorization"] = "Bearer " + key }
        }
        let attempts = configuration.maxAttempts
        for attempt in 1...attempts {
            try Task.checkCancellation()
            let last = attempt == attempts
            let response: LLMTransport.Response
            do {
                response = try await transport.post(url: url, headers: headers, body: body)
            } catch let error as LLMTransport.Failure {
                switch error {
                case .timedOut:
                    if last {
                        return .rejected(reason: "no answer from \(endpoint) within \(Int(configuration.timeoutSeconds))s, \(attempts) attempts",
                                         raw: [])
                    }
                    logger.warning("LLM request timed out; retrying", metadata: [
                        "endpoint": "\(endpoint)", "attempt": "\(attempt)", "timeout_s": "\(configuration.timeoutSeconds)"])
                case .connection(let message):
                    if last { throw unavailable("cannot connect after \(attempts) attempts: \(message)") }
                    logger.warning("LLM connection failed; retrying", metadata: [
                        "endpoint": "\(endpoint)", "attempt": "\(attempt)", "error": "\(message)"])
                }
                try await Task.sleep(for: .seconds(backoff(attempt: attempt, retryAfter: nil)))
                continue
            }
            let status = response.status
            switch status {
            case 200..<300:
                return Self.decode(response.body)
            case 401, 403:
                throw unavailable("HTTP \(status): the API key was refused (check LLM_API_KEY)\(errorCode(response.body))")
            case 402:
                throw unavailable("HTTP 402: payment required, the account has no credit\(errorCode(response.body))")
            case 429 where String(decoding: response.body, as: UTF8.self).contains("insufficient_quota"):
                throw unavailable("HTTP 429 insufficient_quota: the account's quota is used up")
            case 404:
                throw unavailable("HTTP 404: no such endpoint or model '\(configuration.requestModel)'\(errorMessage(response.body))")
            case 408, 429, 500...599:
                if last { throw unavailable("HTTP \(status) after \(attempts) attempts\(errorMessage(response.body))") }
                let retryAfter = response.headers["retry-after"].flatMap(Self.parseRetryAfter)
                let delay = backoff(attempt: attempt, retryAfter: retryAfter)
                logger.warning("LLM request failed; retrying", metadata: [
                    "endpoint": "\(endpoint)", "status": "\(status)", "attempt": "\(attempt)",
                    "delay_s": "\(String(format: "%.2f", delay))"])
                try await Task.sleep(for: .seconds(delay))
            default:
                return .rejected(reason: "HTTP \(status) from \(endpoint)\(errorMessage(response.body))", raw: response.body)
            }
        }
        throw unavailable("no answer after \(attempts) attempts")
    }

    /// Full jitter, at least `Retry-After`, never more than ten minutes (``HTTPRetryPolicy``).
    func backoff(attempt: Int, retryAfter: Double?) -> Double {
        HTTPRetryPolicy(maxAttempts: configuration.maxAttempts, baseDelay: configuration.retryBaseDelay,
                        maxDelay: configuration.maxRetryDelay).delay(attempt: attempt, retryAfter: retryAfter)
    }

    /// `Retry-After: 7` or `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`, as seconds from now.
    static func parseRetryAfter(_ value: String) -> Double? { HTTPRetryPolicy.parseRetryAfter(value) }

    /// The message of an OpenAI-style error body, bounded and with the key removed.
    private func errorMessage(_ body: [UInt8]) -> String {
        guard case .object(let object)? = try? JSONParser.parse(body), case .object(let error)? = object["error"],
              case .string(let message)? = error["message"] else { return "" }
        return ": " + scrub(String(message.prefix(300)))
    }

    /// Only the error's code or type (401 messages quote part of the key).
    private func errorCode(_ body: [UInt8]) -> String {
        guard case .object(let object)? = try? JSONParser.parse(body), case .object(let error)? = object["error"] else { return "" }
        if case .string(let code)? = error["code"] { return " (\(scrub(String(code.prefix(60)))))" }
        if case .string(let type)? = error["type"] { return " (\(scrub(String(type.prefix(60)))))" }
        return ""
    }

    private func scrub(_ text: String) -> String {
        guard let key = configuration.apiKey, key.count >= 4 else { return text }
        return text.replacingOccurrences(of: key, with: "***")
    }

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
