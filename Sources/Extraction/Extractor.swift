import MemifyCore
package import GraphStore
package import SessionCache
import Foundation

/// One turn handed to an extractor: where it comes from (for usage accounting), its text, and
/// when it was said (the entry's `time`, as cognee stored it), which relative dates resolve against.
package struct ExtractionInput: Sendable {
    package var key: SessionKey
    package var turnID: String
    package var question: String
    package var answer: String
    package var time: String?

    package init(key: SessionKey, turnID: String, question: String, answer: String, time: String? = nil) {
        self.key = key
        self.turnID = turnID
        self.question = question
        self.answer = answer
        self.time = time
    }
}

/// What became of one turn given to ``Extractor/extract(batch:concurrency:)``.
package enum ExtractionOutcome: Sendable, Equatable {
    /// Extracted: the turn is written and checkpointed.
    case extracted(ExtractedGraph)
    /// The extractor produced something unusable for this turn (malformed or schema-violating
    /// model output, a request the model refused, a timeout after every retry). The turn goes to
    /// the quarantine with `reason` and `raw` (the offending bytes; empty: the entry's own bytes),
    /// is not checkpointed, and is tried again by a later run or `quarantine replay`.
    case rejected(reason: String, raw: [UInt8])
    /// Not tried (the run's token or cost budget would have been exceeded): not checkpointed,
    /// picked up by the next run; the run takes no new work.
    case notAttempted
}

/// Turns one turn's text into a summary and a knowledge graph in cognee's shape.
///
/// A local extractor implements only ``identity`` and ``extract(question:answer:)`` (or
/// ``extract(question:answer:time:)`` if the turn's time matters to it); the batch method has a
/// default that calls it with bounded concurrency (an error thrown by `extract` fails the run, as
/// before). Remote extractors (the LLM one) implement the batch method to group turns per
/// request, consult their cache and honour budgets.
package protocol Extractor: Sendable {
    /// Name and version, part of every turn's content hash: changing the extractor re-derives.
    var identity: String { get }
    func extract(question: String, answer: String) async throws -> ExtractedGraph
    /// The turn said at `time` (the entry's ISO 8601 time; nil when unknown): "yesterday" in it
    /// is the day before.
    func extract(question: String, answer: String, time: String?) async throws -> ExtractedGraph
    /// What one call would cost, for `--dry-run`: tokens sent and received, and US dollars.
    func estimate(question: String, answer: String) -> (tokens: Int, costUSD: Double)
    /// Extracts a batch: one outcome per input, in the same order, with at most `concurrency`
    /// calls in flight. Throws only for what must stop the run (e.g. a refused API key).
    func extract(batch: [ExtractionInput], concurrency: Int) async throws -> [ExtractionOutcome]
}

extension Extractor {
    /// A local extractor costs nothing.
    package func estimate(question: String, answer: String) -> (tokens: Int, costUSD: Double) { (0, 0) }

    /// An extractor that reads no dates relative to the turn ignores its time.
    package func extract(question: String, answer: String, time: String?) async throws -> ExtractedGraph {
        try await extract(question: question, answer: answer)
    }

    /// ``extract(question:answer:time:)`` for each input, `concurrency` at a time (a sliding window).
    package func extract(batch: [ExtractionInput], concurrency: Int) async throws -> [ExtractionOutcome] {
        try await forEachConcurrently(batch, limit: concurrency) { input in
            .extracted(try await self.extract(question: input.question, answer: input.answer, time: input.time))
        }
    }
}

/// Runs `body` over `items` with at most `limit` in flight; results in input order.
func forEachConcurrently<T: Sendable, R: Sendable>(_ items: [T], limit: Int,
                                                   _ body: @escaping @Sendable (T) async throws -> R) async throws -> [R] {
    try await withThrowingTaskGroup(of: (Int, R).self) { group in
        var results = [R?](repeating: nil, count: items.count)
        var next = 0
        func add(_ group: inout ThrowingTaskGroup<(Int, R), any Error>) {
            let i = next
            let item = items[i]
            group.addTask { (i, try await body(item)) }
            next += 1
        }
        while next < min(max(1, limit), items.count) { add(&group) }
        while let (i, result) = try await group.next() {
            results[i] = result
            if next < items.count { add(&group) }
        }
        return results.map { $0! }
    }
}
