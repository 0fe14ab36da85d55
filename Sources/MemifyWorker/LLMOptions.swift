import ArgumentParser
import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools

/// The LLM extractor's settings (`run --extractor llm`, `quarantine replay`). The API key is
/// read from the environment only (`MEMIFY_LLM_API_KEY`, then cognee's `LLM_API_KEY`).
struct LLMOptions: ParsableArguments {
    @Option(help: "OpenAI-compatible base URL; POST {URL}/chat/completions. Default: MEMIFY_LLM_ENDPOINT, then LLM_ENDPOINT, then https://api.openai.com/v1 (http://localhost:11434/v1 for LLM_PROVIDER=ollama).")
    var llmEndpoint: String?

    @Option(help: "Model, as cognee configures it (openai/gpt-4o-mini). Default: MEMIFY_LLM_MODEL, then LLM_MODEL, then openai/gpt-4o-mini.")
    var llmModel: String?

    @Option(help: "Seconds one request may take before it counts as failed (and is retried).")
    var llmTimeout: Double = 60

    @Option(help: "Turns sent in one request.")
    var llmTurnsPerRequest: Int = 8

    @Option(help: "Attempts per request (429, 5xx, timeouts, connection failures are retried).")
    var llmMaxAttempts: Int = 5

    @Option(help: ArgumentHelp("Backoff ceiling of the first retry, in seconds (doubles each attempt, at most 30).", visibility: .hidden))
    var llmRetryBaseDelay: Double = 1

    @Option(help: "json_schema (strict structured output), json_object, or none (for servers that support neither).")
    var llmResponseFormat: String = "json_schema"

    @Option(help: "Stop sending LLM requests once this run's tokens (in + out, with the next request's estimate) would exceed N.")
    var maxTokens: Int?

    @Option(help: "Stop sending LLM requests once this run's cost in US dollars (with the next request's estimate) would exceed this.")
    var maxCost: Double?

    func validate() throws {
        if !(llmTimeout > 0 && llmTimeout <= 3600) { throw ValidationError("--llm-timeout must be more than 0 and at most 3600 seconds") }
        if llmTurnsPerRequest < 1 || llmTurnsPerRequest > 100 { throw ValidationError("--llm-turns-per-request must be 1…100") }
        if llmMaxAttempts < 1 || llmMaxAttempts > 20 { throw ValidationError("--llm-max-attempts must be 1…20") }
        if llmRetryBaseDelay < 0 { throw ValidationError("--llm-retry-base-delay must not be negative") }
        if LLMConfiguration.ResponseFormat(rawValue: llmResponseFormat) == nil {
            throw ValidationError("--llm-response-format must be json_schema, json_object or none")
        }
        if let maxTokens, maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1") }
        if let maxCost, !(maxCost >= 0) { throw ValidationError("--max-cost must be a number of US dollars, at least 0") }
    }

    func configuration(requireKey: Bool, environment: [String: String] = WorkerEnvironment.values) throws -> LLMConfiguration {
        let r = try LLMConfiguration.resolve(endpoint: llmEndpoint, model: llmModel, environment: environment, requireKey: requireKey)
        // A model without a price costs "0" by cognee's table: a cost budget would never stop anything.
        if let maxCost, LLMPricing.prices(model: r.model) == nil {
            throw WorkerError(.usage, operation: "check --max-cost \(maxCost)",
                                message: "model '\(r.model)' has no price in cognee's table, so its cost cannot be counted; bound the run with --max-tokens instead")
        }
        return LLMConfiguration(provider: r.provider, providerName: r.providerName, endpoint: r.endpoint, model: r.model, apiKey: r.apiKey,
                                apiVersion: r.apiVersion, timeoutSeconds: llmTimeout, turnsPerRequest: llmTurnsPerRequest,
                                maxAttempts: llmMaxAttempts, retryBaseDelay: llmRetryBaseDelay,
                                responseFormat: LLMConfiguration.ResponseFormat(rawValue: llmResponseFormat) ?? .jsonSchema,
                                maxTokens: maxTokens, maxCostUSD: maxCost)
    }
}
