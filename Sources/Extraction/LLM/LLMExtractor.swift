import MemifyCore
package import GraphStore
import SessionCache
import Foundation
package import Logging
import Synchronization

/// Entities, relations and a summary from an OpenAI-compatible chat-completions endpoint, in
/// cognee's `KnowledgeGraph` shape (graph spec §1.6).
///
/// * **Batching.** Turns not in the response cache are sent `turnsPerRequest` to a request, each
///   labelled with its index; at most `concurrency` requests are in flight.
/// * **Response cache** (state database, `llm_cache`): per turn, keyed by (configured model,
///   sha256 of prompt version + system prompt + the turn's text). Per turn rather than per
///   request, so a re-run, a replay, a re-derive or a different batching of the same turn never
///   pays twice. Only validated answers are cached; a rejected turn is asked again next time.
/// * **Usage** (state database, `usage`): the provider's `usage` when it returns one, else
///   cognee's heuristic on what was sent (system + user message) and received. A request's
///   usage is split over its turns in proportion to their size (tokens in: the turn's text;
///   tokens out: the turn's answer), with largest remainders so the parts add up exactly, and
///   recorded as one row per (request, session). Cache hits are recorded with `cached = 1`
///   and nothing paid.
/// * **Budget** (`maxTokens`, `maxCostUSD`, per run): before a request is sent, what was spent,
///   plus what requests in flight are estimated to spend, plus this request's estimate must fit,
///   or the request is not sent, its turns are ``ExtractionOutcome/notAttempted`` and no later
///   request of the run is sent either. The budget is a ``RunBudget`` the run may share with the
///   embedder, so the limits bound the run's whole spending.
package final class LLMExtractor: Extractor {
    package let configuration: LLMConfiguration
    private let store: any LLMStateStoring
    private let runID: String
    private let client: LLMClient
    private let logger: Logger
    private let ledger = Mutex(Ledger())
    /// The run's budget: given (shared with the embedder), or made from `maxTokens`/`maxCostUSD`.
    package let budget: RunBudget

    /// What the run has spent and reserved.
    package struct Ledger: Sendable {
        package var tokensIn = 0
        package var tokensOut = 0
        package var costUSD = 0.0
        package var requests = 0
        package var cachedTurns = 0
        /// The run's budget is exhausted (by this extractor or another stage sharing it).
        package var budgetExhausted = false
    }

    /// `budget`: the run's shared budget; nil makes one from the configuration's `maxTokens` and
    /// `maxCostUSD` (then this extractor's limits are the run's).
    package init(configuration: LLMConfiguration, store: any LLMStateStoring, runID: String, logger: Logger, budget: RunBudget? = nil) {
        self.configuration = configuration
        self.budget = budget ?? RunBudget(maxTokens: configuration.maxTokens, maxCostUSD: configuration.maxCostUSD)
        self.store = store
        self.runID = runID
        self.logger = logger
        self.client = LLMClient(configuration: configuration, logger: logger)
    }

    /// The model and the prompt version: a change of either re-derives every turn.
    package var identity: String { Self.identity(configuration) }

    /// The identity of the extractor made with `configuration`, before it is made.
    package static func identity(_ configuration: LLMConfiguration) -> String { "llm/\(LLMPrompt.version)/\(configuration.model)" }

    /// Spent so far by this run.
    package var spent: Ledger {
        var l = ledger.withLock { $0 }
        l.budgetExhausted = budget.isExhausted
        return l
    }

    // MARK: estimates

    private static let systemTokens = LLMPricing.heuristicTokens(LLMPrompt.system)

    /// One turn's part of a request: its labelled text in, and a guess at its answer out
    /// (100 tokens plus half the turn's own: a graph and a summary are shorter than the text).
    private static func turnEstimate(_ text: String) -> (tokensIn: Int, tokensOut: Int) {
        let wrapped = "\n<turn index=\"0\">\n\(text)\n</turn>\n"
        return (LLMPricing.heuristicTokens(wrapped), 100 + LLMPricing.heuristicTokens(text) / 2)
    }

    /// The estimate of a request: the system prompt once, plus each turn's part.
    private func requestEstimate(_ texts: [String]) -> (tokens: Int, costUSD: Double) {
        var tin = Self.systemTokens, tout = 0
        for text in texts {
            let e = Self.turnEstimate(text)
            tin += e.tokensIn
            tout += e.tokensOut
        }
        return (tin + tout, LLMPricing.cost(model: configuration.model, tokensIn: tin, tokensOut: tout))
    }

    /// For `--dry-run`: the turn's part of a request, with the system prompt shared by
    /// `turnsPerRequest` turns. Cache hits are not looked up (an upper bound).
    package func estimate(question: String, answer: String) -> (tokens: Int, costUSD: Double) {
        let e = Self.turnEstimate(LLMPrompt.turnText(question: question, answer: answer))
        let tin = Self.systemTokens / configuration.turnsPerRequest + e.tokensIn
        return (tin + e.tokensOut, LLMPricing.cost(model: configuration.model, tokensIn: tin, tokensOut: e.tokensOut))
    }

    // MARK: extraction

    package func extract(question: String, answer: String) async throws -> ExtractedGraph {
        let input = ExtractionInput(key: SessionKey(userID: "", sessionID: ""), turnID: "", question: question, answer: answer)
        switch try await extract(batch: [input], concurrency: 1)[0] {
        case .extracted(let graph): return graph
        case .rejected(let reason, _):
            throw WorkerError(.protocolError, operation: "extract with \(identity)", message: reason)
        case .notAttempted:
            throw WorkerError(.usage, operation: "extract with \(identity)", message: "the run's LLM budget is spent")
        }
    }

    package func extract(batch: [ExtractionInput], concurrency: Int) async throws -> [ExtractionOutcome] {
        let model = configuration.model
        let texts = batch.map { LLMPrompt.turnText(question: $0.question, answer: $0.answer) }
        let hashes = texts.map(LLMPrompt.cacheKey(turnText:))
        var outcomes = [ExtractionOutcome?](repeating: nil, count: batch.count)

        // Cache hits first: they cost nothing and need no request.
        let cached = try await store.cachedAnswers(model: model, promptHashes: hashes)
        var hitTurns: [SessionKey: Int] = [:]
        for (i, hash) in hashes.enumerated() {
            guard let hit = cached[hash], let value = try? JSONParser.parse(hit.answer),
                  let graph = try? LLMPrompt.graph(ofTurn: value) else { continue }
            outcomes[i] = .extracted(graph)
            hitTurns[batch[i].key, default: 0] += 1
        }
        if !hitTurns.isEmpty {
            let now = Date().timeIntervalSince1970
            let requestID = "cache-" + UUID().uuidString.lowercased()
            try await store.recordUsage(hitTurns.map { key, turns in
                LLMUsageRow(runID: runID, requestID: requestID, userID: key.userID, sessionID: key.sessionID, model: model, turns: turns,
                            tokensIn: 0, tokensOut: 0, costUSD: 0, at: now, cached: true)
            })
            ledger.withLock { $0.cachedTurns += hitTurns.values.reduce(0, +) }
        }

        // The rest: one slot per distinct text (a turn repeated verbatim is asked once), in
        // groups of turnsPerRequest.
        var slots: [String: [Int]] = [:]
        var order: [String] = []
        for i in batch.indices where outcomes[i] == nil {
            if slots[hashes[i]] == nil { order.append(hashes[i]) }
            slots[hashes[i], default: []].append(i)
        }
        let size = configuration.turnsPerRequest
        let groups: [[RequestTurn]] = stride(from: 0, to: order.count, by: size).map { start in
            order[start..<min(start + size, order.count)].map { hash in
                let first = slots[hash]![0]
                return RequestTurn(hash: hash, text: texts[first], key: batch[first].key)
            }
        }
        let results = try await forEachConcurrently(groups, limit: concurrency) { group in try await self.request(group) }
        for (group, result) in zip(groups, results) {
            for (turn, outcome) in zip(group, result) {
                for i in slots[turn.hash] ?? [] { outcomes[i] = outcome }
            }
        }
        return outcomes.map { $0 ?? .notAttempted }
    }

    struct RequestTurn: Sendable {
        var hash: String
        var text: String
        var key: SessionKey
    }

    /// Reserves the request's estimate against the run's budget (``RunBudget``).
    private func reserve(_ estimate: (tokens: Int, costUSD: Double)) -> RunBudget.Reservation {
        budget.reserve(tokens: estimate.tokens, costUSD: estimate.costUSD)
    }

    private func settle(_ estimate: (tokens: Int, costUSD: Double), tokensIn: Int, tokensOut: Int, cost: Double) {
        budget.settle(reservedTokens: estimate.tokens, reservedCostUSD: estimate.costUSD, tokens: tokensIn + tokensOut, costUSD: cost)
        ledger.withLock { l in
            l.tokensIn += tokensIn
            l.tokensOut += tokensOut
            l.costUSD += cost
            if tokensIn + tokensOut > 0 { l.requests += 1 }
        }
    }

    /// One request for a group of turns; one outcome per turn.
    private func request(_ turns: [RequestTurn]) async throws -> [ExtractionOutcome] {
        let model = configuration.model
        let estimate = requestEstimate(turns.map(\.text))
        let reservation = reserve(estimate)
        guard reservation == .granted else {
            if reservation == .refusedFirst {
                logger.warning("LLM budget reached: no further requests this run; the remaining turns wait for the next run", metadata: [
                    "max_tokens": "\(budget.maxTokens.map(String.init) ?? "none")",
                    "max_cost_usd": "\(budget.maxCostUSD.map { String(format: "%.4f", $0) } ?? "none")"])
            }
            return turns.map { _ in .notAttempted }
        }
        let user = LLMPrompt.userMessage(turns.map(\.text))
        let body = LLMPrompt.requestBody(model: configuration.requestModel, userMessage: user, format: configuration.responseFormat)
        let result: LLMClient.Result
        do {
            result = try await client.send(body: body)
        } catch {
            settle(estimate, tokensIn: 0, tokensOut: 0, cost: 0)
            throw error
        }

        let content: String
        let usage: (tokensIn: Int, tokensOut: Int)
        switch result {
        case .rejected(let reason, let raw):
            settle(estimate, tokensIn: 0, tokensOut: 0, cost: 0)
            return turns.map { _ in .rejected(reason: "llm extractor (\(model)): \(reason)", raw: raw) }
        case .answer(let text, let reported):
            content = text
            usage = reported ?? (LLMPricing.heuristicTokens(LLMPrompt.system) + LLMPricing.heuristicTokens(user),
                                 LLMPricing.heuristicTokens(text))
        }
        let cost = LLMPricing.cost(model: model, tokensIn: usage.tokensIn, tokensOut: usage.tokensOut)
        settle(estimate, tokensIn: usage.tokensIn, tokensOut: usage.tokensOut, cost: cost)

        // Per turn: the answer, validated.
        var outcomes: [ExtractionOutcome] = []
        var answers: [[UInt8]?] = []
        do {
            let byIndex = try LLMPrompt.turns(ofAnswer: content)
            for i in turns.indices {
                guard let value = byIndex[i] else {
                    outcomes.append(.rejected(reason: "llm extractor (\(model)): schema violation: the answer has no turn with index \(i)",
                                              raw: Array(content.utf8)))
                    answers.append(nil)
                    continue
                }
                let raw = Array(JSONWriter.string(value, style: .compact).utf8)
                do {
                    outcomes.append(.extracted(try LLMPrompt.graph(ofTurn: value)))
                    answers.append(raw)
                } catch {
                    outcomes.append(.rejected(reason: "llm extractor (\(model)): \(error)", raw: raw))
                    answers.append(raw)
                }
            }
        } catch {
            outcomes = turns.map { _ in .rejected(reason: "llm extractor (\(model)): \(error)", raw: Array(content.utf8)) }
            answers = turns.map { _ in nil }
        }

        // The request's usage, split over its turns.
        let inShares = Self.split(usage.tokensIn, weights: turns.map { $0.text.unicodeScalars.count })
        let outShares = Self.split(usage.tokensOut, weights: answers.enumerated().map { i, a in
            a?.count ?? turns[i].text.unicodeScalars.count / 4
        })
        var toCache: [LLMCachedAnswer] = []
        var perSession: [SessionKey: (turns: Int, tin: Int, tout: Int)] = [:]
        var sessionOrder: [SessionKey] = []
        for (i, turn) in turns.enumerated() {
            if case .extracted = outcomes[i], let answer = answers[i] {
                toCache.append(LLMCachedAnswer(promptHash: turn.hash, answer: answer, tokensIn: inShares[i], tokensOut: outShares[i],
                                               costUSD: LLMPricing.cost(model: model, tokensIn: inShares[i], tokensOut: outShares[i])))
            }
            if perSession[turn.key] == nil { sessionOrder.append(turn.key) }
            perSession[turn.key, default: (0, 0, 0)].turns += 1
            perSession[turn.key]!.tin += inShares[i]
            perSession[turn.key]!.tout += outShares[i]
        }
        let now = Date().timeIntervalSince1970
        let requestID = UUID().uuidString.lowercased()
        try await store.recordUsage(sessionOrder.map { key in
            let s = perSession[key]!
            return LLMUsageRow(runID: runID, requestID: requestID, userID: key.userID, sessionID: key.sessionID, model: model,
                               turns: s.turns, tokensIn: s.tin, tokensOut: s.tout,
                               costUSD: LLMPricing.cost(model: model, tokensIn: s.tin, tokensOut: s.tout), at: now, cached: false)
        })
        try await store.storeAnswers(toCache, model: model)
        return outcomes
    }

    /// `total` split in proportion to `weights` (evenly when they are all 0), largest
    /// remainders first, so the parts add up to `total` exactly.
    static func split(_ total: Int, weights: [Int]) -> [Int] {
        guard !weights.isEmpty else { return [] }
        let w = weights.allSatisfy { $0 <= 0 } ? weights.map { _ in 1 } : weights.map { max(0, $0) }
        let sum = w.reduce(0, +)
        var parts = w.map { total * $0 / sum }
        var left = total - parts.reduce(0, +)
        let order = w.indices.sorted { a, b in
            let ra = total * w[a] % sum, rb = total * w[b] % sum
            return ra != rb ? ra > rb : a < b
        }
        var k = 0
        while left > 0 {
            parts[order[k % order.count]] += 1
            left -= 1
            k += 1
        }
        return parts
    }
}
