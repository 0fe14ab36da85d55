import Foundation
import MemifyCore
import GraphStore
import SessionCache
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging

/// One `/v1/embeddings` request for a list of texts, with the LLM client's retry policy:
///
/// * 429 (rate limit), 408 and 5xx are retried with exponential backoff and full jitter,
///   waiting at least what `Retry-After` asks (``HTTPRetryPolicy``), up to `maxAttempts`
///   attempts; timeouts and connections that cannot be made are retried the same way.
/// * 401/403 (key refused), 402 and 429 `insufficient_quota` (no credit), and 404 (no such
///   endpoint or model) are never retried.
/// * Every failure is a `WorkerError(.serviceUnavailable)` (exit 69) naming the endpoint
///   (masked) and the model. Unlike a chat completion, an embedding has no per-turn quarantine
///   to fall back on: the vectors of a batch are written with its graph rows or not at all, so a
///   request that cannot be answered stops the run, and the next run resumes.
/// * The answer is checked before anything is cached or written: `data[].embedding` ordered by
///   `index`, one per text, each exactly `dimensions` long, every component finite as a float32.
///   A wrong width is `.serviceUnavailable` too, not `.usage`: the worker cannot tell whether
///   `EMBEDDING_DIMENSIONS` or the server is wrong (a server restarted with another model looks
///   the same), the run must stop before writing either way, and the message names both widths
///   and what to set. The configured width is what cognee's collections are made with, so it
///   must not be adjusted to the answer.
/// * The key is sent only in its header; error bodies are bounded and scrubbed of it.
struct EmbeddingClient: Sendable {
    let configuration: EmbeddingConfiguration
    let transport: LLMTransport
    let logger: Logger

    struct Answer: Sendable {
        /// One per text, in the order of the texts.
        var vectors: [[Float]]
        /// The provider's `usage.prompt_tokens`, when it reported one.
        var promptTokens: Int?
    }

    init(configuration: EmbeddingConfiguration, logger: Logger) {
        self.configuration = configuration
        self.transport = LLMTransport(timeoutSeconds: configuration.timeoutSeconds)
        self.logger = logger
    }

    private var endpoint: String { configuration.displayEndpoint }

    func unavailable(_ message: String) -> WorkerError {
        WorkerError(.serviceUnavailable, operation: "embed texts at \(endpoint) (model \(configuration.model))",
                      message: message)
    }

    /// The request body (vectors spec §4.2): `model` and `input`, plus `dimensions` for OpenAI
    /// and Azure, or `encoding_format: "float"` for the OpenAI-compatible engines.
    static func requestBody(_ texts: [String], configuration: EmbeddingConfiguration) -> [UInt8] {
        var pairs: [(String, JSONValue)] = [("model", .string(configuration.requestModel)), ("input", .array(texts.map { .string($0) }))]
        if configuration.sendsDimensions {
            pairs.append(("dimensions", .number(JSONNumber(configuration.dimensions))))
        } else if configuration.provider != .openai && configuration.provider != .azure {
            pairs.append(("encoding_format", .string("float")))
        }
        var out: [UInt8] = []
        JSONWriter.write(.object(JSONObject(pairs)), style: .compact, into: &out)
        return out
    }

    private var call: ProviderCall {
        let configuration = self.configuration, endpoint = self.endpoint
        return ProviderCall(transport: transport, policy: HTTPRetryPolicy(maxAttempts: configuration.maxAttempts,
                                                                          baseDelay: configuration.retryBaseDelay,
                                                                          maxDelay: configuration.maxRetryDelay),
                            apiKey: configuration.apiKey, endpoint: endpoint, requestModel: configuration.requestModel, what: "embedding",
                            keyHint: "EMBEDDING_API_KEY, or LLM_API_KEY it falls back to",
                            notFoundHint: " (check EMBEDDING_ENDPOINT and EMBEDDING_MODEL)", logger: logger) { message in
            WorkerError(.serviceUnavailable, operation: "embed texts at \(endpoint) (model \(configuration.model))", message: message)
        }
    }

