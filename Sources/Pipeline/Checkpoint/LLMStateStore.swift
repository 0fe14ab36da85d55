import MemifyCore
import GraphStore
import SessionCache
package import Extraction
import Foundation

extension CheckpointStore: LLMStateStoring {
    package func cachedAnswers(model: String, promptHashes: [String]) async throws -> [String: LLMCachedAnswer] {
        guard !promptHashes.isEmpty else { return [:] }
        return try await read { state in
            try state.database.withStatement(
                "SELECT answer, tokens_in, tokens_out, cost_usd FROM llm_cache WHERE model = ?1 AND prompt_hash = ?2",
                operation: "read the LLM response cache"
            ) { stmt throws(DatabaseError) -> [String: LLMCachedAnswer] in
                var out: [String: LLMCachedAnswer] = [:]
                for hash in Set(promptHashes) {
                    stmt.reset()
                    try stmt.bind(1, model)
                    try stmt.bind(2, hash)
                    if try stmt.step() {
                        out[hash] = LLMCachedAnswer(promptHash: hash, answer: stmt.bytes(0), tokensIn: Int(stmt.int64(1)),
                                                    tokensOut: Int(stmt.int64(2)), costUSD: stmt.double(3))
                    }
                }
                return out
            }
        }
    }

    package func storeAnswers(_ answers: [LLMCachedAnswer], model: String) async throws {
        guard !answers.isEmpty else { return }
        let now = Date().timeIntervalSince1970
        try await write { state in
            try state.database.transaction { () throws(DatabaseError) in
                try state.database.withStatement("""
                    INSERT INTO llm_cache (model, prompt_hash, answer, tokens_in, tokens_out, cost_usd, created_at)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                    ON CONFLICT (model, prompt_hash) DO UPDATE SET answer = excluded.answer, tokens_in = excluded.tokens_in,
                      tokens_out = excluded.tokens_out, cost_usd = excluded.cost_usd, created_at = excluded.created_at
                    """, operation: "store LLM answers") { stmt throws(DatabaseError) in
                    for a in answers {
                        stmt.reset()
                        try stmt.bind(1, model)
                        try stmt.bind(2, a.promptHash)
                        try stmt.bindText(3, bytes: a.answer)
                        try stmt.bind(4, Int64(a.tokensIn))
                        try stmt.bind(5, Int64(a.tokensOut))
                        try stmt.bind(6, a.costUSD)
                        try stmt.bind(7, now)
                        _ = try stmt.step()
                    }
                }
            }
        }
    }

    package func recordUsage(_ rows: [LLMUsageRow]) async throws {
        guard !rows.isEmpty else { return }
        try await write { state in
            try state.database.transaction { () throws(DatabaseError) in
                try state.database.withStatement("""
                    INSERT INTO usage (run_id, request_id, user_id, session_id, model, turns, tokens_in, tokens_out, cost_usd, at, cached)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                    """, operation: "record LLM usage") { stmt throws(DatabaseError) in
                    for r in rows {
                        stmt.reset()
                        try stmt.bind(1, r.runID)
                        try stmt.bind(2, r.requestID)
                        try stmt.bind(3, r.userID)
                        try stmt.bind(4, r.sessionID)
                        try stmt.bind(5, r.model)
                        try stmt.bind(6, Int64(r.turns))
                        try stmt.bind(7, Int64(r.tokensIn))
                        try stmt.bind(8, Int64(r.tokensOut))
                        try stmt.bind(9, r.costUSD)
                        try stmt.bind(10, r.at)
                        try stmt.bind(11, Int64(r.cached ? 1 : 0))
                        _ = try stmt.step()
                    }
                }
            }
        }
    }
}

extension StateDatabase {
    package enum UsageGrouping: Sendable { case total, session, model }

    /// Usage since `since` (Unix seconds; nil: all time), summed as a whole, per session, or per
    /// model. Blocking. An old state database without the usage table reads as no usage.
    package func usage(since: Double?, by grouping: UsageGrouping) throws -> [LLMUsageTotals] {
        guard try database.hasTable("usage") else { return grouping == .total ? [LLMUsageTotals()] : [] }
        let keys: String
        switch grouping {
        case .total: keys = "NULL, NULL, NULL"
        case .session: keys = "user_id, session_id, NULL"
        case .model: keys = "NULL, NULL, model"
        }
        let group: String
        switch grouping {
        case .total: group = ""
        case .session: group = " GROUP BY user_id, session_id ORDER BY sum(cost_usd) DESC, user_id, session_id"
        case .model: group = " GROUP BY model ORDER BY sum(cost_usd) DESC, model"
        }
        let sql = """
            SELECT \(keys), coalesce(sum(tokens_in), 0), coalesce(sum(tokens_out), 0), coalesce(sum(cost_usd), 0.0),
              count(DISTINCT CASE WHEN cached = 0 THEN request_id END), coalesce(sum(CASE WHEN cached = 1 THEN turns ELSE 0 END), 0)
            FROM usage WHERE at >= ?1
            """ + group
        return try database.withStatement(sql, operation: "sum LLM usage") { stmt throws(DatabaseError) -> [LLMUsageTotals] in
            try stmt.bind(1, since ?? -Double.greatestFiniteMagnitude)
            var out: [LLMUsageTotals] = []
            while try stmt.step() {
                var t = LLMUsageTotals()
                t.userID = stmt.text(0)
                t.sessionID = stmt.text(1)
                t.model = stmt.text(2)
                t.tokensIn = Int(stmt.int64(3))
                t.tokensOut = Int(stmt.int64(4))
                t.costUSD = stmt.double(5)
                t.requests = Int(stmt.int64(6))
                t.cachedTurns = Int(stmt.int64(7))
                out.append(t)
            }
            return out
        }
    }
}
