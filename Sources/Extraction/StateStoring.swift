import MemifyCore
import GraphStore
import SessionCache
/// What the extractors keep in the state database, as protocols the state database
/// (`Pipeline`'s `CheckpointStore`) implements: extraction stays free of SQLite.

/// One turn's answer in the response cache: keyed by (model, sha256 of the turn's prompt).
package struct LLMCachedAnswer: Sendable, Equatable {
    package var promptHash: String
    /// The turn object the model returned (compact JSON), already validated.
    package var answer: [UInt8]
    /// This turn's share of the request's usage.
    package var tokensIn: Int
    package var tokensOut: Int
    package var costUSD: Double

    package init(promptHash: String, answer: [UInt8], tokensIn: Int, tokensOut: Int, costUSD: Double) {
        self.promptHash = promptHash
        self.answer = answer
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.costUSD = costUSD
    }
}

/// What one request (or one batch of cache hits) cost one session.
package struct LLMUsageRow: Sendable, Equatable {
    package var runID: String
    package var requestID: String
    package var userID: String
    package var sessionID: String
    /// As configured (`openai/gpt-4o-mini`), as cognee records it.
    package var model: String
    package var turns: Int
    package var tokensIn: Int
    package var tokensOut: Int
    package var costUSD: Double
    /// Unix seconds.
    package var at: Double
    /// Answered from the response cache: nothing was paid (tokens and cost are 0).
    package var cached: Bool

    package init(runID: String, requestID: String, userID: String, sessionID: String, model: String, turns: Int, tokensIn: Int,
                tokensOut: Int, costUSD: Double, at: Double, cached: Bool) {
        self.runID = runID
        self.requestID = requestID
        self.userID = userID
        self.sessionID = sessionID
        self.model = model
        self.turns = turns
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.costUSD = costUSD
        self.at = at
        self.cached = cached
    }
}

/// Usage totals over a time range, for `stats`.
package struct LLMUsageTotals: Sendable, Equatable {
    package var userID: String?
    package var sessionID: String?
    package var model: String?
    package var tokensIn = 0
    package var tokensOut = 0
    package var costUSD = 0.0
    /// Requests paid for (distinct request ids of uncached rows).
    package var requests = 0
    /// Turns answered from the response cache.
    package var cachedTurns = 0

    package init() {}
}

/// What the LLM extractor needs from the state database.
package protocol LLMStateStoring: Sendable {
    func cachedAnswers(model: String, promptHashes: [String]) async throws -> [String: LLMCachedAnswer]
    func storeAnswers(_ answers: [LLMCachedAnswer], model: String) async throws
    func recordUsage(_ rows: [LLMUsageRow]) async throws
}

/// What the embedder needs from the state database: the embedding cache and the usage ledger
/// `stats` reads.
///
/// The cache (`embedding_cache`) is keyed by (model as configured, dimensions, SHA-256 of the
/// stripped text), so a rerun, a re-derivation after an upgrade, or an entity named by ten
/// thousand turns never pays for the same text twice, and a change of model or width simply
/// misses. Vectors are little-endian float32, the layout cognee's turso adapter stores.
package protocol EmbeddingCaching: Sendable {
    /// The cached vectors among `hashes` (32-byte SHA-256 digests); a hash without a row, or
    /// with a row of another length, is absent from the answer.
    func cachedVectors(model: String, dimensions: Int, hashes: [[UInt8]]) async throws -> [[UInt8]: [Float]]
    /// Stores (or replaces) vectors, all `dimensions` long.
    func storeVectors(_ vectors: [(hash: [UInt8], vector: [Float])], model: String, dimensions: Int) async throws
    /// Usage rows, as the LLM extractor records them (``LLMStateStoring/recordUsage(_:)``).
    func recordUsage(_ rows: [LLMUsageRow]) async throws
}

