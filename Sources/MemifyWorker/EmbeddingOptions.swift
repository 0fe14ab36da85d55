import ArgumentParser
import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools

/// Where vectors come from (`run`, `quarantine replay`): cognee's own `EMBEDDING_*` variables,
/// each overridden by its flag. No endpoint, no vectors: the run writes the graph only and says
/// what cognee can then find. The API key is read from the environment only
/// (`EMBEDDING_API_KEY`, then `LLM_API_KEY`, as cognee falls back).
struct EmbeddingOptions: ParsableArguments {
    @Option(help: "OpenAI-compatible base URL the vectors come from (POST {URL}/embeddings). Default: EMBEDDING_ENDPOINT, then EMBEDDING_API_BASE; none: no vectors, graph only.")
    var embeddingEndpoint: String?

    @Option(help: "The embedding model, as cognee names it. Default: EMBEDDING_MODEL, then openai/text-embedding-3-large.")
    var embeddingModel: String?

    @Option(help: "openai, openai_compatible, azure, ollama, … as cognee's EMBEDDING_PROVIDER (default: it, then openai).")
    var embeddingProvider: String?

    @Option(help: "The vectors' width. Default: EMBEDDING_DIMENSIONS, then the model's known width.")
    var embeddingDimensions: Int?

    @Option(help: "Texts per request. Default: EMBEDDING_BATCH_SIZE, then 32.")
    var embeddingBatchSize: Int?

    @Option(help: "Seconds one embedding request may take before it is retried (default 60).")
    var embeddingTimeout: Double?

    @Option(help: "Attempts per embedding request (429, 5xx, timeouts are retried; default 5).")
    var embeddingMaxAttempts: Int?

    @Flag(help: "Write the graph only, even with an embedding endpoint configured.")
    var noVectors = false

    func validate() throws {
        if let embeddingDimensions, embeddingDimensions < 1 || embeddingDimensions > 16_000 {
            throw ValidationError("--embedding-dimensions must be 1…16000")
        }
        if let embeddingBatchSize, embeddingBatchSize < 1 || embeddingBatchSize > 2048 { throw ValidationError("--embedding-batch-size must be 1…2048") }
        if let embeddingTimeout, !(embeddingTimeout > 0 && embeddingTimeout <= 3600) {
            throw ValidationError("--embedding-timeout must be more than 0 and at most 3600 seconds")
        }
        if let embeddingMaxAttempts, embeddingMaxAttempts < 1 || embeddingMaxAttempts > 20 { throw ValidationError("--embedding-max-attempts must be 1…20") }
    }

    /// nil: vectors off (no endpoint, or --no-vectors).
    func configuration(environment: [String: String] = WorkerEnvironment.values) throws -> EmbeddingConfiguration? {
        if noVectors { return nil }
        return try EmbeddingConfiguration.resolve(environment: environment, overrides: EmbeddingOverrides(
            provider: embeddingProvider, model: embeddingModel, endpoint: embeddingEndpoint, dimensions: embeddingDimensions,
            batchSize: embeddingBatchSize, timeoutSeconds: embeddingTimeout, maxAttempts: embeddingMaxAttempts))
    }

}
