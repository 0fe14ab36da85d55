package import MemifyCore
import GraphStore
import SessionCache
package import Foundation

/// Values given on the command line; each wins over its environment variable. The API key has
/// no flag (a flag would show in `ps`): it is read from the environment only.
package struct EmbeddingOverrides: Sendable {
    package var provider: String?
    package var model: String?
    package var endpoint: String?
    package var dimensions: Int?
    package var batchSize: Int?
    /// cognee's `EMBEDDING_MAX_CONCURRENT_DATA_POINTS`: texts in flight, not requests.
    package var maxConcurrentDataPoints: Int?
    package var timeoutSeconds: Double?
    package var maxAttempts: Int?

    package init(provider: String? = nil, model: String? = nil, endpoint: String? = nil, dimensions: Int? = nil,
                batchSize: Int? = nil, maxConcurrentDataPoints: Int? = nil, timeoutSeconds: Double? = nil,
                maxAttempts: Int? = nil) {
        self.provider = provider
        self.model = model
        self.endpoint = endpoint
        self.dimensions = dimensions
        self.batchSize = batchSize
        self.maxConcurrentDataPoints = maxConcurrentDataPoints
        self.timeoutSeconds = timeoutSeconds
        self.maxAttempts = maxAttempts
    }
}

/// The embedding model cognee is configured with, resolved once at the edge from cognee's own
/// variables (`infrastructure/databases/vector/embeddings/config.py`, vectors spec §4.1) and the
/// flags, and frozen here. Vectors the worker writes must come from the model and width cognee
/// searches with, so the names, defaults and fallbacks are cognee's.
package struct EmbeddingConfiguration: Sendable, Equatable {
    package enum Provider: String, Sendable, Equatable {
        /// OpenAI through litellm in cognee: `dimensions` is sent, the provider prefix stripped.
        case openai
        /// Azure OpenAI: a deployment URL, `api-version`, and an `api-key` header.
        case azure
        /// cognee's `OpenAICompatibleEmbeddingEngine`: no `dimensions`, `encoding_format: "float"`.
        case openaiCompatible = "openai_compatible"
        /// Ollama's OpenAI-compatible `/v1/embeddings`, with the openai_compatible body.
        case ollama
        /// Any other provider name (vLLM, text-embeddings-inference, a LiteLLM proxy): treated as
        /// OpenAI-compatible, because that is the one protocol all of them speak.
        case custom
    }

    package var provider: Provider
    /// `EMBEDDING_PROVIDER` as configured (lowercased), for messages.
    package var providerName: String
    /// `EMBEDDING_MODEL` as configured (`openai/text-embedding-3-large`): cached, recorded and
    /// priced by this string, as cognee records it.
    package var model: String
    /// As configured; see ``embeddingsURL`` for where requests go.
    package var endpoint: String
    /// Never logged, never stored, never part of an error.
    package var apiKey: String?
    /// Azure's `api-version` query parameter.
    package var apiVersion: String?
    package var dimensions: Int
    /// Texts per request (`EMBEDDING_BATCH_SIZE`).
    package var batchSize: Int
    /// `EMBEDDING_MAX_CONCURRENT_DATA_POINTS`: see ``concurrency``.
    package var maxConcurrentDataPoints: Int
    /// A request without a complete answer in this time is retried.
    package var timeoutSeconds: Double
    package var maxAttempts: Int
    /// The first retry's backoff ceiling; doubles each attempt, capped at ``maxRetryDelay``.
    package var retryBaseDelay: Double
    package var maxRetryDelay: Double

    package static let defaultProvider = "openai"
    package static let defaultModel = "openai/text-embedding-3-large"
    package static let defaultBatchSize = 32
    package static let defaultMaxConcurrentDataPoints = 150
    package static let defaultAzureAPIVersion = "2024-10-21"

    package init(provider: Provider = .openai, providerName: String? = nil, model: String = defaultModel, endpoint: String,
                apiKey: String? = nil, apiVersion: String? = nil, dimensions: Int, batchSize: Int = defaultBatchSize,
                maxConcurrentDataPoints: Int = defaultMaxConcurrentDataPoints, timeoutSeconds: Double = 60, maxAttempts: Int = 5,
                retryBaseDelay: Double = 1, maxRetryDelay: Double = 30) {
        self.provider = provider
        self.providerName = providerName ?? provider.rawValue
        self.model = model
        self.endpoint = endpoint
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.dimensions = max(1, dimensions)
        self.batchSize = max(1, batchSize)
        self.maxConcurrentDataPoints = max(1, maxConcurrentDataPoints)
        self.timeoutSeconds = timeoutSeconds > 0 ? timeoutSeconds : 60
        self.maxAttempts = max(1, maxAttempts)
        self.retryBaseDelay = max(0, retryBaseDelay)
        self.maxRetryDelay = max(0, maxRetryDelay)
    }

    /// Requests in flight at once: cognee's `max(1, EMBEDDING_MAX_CONCURRENT_DATA_POINTS // EMBEDDING_BATCH_SIZE)`.
    package var concurrency: Int { max(1, maxConcurrentDataPoints / batchSize) }

    /// `<model>@<dimensions>`: vectors of one identity are interchangeable (``TextEmbedding/identity``).
    package var identity: String { "\(model)@\(dimensions)" }

    /// The model name the server is asked for. For the providers cognee routes through litellm
    /// (openai, azure, anything else) a litellm provider prefix is stripped, as litellm does
    /// (`openai/text-embedding-3-small` → `text-embedding-3-small`); `BAAI/bge-small-en-v1.5` is
    /// not a provider and stays. openai_compatible and ollama send the name as configured, as
    /// cognee's own engines for them do.
    package var requestModel: String {
        guard provider != .openaiCompatible, provider != .ollama, let slash = model.firstIndex(of: "/") else { return model }
        let head = model[..<slash].lowercased()
        guard head == providerName || LLMConfiguration.providerPrefixes.contains(head) else { return model }
        return String(model[model.index(after: slash)...])
    }

    /// Whether the request carries `dimensions` (vectors spec §4.2): litellm sends it for OpenAI
    /// and Azure; cognee's openai_compatible engine never does. Not for `text-embedding-ada-002`,
    /// which OpenAI refuses the parameter for (its width is fixed at 1536).
    package var sendsDimensions: Bool {
        guard provider == .openai || provider == .azure else { return false }
        return !requestModel.lowercased().hasPrefix("text-embedding-ada-002")
    }

    /// Where requests go. OpenAI-style endpoints are normalised as cognee's openai_compatible
    /// engine normalises its base URL, so `http://h:p`, `http://h:p/v1`, `http://h:p/v1/` and
    /// `http://h:p/v1/embeddings` all post to `http://h:p/v1/embeddings`. Ollama's native paths
    /// (`/api/embed`, `/api/embeddings`, cognee's default for that provider) are mapped to the
    /// same server's OpenAI-compatible `/v1/embeddings`. Azure: `…/openai/deployments/<model>/embeddings?api-version=…`.
    package var embeddingsURL: URL? {
        guard var components = URLComponents(string: endpoint) else { return nil }
        var path = components.path
        while path.hasSuffix("/") { path.removeLast() }
        switch provider {
        case .azure:
            if path.hasSuffix("/embeddings") {
                // A full deployment URL, given as it is.
            } else if path.contains("/openai/deployments/") {
                path += "/embeddings"
            } else {
                let deployment = requestModel.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? requestModel
                path += "/openai/deployments/\(deployment)/embeddings"
            }
            var items = (components.queryItems ?? []).filter { $0.name != "api-version" }
            items.append(URLQueryItem(name: "api-version", value: apiVersion ?? Self.defaultAzureAPIVersion))
            components.queryItems = items
        case .openai, .openaiCompatible, .ollama, .custom:
            if provider == .ollama, path.hasSuffix("/api/embed") || path.hasSuffix("/api/embeddings") {
                path = String(path[..<path.range(of: "/api/", options: .backwards)!.lowerBound])
            }
            if path.hasSuffix("/embeddings") {
                // Already the embeddings path.
            } else if path.hasSuffix("/v1") {
                path += "/embeddings"
            } else {
                path += "/v1/embeddings"
            }
        }
        components.path = path
        return components.url
    }

    /// The endpoint for messages: user info and query dropped (a key there must not leak).
    package var displayEndpoint: String {
        guard var components = URLComponents(string: endpoint) else { return "(unparseable endpoint)" }
        components.user = nil
        components.password = nil
        components.query = nil
        return components.string ?? "(unparseable endpoint)"
    }

    /// Request headers: `Authorization: Bearer <key>`, or Azure's `api-key`; none without a key.
    var headers: [String: String] {
        var headers = ["Content-Type": "application/json", "Accept": "application/json"]
        if let key = apiKey, !key.isEmpty {
            if provider == .azure { headers["api-key"] = key } else { headers["Authorization"] = "Bearer " + key }
        }
        return headers
    }

    // MARK: known widths

    /// Native widths of common embedding models, so the usual setups need no
    /// `EMBEDDING_DIMENSIONS`. Keys are the model's last path component, lowercased, without an
    /// Ollama tag (`nomic-embed-text:latest`).
    package static let knownDimensions: [String: Int] = [
        "text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536,
        "nomic-embed-text": 768, "nomic-embed-text-v1.5": 768, "mxbai-embed-large": 1024, "mxbai-embed-large-v1": 1024,
        "all-minilm": 384, "all-minilm-l6-v2": 384, "snowflake-arctic-embed": 1024,
        "bge-small-en-v1.5": 384, "bge-base-en-v1.5": 768, "bge-large-en-v1.5": 1024, "bge-m3": 1024,
        "e5-small-v2": 384, "e5-base-v2": 768, "e5-large-v2": 1024,
        "multilingual-e5-small": 384, "multilingual-e5-base": 768, "multilingual-e5-large": 1024,
    ]

    /// The native width of `model`, with or without a provider prefix; nil when unknown.
    package static func knownDimensions(of model: String) -> Int? {
        var key = (model.split(separator: "/").last.map(String.init) ?? model).lowercased()
        if let colon = key.firstIndex(of: ":") { key = String(key[..<colon]) }
        return knownDimensions[key]
    }

    // MARK: resolution

    /// Resolves the configuration: a flag (``EmbeddingOverrides``) wins over cognee's variable,
    /// which wins over cognee's default. nil when no endpoint is configured (neither
    /// `EMBEDDING_ENDPOINT`, `EMBEDDING_API_BASE` nor a flag): vectors are then off and the run
    /// writes the graph only (issue 19).
    ///
    /// * Key: `EMBEDDING_API_KEY`, else cognee's fallback (`get_embedding_engine.py`):
    ///   `LLM_API_KEY`, except for the litellm-routed providers when `LLM_PROVIDER=custom`;
    ///   openai_compatible then sends `no-key-required`, as cognee does.
    /// * Width: `EMBEDDING_DIMENSIONS`, else ``knownDimensions(of:)``; an unknown model without a
    ///   width is a usage error (cognee would fall back to 3072 or adopt the first vector's
    ///   length; guessing here would write a collection cognee then refuses).
    /// * A value that is not a positive integer is a usage error naming the variable and value.
    package static func resolve(environment: [String: String], overrides: EmbeddingOverrides = EmbeddingOverrides())
        throws(WorkerError) -> EmbeddingConfiguration? {
        let operation = "configure the embedding model"
        func value(_ names: String...) -> String? {
            for name in names {
                if let v = environment[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty { return v }
            }
            return nil
        }
        func positive(_ flag: Int?, flagName: String, _ variable: String, default fallback: Int?) throws(WorkerError) -> Int? {
            if let flag {
                guard flag > 0 else {
                    throw WorkerError(.usage, operation: operation, message: "\(flagName) \(flag) must be a positive integer")
                }
                return flag
            }
            guard let text = value(variable) else { return fallback }
            guard let n = Int(text), n > 0 else {
                throw WorkerError(.usage, operation: operation, message: "\(variable)='\(text.prefix(40))' is not a positive integer")
            }
            return n
        }

        guard let endpoint = overrides.endpoint.flatMap({ $0.isEmpty ? nil : $0 }) ?? value("EMBEDDING_ENDPOINT", "EMBEDDING_API_BASE")
        else { return nil }
        let providerName = (overrides.provider.flatMap { $0.isEmpty ? nil : $0 } ?? value("EMBEDDING_PROVIDER") ?? defaultProvider)
            .lowercased()
        let provider: Provider
        switch providerName {
        case "openai": provider = .openai
        case "azure", "azure_openai": provider = .azure
        case "openai_compatible": provider = .openaiCompatible
        case "ollama": provider = .ollama
        case "fastembed":
            throw WorkerError(.unsupported, operation: operation,
                                message: "EMBEDDING_PROVIDER=fastembed runs the model inside cognee's Python process; the worker needs an "
                                    + "HTTP endpoint: serve the model (e.g. text-embeddings-inference) and use openai_compatible")
        default: provider = .custom
        }
        guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.host != nil else {
            throw WorkerError(.usage, operation: operation, message: "the embedding endpoint is not an http(s) URL (EMBEDDING_ENDPOINT)")
        }
        let model = overrides.model.flatMap { $0.isEmpty ? nil : $0 } ?? value("EMBEDDING_MODEL") ?? defaultModel

        let width = try positive(overrides.dimensions, flagName: "--embedding-dimensions", "EMBEDDING_DIMENSIONS",
                                 default: knownDimensions(of: model))
        guard let dimensions = width else {
            throw WorkerError(.usage, operation: operation,
                                message: "the width of embedding model '\(model)' is not known: set EMBEDDING_DIMENSIONS "
                                    + "(or --embedding-dimensions) to the model's vector length, as cognee is configured")
        }
        let batchSize = try positive(overrides.batchSize, flagName: "--embedding-batch-size", "EMBEDDING_BATCH_SIZE",
                                     default: defaultBatchSize) ?? defaultBatchSize
        let concurrent = try positive(overrides.maxConcurrentDataPoints, flagName: "--embedding-max-concurrent-data-points",
                                      "EMBEDDING_MAX_CONCURRENT_DATA_POINTS", default: defaultMaxConcurrentDataPoints)
            ?? defaultMaxConcurrentDataPoints

        var key = value("EMBEDDING_API_KEY")
        if key == nil {
            switch provider {
            case .openaiCompatible: key = value("LLM_API_KEY") ?? "no-key-required"
            case .ollama: key = value("LLM_API_KEY")
            case .openai, .azure, .custom: key = value("LLM_PROVIDER")?.lowercased() == "custom" ? nil : value("LLM_API_KEY")
            }
        }
        if let timeout = overrides.timeoutSeconds, !(timeout > 0 && timeout.isFinite) {
            throw WorkerError(.usage, operation: operation, message: "--embedding-timeout \(timeout) must be a positive number of seconds")
        }
        if let attempts = overrides.maxAttempts, attempts < 1 {
            throw WorkerError(.usage, operation: operation, message: "--embedding-max-attempts \(attempts) must be at least 1")
        }
        return EmbeddingConfiguration(provider: provider, providerName: providerName, model: model, endpoint: endpoint, apiKey: key,
                                      apiVersion: value("EMBEDDING_API_VERSION"), dimensions: dimensions, batchSize: batchSize,
                                      maxConcurrentDataPoints: concurrent, timeoutSeconds: overrides.timeoutSeconds ?? 60,
                                      maxAttempts: overrides.maxAttempts ?? 5)
    }
}

/// A printed configuration (a log line, a test failure) never shows the key.
extension EmbeddingConfiguration: CustomStringConvertible {
    package var description: String {
        "EmbeddingConfiguration(provider: \(providerName), model: \(model), endpoint: \(displayEndpoint), "
            + "key: \(apiKey == nil ? "none" : "***"), dimensions: \(dimensions), batch: \(batchSize), concurrency: \(concurrency))"
    }
}

extension EmbeddingConfiguration {
    /// What the run says when vectors are off, and what cognee can then find.
    package static let offNote = "vectors: off (no EMBEDDING_ENDPOINT or --embedding-endpoint): cognee reads every row written, and finds these turns by graph reads and lexical chunk search only; its default searches (HYBRID_COMPLETION, GRAPH_COMPLETION) start from vector collections and will not find them"
}
