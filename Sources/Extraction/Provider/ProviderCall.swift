import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Logging

/// One POST to an OpenAI-style provider (chat completions, embeddings) under the shared retry
/// policy, so every paid stage treats a provider alike:
///
/// * 429 (rate limit), 408 and 5xx are retried (``HTTPRetryPolicy``: full jitter, at least
///   `Retry-After`), up to `maxAttempts` attempts, then the run stops with exit 69;
/// * a timeout is retried the same way; after the last attempt the caller decides
///   (``Outcome/timedOut``: the LLM quarantines the request's turns, the embedder stops);
/// * a connection that cannot be made is retried, then the run stops (exit 69);
/// * 401/403 (key refused), 402 and 429 `insufficient_quota` (no credit), and 404 (no such
///   endpoint or model) stop the run at once (exit 69), naming the endpoint and what to check;
/// * any other answer (2xx, or a 4xx about this request) goes back to the caller.
///
/// Error bodies are bounded and scrubbed of the key before they reach a message.
struct ProviderCall: Sendable {
    var transport: LLMTransport
    var policy: HTTPRetryPolicy
    var apiKey: String?
    /// The endpoint as it may be logged.
    var endpoint: String
    var requestModel: String
    /// `LLM`, `embedding`: for log lines.
    var what: String
    /// What to check when the key is refused, e.g. `LLM_API_KEY`.
    var keyHint: String
    /// Said after a 404, e.g. ` (check EMBEDDING_ENDPOINT and EMBEDDING_MODEL)`.
    var notFoundHint: String
    var logger: Logger
    var unavailable: @Sendable (String) -> WorkerError

    enum Outcome: Sendable {
        case response(LLMTransport.Response)
        /// No complete answer within the timeout, `maxAttempts` times.
        case timedOut
    }

    func post(url: URL, headers: [String: String], body: [UInt8]) async throws -> Outcome {
        let attempts = policy.maxAttempts
        for attempt in 1...attempts {
            try Task.checkCancellation()
            let last = attempt == attempts
            let response: LLMTransport.Response
            do {
                response = try await transport.post(url: url, headers: headers, body: body)
            } catch let error as LLMTransport.Failure {
                switch error {
                case .timedOut:
                    if last { return .timedOut }
                    logger.warning("\(what) request timed out; retrying", metadata: [
                        "endpoint": "\(endpoint)", "attempt": "\(attempt)", "timeout_s": "\(transport.timeoutSeconds)"])
                case .connection(let message):
                    if last { throw unavailable("cannot connect after \(attempts) attempts: \(scrub(message))") }
                    logger.warning("\(what) connection failed; retrying", metadata: [
                        "endpoint": "\(endpoint)", "attempt": "\(attempt)", "error": "\(scrub(message))"])
                }
                try await Task.sleep(for: .seconds(policy.delay(attempt: attempt, retryAfter: nil)))
                continue
            }
            let status = response.status
            switch status {
            case 401, 403:
                throw unavailable("HTTP \(status): the API key was refused (check \(keyHint))\(errorCode(response.body))")
            case 402:
                throw unavailable("HTTP 402: payment required, the account has no credit\(errorCode(response.body))")
            case 429 where String(decoding: response.body, as: UTF8.self).contains("insufficient_quota"):
                throw unavailable("HTTP 429 insufficient_quota: the account's quota is used up")
            case 404:
                throw unavailable("HTTP 404: no such endpoint or model '\(requestModel)'\(notFoundHint)\(errorMessage(response.body))")
            case 408, 429, 500...599:
                if last { throw unavailable("HTTP \(status) after \(attempts) attempts\(errorMessage(response.body))") }
                let retryAfter = response.headers["retry-after"].flatMap(HTTPRetryPolicy.parseRetryAfter)
                let delay = policy.delay(attempt: attempt, retryAfter: retryAfter)
                logger.warning("\(what) request failed; retrying", metadata: [
                    "endpoint": "\(endpoint)", "status": "\(status)", "attempt": "\(attempt)",
                    "delay_s": "\(String(format: "%.2f", delay))"])
                try await Task.sleep(for: .seconds(delay))
            default:
                return .response(response)
            }
        }
        throw unavailable("no answer after \(attempts) attempts")
    }

    /// The message of an OpenAI-style error body, bounded and with the key removed.
    func errorMessage(_ body: [UInt8]) -> String {
        guard case .object(let object)? = try? JSONParser.parse(body), case .object(let error)? = object["error"],
              case .string(let message)? = error["message"] else { return "" }
        return ": " + scrub(String(message.prefix(300)))
    }

    /// Only the error's code or type (401 messages quote part of the key).
    func errorCode(_ body: [UInt8]) -> String {
        guard case .object(let object)? = try? JSONParser.parse(body), case .object(let error)? = object["error"] else { return "" }
        if case .string(let code)? = error["code"] { return " (\(scrub(String(code.prefix(60)))))" }
        if case .string(let type)? = error["type"] { return " (\(scrub(String(type.prefix(60)))))" }
        return ""
    }

    func scrub(_ text: String) -> String {
        guard let key = apiKey, key.count >= 4 else { return text }
        return text.replacingOccurrences(of: key, with: "***")
    }
}