    func embed(_ texts: [String]) async throws -> Answer {
        guard let url = configuration.embeddingsURL else { throw unavailable("the endpoint is not a valid URL") }
        let call = self.call
        switch try await call.post(url: url, headers: configuration.headers, body: Self.requestBody(texts, configuration: configuration)) {
        case .timedOut:
            throw unavailable("no answer within \(String(format: "%.2f", configuration.timeoutSeconds))s, \(configuration.maxAttempts) attempts")
        case .response(let response) where (200..<300).contains(response.status):
            return try decode(response.body, count: texts.count)
        case .response(let response):
            // 400 and the like: the same request would be refused again.
            throw unavailable("HTTP \(response.status)\(call.errorMessage(response.body))")
        }
    }

    /// `data[].embedding` by `index` and `usage.prompt_tokens`, checked as the type's comment says.
    func decode(_ body: [UInt8], count: Int) throws -> Answer {
        guard case .object(let object)? = try? JSONParser.parse(body) else {
            throw unavailable("the answer is not JSON (not an embeddings response)")
        }
        guard case .array(let data)? = object["data"] else { throw unavailable("the answer has no data array") }
        guard data.count == count else {
            throw unavailable("the answer has \(data.count) embeddings for \(count) texts")
        }
        let width = configuration.dimensions
        var vectors = [[Float]?](repeating: nil, count: count)
        for (position, item) in data.enumerated() {
            guard case .object(let entry) = item else { throw unavailable("data[\(position)] is not an object") }
            var index = position
            if case .number(let n)? = entry["index"] {
                guard let i = Int(n.literal), i >= 0, i < count, vectors[i] == nil else {
                    throw unavailable("data[\(position)] has index \(n.literal.prefix(20)), not one of 0..<\(count) used once")
                }
                index = i
            }
            let vector: [Float]
            switch entry["embedding"] {
            case .array(let components)?:
                var v: [Float] = []
                v.reserveCapacity(components.count)
                for component in components {
                    guard case .number(let n) = component, let d = n.doubleValue else {
                        throw unavailable("the embedding of text \(index) has a component that is not a number")
                    }
                    v.append(Float(d))
                }
                vector = v
            case .string(let base64)?:
                guard let decoded = Self.floats(base64: base64) else {
                    throw unavailable("the embedding of text \(index) is a string that is not base64 float32")
                }
                vector = decoded
            default:
                throw unavailable("data[\(position)] has no embedding")
            }
            guard vector.count == width else {
                throw unavailable("the service answered \(vector.count)-dimensional vectors, EMBEDDING_DIMENSIONS is \(width): "
                                  + "set it to the model's width (the width cognee's collections are made with), or serve the model it names")
            }
            if let bad = vector.firstIndex(where: { !$0.isFinite }) {
                throw unavailable("the embedding of text \(index) (0-based, in the request) has a non-finite component "
                                  + "(\(vector[bad]) at \(bad)); nothing of the batch is written")
            }
            vectors[index] = vector
        }
        var tokens: Int?
        if case .object(let usage)? = object["usage"], case .number(let n)? = usage["prompt_tokens"], let t = Int(n.literal), t >= 0 {
            tokens = t
        }
        return Answer(vectors: vectors.map { $0! }, promptTokens: tokens)
    }

    /// `encoding_format: base64` answers: little-endian float32.
    static func floats(base64: String) -> [Float]? {
        guard let data = Data(base64Encoded: base64), data.count % 4 == 0 else { return nil }
        return stride(from: 0, to: data.count, by: 4).map { i in
            let bits = UInt32(data[data.startIndex + i]) | UInt32(data[data.startIndex + i + 1]) << 8
                | UInt32(data[data.startIndex + i + 2]) << 16 | UInt32(data[data.startIndex + i + 3]) << 24
            return Float(bitPattern: bits)
        }
    }

    private func format(_ seconds: Double) -> String { String(format: "%.2f", seconds) }
}
