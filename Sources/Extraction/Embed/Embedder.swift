import MemifyCore
import GraphStore
import SessionCache
import Foundation
package import Logging
import Synchronization

/// The run's budget had no room for an embedding request: nothing was sent, and the caller
/// should defer the batch whose texts these were to the next run (as the LLM extractor defers
/// turns it did not send), not fail it.
package struct EmbeddingBudgetExhausted: Error, CustomStringConvertible, Sendable {
    package var maxTokens: Int?
    package var maxCostUSD: Double?
    package var description: String {
        "the run's budget (max tokens \(maxTokens.map(String.init) ?? "none"), max cost "
            + "\(maxCostUSD.map { String(format: "$%.4f", $0) } ?? "none")) has no room for another embedding request"
    }
}

/// ``TextEmbedding`` through an OpenAI-compatible `/v1/embeddings` endpoint, configured as cognee
/// is (``EmbeddingConfiguration``), with the state database's cache in front.
///
/// * Texts are stripped as Python's `str.strip()` strips them (cognee embeds the stripped
///   field); one empty after that gets a zero vector without a request.
/// * Equal texts in one call are embedded once; texts in the cache (by model, width and
///   SHA-256 of the stripped text) are not sent at all.
/// * The rest go `batchSize` to a request with at most `concurrency` requests in flight
///   (cognee's own numbers). Each batch's vectors are cached as soon as they arrive, so a run
///   that stops half way has paid for them once.
/// * Usage: one `usage` row per request (user id empty, session id `(embeddings)`, `turns` =
///   texts sent, tokens out 0), so `stats` lists the embedding model beside the LLM's.
///   Tokens are the provider's `usage.prompt_tokens`, else cognee's heuristic (chars / 4).
/// * Budget: each request's estimate (the heuristic) is reserved against the run's
///   ``RunBudget`` first; when it does not fit, ``EmbeddingBudgetExhausted`` is thrown and
///   nothing of that call is sent after it.
package final class Embedder: TextEmbedding {
    package let configuration: EmbeddingConfiguration
    private let cache: any EmbeddingCaching
    private let client: EmbeddingClient
    private let budget: RunBudget?
    private let runID: String
    private let logger: Logger
    private let ledger = Mutex(Ledger())

    /// What this embedder has spent and saved so far.
    package struct Ledger: Sendable, Equatable {
        /// Requests answered.
        package var requests = 0
        /// Texts sent (and paid for).
        package var textsEmbedded = 0
        /// Distinct texts answered from the cache.
        package var textsFromCache = 0
        package var promptTokens = 0
        package var costUSD = 0.0
    }

    package var dimensions: Int { configuration.dimensions }
    package var identity: String { configuration.identity }
    package var spent: Ledger { ledger.withLock { $0 } }

    /// `budget`: the run's, shared with the LLM extractor; nil: no limit.
    package init(configuration: EmbeddingConfiguration, cache: any EmbeddingCaching, runID: String, budget: RunBudget? = nil,
                logger: Logger) {
        self.configuration = configuration
        self.cache = cache
        self.client = EmbeddingClient(configuration: configuration, logger: logger)
        self.budget = budget
        self.runID = runID
        self.logger = logger
    }

    /// USD per million input tokens for `model` (cognee's price table; 0 when unknown).
    package static func cost(model: String, tokens: Int) -> Double {
        LLMPricing.cost(model: model, tokensIn: tokens, tokensOut: 0)
    }

    /// The cache key of a text: SHA-256 of its stripped UTF-8.
    package static func textHash(_ text: String) -> [UInt8] { Digest.sha256(Array(strip(text).utf8)) }

    /// Python's `str.strip()`: code points whose `isspace()` is true, from both ends. That is
    /// Unicode White_Space plus the four separators U+001C…U+001F.
    package static func strip(_ text: String) -> String { VectorIndex.pythonStrip(text) }

    package func embed(_ texts: [String]) async throws -> [[Float]] {
        let width = configuration.dimensions
        let model = configuration.model
        let stripped = texts.map(Self.strip)

        // Distinct non-empty texts, in first-seen order.
        var slot: [String: Int] = [:]
        var distinct: [String] = []
        for text in stripped where !text.isEmpty && slot[text] == nil {
            slot[text] = distinct.count
            distinct.append(text)
        }
        var vectors = [[Float]?](repeating: nil, count: distinct.count)
        if !distinct.isEmpty {
            let hashes = distinct.map { Digest.sha256(Array($0.utf8)) }
            let cached = try await cache.cachedVectors(model: model, dimensions: width, hashes: hashes)
            for (i, hash) in hashes.enumerated() { vectors[i] = cached[hash] }
            let hits = cached.count
            if hits > 0 { ledger.withLock { $0.textsFromCache += hits } }

            let misses = distinct.indices.filter { vectors[$0] == nil }
            let size = configuration.batchSize
            let batches = stride(from: 0, to: misses.count, by: size).map { Array(misses[$0..<min($0 + size, misses.count)]) }
            if !batches.isEmpty {
                let texts = distinct
                let answers = try await forEachConcurrently(batches, limit: configuration.concurrency) { batch in
                    try await self.request(batch.map { texts[$0] }, hashes: batch.map { hashes[$0] })
                }
                for (batch, answer) in zip(batches, answers) {
                    for (i, vector) in zip(batch, answer) { vectors[i] = vector }
                }
            }
        }
        let zero = [Float](repeating: 0, count: width)
        return stripped.map { $0.isEmpty ? zero : vectors[slot[$0]!]! }
    }

    /// One request: budget, call, cache, usage.
    private func request(_ texts: [String], hashes: [[UInt8]]) async throws -> [[Float]] {
        let model = configuration.model
        let estimateTokens = texts.reduce(0) { $0 + LLMPricing.heuristicTokens($1) }
        let estimateCost = Self.cost(model: model, tokens: estimateTokens)
        if let budget {
            let reservation = budget.reserve(tokens: estimateTokens, costUSD: estimateCost)
            guard reservation == .granted else {
                if reservation == .refusedFirst {
                    logger.warning("run budget reached: no further embedding requests this run", metadata: [
                        "max_tokens": "\(budget.maxTokens.map(String.init) ?? "none")",
                        "max_cost_usd": "\(budget.maxCostUSD.map { String(format: "%.4f", $0) } ?? "none")"])
                }
                throw EmbeddingBudgetExhausted(maxTokens: budget.maxTokens, maxCostUSD: budget.maxCostUSD)
            }
        }
        let answer: EmbeddingClient.Answer
        do {
            answer = try await client.embed(texts)
        } catch {
            budget?.settle(reservedTokens: estimateTokens, reservedCostUSD: estimateCost, tokens: 0, costUSD: 0)
            throw error
        }
        let tokens = answer.promptTokens ?? estimateTokens
        let cost = Self.cost(model: model, tokens: tokens)
        budget?.settle(reservedTokens: estimateTokens, reservedCostUSD: estimateCost, tokens: tokens, costUSD: cost)
        ledger.withLock { l in
            l.requests += 1
            l.textsEmbedded += texts.count
            l.promptTokens += tokens
            l.costUSD += cost
        }
        try await cache.storeVectors(Array(zip(hashes, answer.vectors)).map { (hash: $0.0, vector: $0.1) }, model: model,
                                     dimensions: configuration.dimensions)
        try await cache.recordUsage([
            LLMUsageRow(runID: runID, requestID: UUID().uuidString.lowercased(), userID: "", sessionID: Self.usageSessionID, model: model,
                        turns: texts.count, tokensIn: tokens, tokensOut: 0, costUSD: cost, at: Date().timeIntervalSince1970,
                        cached: false),
        ])
        logger.debug("embedded texts", metadata: ["model": "\(model)", "texts": "\(texts.count)", "tokens": "\(tokens)"])
        return answer.vectors
    }

    /// The session id of embedding usage rows: embeddings are per text, not per session.
    package static let usageSessionID = "(embeddings)"
}
