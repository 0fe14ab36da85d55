import ArgumentParser
import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools

/// `stats`: LLM usage recorded in the state database (opened read-only).
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "LLM usage: tokens and cost, in total and per session, or per model (reads the state database only).",
        subcommands: [Sessions.self, CostByModel.self], defaultSubcommand: Sessions.self)

    enum Range: String, ExpressibleByArgument, CaseIterable {
        case day = "24h", week = "7d", month = "30d", all

        /// Unix seconds the range starts at; nil for all.
        func since(now: Double = Date().timeIntervalSince1970) -> Double? {
            switch self {
            case .day: return now - 86_400
            case .week: return now - 7 * 86_400
            case .month: return now - 30 * 86_400
            case .all: return nil
            }
        }
    }

    struct Common: ParsableArguments {
        @OptionGroup var state: StateOptions

        @Option(help: "24h, 7d, 30d or all.")
        var range: Range = .all

        @Flag(help: "One JSON object.")
        var json = false

        func usage(_ grouping: StateDatabase.UsageGrouping) async throws -> [LLMUsageTotals] {
            guard FileManager.default.fileExists(atPath: state.path) else {
                throw WorkerError(.usage, operation: "read usage", message: "no state database at \(state.path) (no run yet?)")
            }
            let store = try await CheckpointStore.open(readOnlyPath: state.path)
            let since = range.since()
            return try await store.read { store in try store.usage(since: since, by: grouping) }
        }
    }

    static func figures(_ t: LLMUsageTotals) -> [(String, JSONValue)] {
        [("tokens_in", .number(JSONNumber(t.tokensIn))), ("tokens_out", .number(JSONNumber(t.tokensOut))),
         ("cost_usd", .number(JSONNumber(literal: cost(t.costUSD), isInteger: false))),
         ("requests", .number(JSONNumber(t.requests))), ("cached_turns", .number(JSONNumber(t.cachedTurns)))]
    }

    /// A cost as a JSON number with full precision (no rounding: the figures must add up).
    static func cost(_ value: Double) -> String {
        let text = "\(value)"
        return text.contains(".") || text.contains("e") ? text : text + ".0"
    }

    struct Sessions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sessions", abstract: "Totals and per-session usage (the default).")

        @OptionGroup var common: Common

        func run() async throws {
            try await withExitStatus {
                let total = try await common.usage(.total).first ?? LLMUsageTotals()
                let sessions = try await common.usage(.session)
                if common.json {
                    let rows = sessions.map { s in
                        JSONValue.object(JSONObject([("user_id", .string(s.userID ?? "")), ("session_id", .string(s.sessionID ?? ""))]
                                                    + StatsCommand.figures(s)))
                    }
                    let object = JSONObject([("range", .string(common.range.rawValue))] + StatsCommand.figures(total)
                                            + [("sessions", .array(rows))])
                    print(JSONWriter.string(.object(object), style: .compact))
                } else {
                    print("range \(common.range.rawValue): \(total.tokensIn) tokens in, \(total.tokensOut) out, "
                          + "$\(String(format: "%.6f", total.costUSD)), \(total.requests) requests, \(total.cachedTurns) turns from the cache")
                    for s in sessions {
                        print("  \(s.userID ?? "")  \(s.sessionID ?? "")  in \(s.tokensIn)  out \(s.tokensOut)  "
                              + "$\(String(format: "%.6f", s.costUSD))  requests \(s.requests)  cached \(s.cachedTurns)")
                    }
                }
                return .done
            }
        }
    }

    struct CostByModel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cost-by-model", abstract: "Usage and cost per model.")

        @OptionGroup var common: Common

        func run() async throws {
            try await withExitStatus {
                let models = try await common.usage(.model)
                if common.json {
                    let total = try await common.usage(.total).first ?? LLMUsageTotals()
                    let rows = models.map { m in JSONValue.object(JSONObject([("model", .string(m.model ?? ""))] + StatsCommand.figures(m))) }
                    let object = JSONObject([("range", .string(common.range.rawValue))] + StatsCommand.figures(total)
                                            + [("models", .array(rows))])
                    print(JSONWriter.string(.object(object), style: .compact))
                } else {
                    for m in models {
                        print("\(m.model ?? "")  in \(m.tokensIn)  out \(m.tokensOut)  $\(String(format: "%.6f", m.costUSD))  "
                              + "requests \(m.requests)  cached \(m.cachedTurns)")
                    }
                    if models.isEmpty { print("no LLM usage in range \(common.range.rawValue)") }
                }
                return .done
            }
        }
    }
}
