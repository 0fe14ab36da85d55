import MemifyCore
import GraphStore
import SessionCache
import Synchronization

/// A run's token and cost budget (`--max-tokens`, `--max-cost`), one for every stage that pays
/// a provider: the LLM extractor and the embedder charge the same one, so the limits bound
/// what the run spends, not what each stage spends.
///
/// Before a request is sent its estimate is reserved: what was spent, plus what requests in
/// flight are estimated to spend, plus this estimate must fit, or the request is refused, and
/// so is every later request of the run (the first refusal is reported as such, so a stage
/// warns once). When the answer comes the reservation is replaced by what was actually spent.
package final class RunBudget: Sendable {
    package let maxTokens: Int?
    package let maxCostUSD: Double?

    private struct State {
        var tokens = 0
        var costUSD = 0.0
        var reservedTokens = 0
        var reservedCost = 0.0
        var exhausted = false
    }
    private let state = Mutex(State())

    package enum Reservation: Sendable, Equatable {
        case granted
        /// The budget was already exhausted.
        case refused
        /// This estimate is the one that did not fit: the budget is exhausted from now on.
        case refusedFirst
    }

    /// nil limits: unlimited (the budget still counts).
    package init(maxTokens: Int? = nil, maxCostUSD: Double? = nil) {
        self.maxTokens = maxTokens
        self.maxCostUSD = maxCostUSD
    }

    package func reserve(tokens: Int, costUSD: Double) -> Reservation {
        let (maxTokens, maxCost) = (self.maxTokens, self.maxCostUSD)
        return state.withLock { s in
            if s.exhausted { return .refused }
            let tokensFit = maxTokens.map { s.tokens + s.reservedTokens + tokens <= $0 } ?? true
            let costFits = maxCost.map { s.costUSD + s.reservedCost + costUSD <= $0 + 1e-12 } ?? true
            guard tokensFit && costFits else {
                s.exhausted = true
                return .refusedFirst
            }
            s.reservedTokens += tokens
            s.reservedCost += costUSD
            return .granted
        }
    }

    /// Releases a granted reservation and charges what was spent (0 for a request that failed).
    package func settle(reservedTokens: Int, reservedCostUSD: Double, tokens: Int, costUSD: Double) {
        state.withLock { s in
            s.reservedTokens -= reservedTokens
            s.reservedCost -= reservedCostUSD
            s.tokens += tokens
            s.costUSD += costUSD
        }
    }

    /// Spent so far, by every stage.
    package var spent: (tokens: Int, costUSD: Double) { state.withLock { ($0.tokens, $0.costUSD) } }

    /// True once a request did not fit: nothing more is sent this run.
    package var isExhausted: Bool { state.withLock { $0.exhausted } }
}
