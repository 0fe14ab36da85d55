package import MemifyCore
import GraphStore
import SessionCache
import Foundation

/// Everything the LLM extractor needs, resolved once at the edge (flags, then `MEMIFY_LLM_*`,
/// then cognee's `LLM_*`, then defaults) and frozen here.
package struct LLMConfiguration: Sendable {
    package enum Provider: String, Sendable {
        /// OpenAI and every OpenAI-compatible server (vLLM, LiteLLM, Ollama's `/v1`, custom).
        case openai, azure, ollama, custom
    }

    package enum ResponseFormat: String, Sendable, CaseIterable {
        /// `response_format: {type: json_schema, strict: true}` (OpenAI, Azure, recent Ollama and vLLM).
        case jsonSchema = "json_schema"
        /// `response_format: {type: json_object}`, for servers without structured outputs.
        case jsonObject = "json_object"
        /// No `response_format`; the prompt alone asks for JSON.
        case none
    }

    package var provider: Provider
    /// The provider string as configured (`openai`, `azure`, `hosted_vllm`, …), for messages.
    package var providerName: String
    /// e.g. `https://api.openai.com/v1`; `/chat/completions` is appended.
    package var endpoint: String
    /// The model as configured (`openai/gpt-4o-mini`): recorded and priced by this string.
    package var model: String
    /// Never logged, never stored, never part of an error.
    package var apiKey: String?
    /// Azure's `api-version` query parameter.
    package var apiVersion: String?
    package var timeoutSeconds: Double
    package var turnsPerRequest: Int
    package var maxAttempts: Int
    /// The first retry's backoff ceiling; doubles each attempt, capped at ``maxRetryDelay``.
    package var retryBaseDelay: Double
    package var maxRetryDelay: Double
    package var responseFormat: ResponseFormat
    /// Per-run budgets; nil: unlimited.
    package var maxTokens: Int?
    package var maxCostUSD: Double?

    package static let defaultEndpoint = "https://api.openai.com/v1"
    package static let defaultModel = "openai/gpt-4o-mini"

    package init(provider: Provider = .openai, providerName: String = "openai", endpoint: String = defaultEndpoint,
                model: String = defaultModel, apiKey: String? = nil, apiVersion: String? = nil, timeoutSeconds: Double = 60,
                turnsPerRequest: Int = 8, maxAttempts: Int = 5, retryBaseDelay: Double = 1, maxRetryDelay: Double = 30,
                responseFormat: ResponseFormat = .jsonSchema, maxTokens: Int? = nil, maxCostUSD: Double? = nil) {
        self.provider = provider
        self.providerName = providerName
        self.endpoint = endpoint
        self.model = model
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.timeoutSeconds = timeoutSeconds
        self.turnsPerRequest = max(1, turnsPerRequest)
        self.maxAttempts = max(1, maxAttempts)
        self.retryBaseDelay = max(0, retryBaseDelay)
        self.maxRetryDelay = max(0, maxRetryDelay)
        self.responseFormat = responseFormat
        self.maxTokens = maxTokens
        self.maxCostUSD = maxCostUSD
    }

    /// Provider prefixes (litellm's) that are not part of the model name the server knows.
    static let providerPrefixes: Set<String> = ["openai", "azure", "ollama", "ollama_chat", "hosted_vllm", "vllm", "custom",
                                                "litellm_proxy", "openai_compatible"]

    /// The model name sent in the request: `openai/gpt-4o-mini` → `gpt-4o-mini` when the first
    /// part names the configured provider or a litellm provider prefix; `meta-llama/Llama-3` (a
    /// vLLM model id) is sent as it is.
    package var requestModel: String {
        guard let slash = model.firstIndex(of: "/") else { return model }
        let head = model[..<slash].lowercased()
        guard head == providerName.lowercased() || Self.providerPrefixes.contains(head) else { return model }
        return String(model[model.index(after: slash)...])
    }

    /// `{endpoint}/chat/completions`, plus `?api-version=` for Azure.
    var chatCompletionsURL: URL? {
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        var text = base + "/chat/completions"
        if provider == .azure {
            let version = apiVersion ?? "2024-10-21"
            text += "?api-version=" + (version.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? version)
        }
        return URL(string: text)
    }

    /// The endpoint for messages: user info and query dropped (a key there must not leak).
    package var displayEndpoint: String {
        guard var components = URLComponents(string: endpoint) else { return "(unparseable endpoint)" }
        components.user = nil
        components.password = nil
        components.query = nil
        return components.string ?? "(unparseable endpoint)"
    }

    /// Resolves the configuration: explicit values (flags) first, then `MEMIFY_LLM_*`, then
    /// cognee's `LLM_PROVIDER`, `LLM_MODEL`, `LLM_ENDPOINT`, `LLM_API_KEY`, `LLM_API_VERSION`.
    /// The key is read from the environment only (a flag would show in `ps`).
    package static func resolve(endpoint: String?, model: String?, environment: [String: String], requireKey: Bool = true) throws(WorkerError)
        -> (provider: Provider, providerName: String, endpoint: String, model: String, apiKey: String?, apiVersion: String?) {
        func value(_ names: String...) -> String? {
            for name in names { if let v = environment[name], !v.isEmpty { return v } }
            return nil
        }
        let providerName = (value("MEMIFY_LLM_PROVIDER", "LLM_PROVIDER") ?? "openai").lowercased()
        let provider: Provider
        switch providerName {
        case "openai": provider = .openai
        case "azure", "azure_openai": provider = .azure
        case "ollama", "ollama_chat": provider = .ollama
        case "custom", "hosted_vllm", "vllm", "litellm_proxy", "openai_compatible", "litellm": provider = .custom
        default:
            throw WorkerError(.unsupported, operation: "configure the LLM extractor",
                                message: "LLM_PROVIDER '\(providerName)' is not supported: use openai, azure, ollama or custom (any OpenAI-compatible server)")
        }
        let resolvedModel = model ?? value("MEMIFY_LLM_MODEL", "LLM_MODEL") ?? defaultModel
        var resolvedEndpoint = endpoint ?? value("MEMIFY_LLM_ENDPOINT", "LLM_ENDPOINT")
        if resolvedEndpoint == nil {
            switch provider {
            case .openai: resolvedEndpoint = defaultEndpoint
            case .ollama: resolvedEndpoint = "http://localhost:11434/v1"
            case .azure, .custom:
                throw WorkerError(.usage, operation: "configure the LLM extractor",
                                    message: "LLM_PROVIDER=\(providerName) needs an endpoint: --llm-endpoint or LLM_ENDPOINT")
            }
        }
        let key = value("MEMIFY_LLM_API_KEY", "LLM_API_KEY")
        if key == nil, requireKey, provider == .openai || provider == .azure,
           resolvedEndpoint == defaultEndpoint || provider == .azure {
            throw WorkerError(.usage, operation: "configure the LLM extractor",
                                message: "no API key: set LLM_API_KEY (or MEMIFY_LLM_API_KEY)")
        }
        guard let resolvedEndpoint, let url = URL(string: resolvedEndpoint), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", url.host != nil else {
            throw WorkerError(.usage, operation: "configure the LLM extractor",
                                message: "the LLM endpoint is not an http(s) URL")
        }
        return (provider, providerName, resolvedEndpoint, resolvedModel, key, value("MEMIFY_LLM_API_VERSION", "LLM_API_VERSION"))
    }
}
