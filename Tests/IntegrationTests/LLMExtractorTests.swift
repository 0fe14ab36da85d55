import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import TestSupport
import Synchronization
import Testing

/// `memify-worker run --extractor llm` end to end: the built binary against a scripted
/// chat-completions server on loopback, a filesystem cache written in cognee's format, the
/// embedded SQLite graph and a state database in a temporary folder. No other server needed.
@Suite("LLM extractor (scripted chat-completions server → SQLite graph)", .serialized)
struct LLMExtractorTests {
    static let key = "sk-test-SECRET-0123456789abcdef"
    static let model = "openai/gpt-4o-mini"

    struct Harness {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memify-llm-\(UUID().uuidString)").path
        let user = "llm-user"
        let server: ScriptedLLMServer

        init(responder: @escaping ScriptedLLMServer.Responder) throws {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            server = try ScriptedLLMServer(responder: responder)
        }

        var cacheDirectory: String { directory + "/sessions_db" }
        var graphPath: String { directory + "/graph.db" }
        var statePath: String { directory + "/state.db" }

        /// Writes sessions s0…, each with `turns` turns; `question` may mark a turn for the responder.
        func write(sessions: Int, turns: Int, question: (Int, Int) -> String = { s, t in "Question \(t) about s\(s)?" }) throws {
            let writer = try FileCacheWriter(directory: cacheDirectory, ttlSeconds: nil)
            try writer.write(entries: (0..<sessions).map { s in
                (SessionKey(userID: user, sessionID: "s\(s)"), (0..<turns).map { t in
                    SessionQAEntry(time: SyntheticCorpus.isoTime(1_795_000_000 + Double(s * 100 + t) * 60), question: question(s, t),
                                   context: "ctx", answer: "Answer \(t): Alice moved to Paris in 2010.", qaID: "qa-s\(s)-\(t)")
                })
            })
        }

        func run(_ extra: [String] = [], environment: [String: String] = [:], model: String = LLMExtractorTests.model) throws
            -> WorkerProcess.Outcome {
            try WorkerProcess.run(
                ["run", "--cache", "fs:" + cacheDirectory, "--graph", "sqlite:" + graphPath, "--state", statePath, "--extractor", "llm",
                 "--llm-endpoint", server.endpoint, "--llm-model", model, "--llm-retry-base-delay", "0.05",
                 "--json", "--no-progress"] + extra,
                environment: ["LLM_API_KEY": LLMExtractorTests.key, "LLM_PROVIDER": "openai"].merging(environment) { $1 })
        }

        func worker(_ arguments: [String]) throws -> WorkerProcess.Outcome {
            try WorkerProcess.run(arguments + ["--state", statePath])
        }

        /// (type, name) of every graph node, and the relationship names of every edge.
        func graph() throws -> (nodes: [(type: String, name: String)], edges: [String]) {
            let db = try SQLiteDatabase(path: graphPath, mode: .readOnly)
            let nodes = try db.withStatement("SELECT type, name FROM graph_node", operation: "read nodes") { stmt throws(DatabaseError) in
                var out: [(type: String, name: String)] = []
                while try stmt.step() { out.append((stmt.text(0) ?? "", stmt.text(1) ?? "")) }
                return out
            }
            let edges = try db.withStatement("SELECT relationship_name FROM graph_edge", operation: "read edges") { stmt throws(DatabaseError) in
                var out: [String] = []
                while try stmt.step() { out.append(stmt.text(0) ?? "") }
                return out
            }
            return (nodes, edges)
        }

        func checkpointCount() throws -> Int {
            let db = try SQLiteDatabase(path: statePath, mode: .readOnly)
            return try db.withStatement("SELECT count(*) FROM turns", operation: "count") { stmt throws(DatabaseError) in
                _ = try stmt.step()
                return Int(stmt.int64(0))
            }
        }

        func quarantine() throws -> [JSONObject] {
            let outcome = try worker(["quarantine", "list", "--json"])
            return try outcome.stdoutText.split(separator: "\n").map { line in
                guard case .object(let o) = try JSONParser.parse(Array(line.utf8)) else { throw FixtureError("not an object") }
                return o
            }
        }
    }

    static func summary(_ outcome: WorkerProcess.Outcome) throws -> JSONObject {
        let line = try #require(outcome.stdoutText.split(separator: "\n").last, "no summary line; stderr: \(outcome.stderr)")
        guard case .object(let object) = try JSONParser.parse(Array(line.utf8)) else { throw FixtureError("summary is not an object") }
        return object
    }

    static func int(_ object: JSONObject, _ key: String) -> Int? {
        if case .number(let n)? = object[key] { return Int(n.literal) }
        return nil
    }

    static func double(_ object: JSONObject, _ key: String) -> Double? {
        if case .number(let n)? = object[key] { return n.doubleValue }
        return nil
    }

    /// gpt-4o-mini's row of the price table (spec §12.1): $0.15 in, $0.60 out per million tokens.
    static func expectedCost(tokensIn: Int, tokensOut: Int) -> Double {
        Double(tokensIn) / 1e6 * 0.15 + Double(tokensOut) / 1e6 * 0.60
    }

    // MARK: tests

    @Test("valid answers become entities and relations; usage, stats and cost-by-model equal the scripted usage and the price table; the key is sent and never stored",
          .timeLimit(.minutes(10)))
    func validOutput() throws {
        let h = try Harness { request in
            .completion(ScriptedLLMServer.answer(for: request), promptTokens: 1000, completionTokens: 200)
        }
        try h.write(sessions: 2, turns: 3)
        let outcome = try h.run(["--llm-turns-per-request", "2"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let s = try Self.summary(outcome)
        #expect(Self.int(s, "turns_persisted") == 6)
        #expect(Self.int(s, "tokens_in") == 3000 && Self.int(s, "tokens_out") == 600)

        let requests = h.server.requests
        #expect(requests.count == 3)
        for r in requests {
            #expect(r.method == "POST" && r.target == "/v1/chat/completions")
            #expect(r.headers["authorization"] == "Bearer \(Self.key)")
            let body = try #require(r.bodyJSON)
            #expect(body["model"] == .string("gpt-4o-mini"))
            guard case .object(let format)? = body["response_format"] else { Issue.record("no response_format"); continue }
            #expect(format["type"] == .string("json_schema"))
            #expect(r.turns.map(\.index) == [0, 1])
        }

        let graph = try h.graph()
        #expect(graph.nodes.contains { $0.type == "Entity" && $0.name == "alice" })
        #expect(graph.nodes.contains { $0.type == "Entity" && $0.name == "paris" })
        #expect(graph.nodes.contains { $0.type == "EntityType" && $0.name == "person" })
        #expect(graph.edges.contains("moved_to"))
        #expect(graph.nodes.contains { $0.type == "TextSummary" && $0.name.contains("Summary: Question") } ||
                graph.nodes.filter { $0.type == "TextSummary" }.count == 6)
        #expect(try h.checkpointCount() == 6)

        // stats: totals and per session, equal to the scripted usage and the table.
        let stats = try h.worker(["stats", "--json"])
        #expect(stats.status == 0, "\(stats.stderr)")
        guard case .object(let totals) = try JSONParser.parse(Array(stats.stdoutText.utf8)) else { throw FixtureError("stats") }
        #expect(Self.int(totals, "tokens_in") == 3000 && Self.int(totals, "tokens_out") == 600 && Self.int(totals, "requests") == 3)
        let cost = try #require(Self.double(totals, "cost_usd"))
        #expect(abs(cost - Self.expectedCost(tokensIn: 3000, tokensOut: 600)) < 1e-12)
        guard case .array(let sessions)? = totals["sessions"] else { throw FixtureError("no sessions") }
        #expect(sessions.count == 2)
        var sumIn = 0, sumOut = 0, sumCost = 0.0
        for case .object(let row) in sessions {
            #expect(row["user_id"] == .string(h.user))
            sumIn += Self.int(row, "tokens_in") ?? 0
            sumOut += Self.int(row, "tokens_out") ?? 0
            sumCost += Self.double(row, "cost_usd") ?? 0
        }
        #expect(sumIn == 3000 && sumOut == 600 && abs(sumCost - cost) < 1e-12)

        let byModel = try h.worker(["stats", "cost-by-model", "--json"])
        #expect(byModel.status == 0, "\(byModel.stderr)")
        guard case .object(let m) = try JSONParser.parse(Array(byModel.stdoutText.utf8)), case .array(let models)? = m["models"],
              models.count == 1, case .object(let row) = models[0] else { throw FixtureError("cost-by-model: \(byModel.stdoutText)") }
        #expect(row["model"] == .string(Self.model))
        #expect(Self.int(row, "tokens_in") == 3000 && Self.int(row, "tokens_out") == 600 && Self.int(row, "requests") == 3)
        #expect(abs((Self.double(row, "cost_usd") ?? -1) - Self.expectedCost(tokensIn: 3000, tokensOut: 600)) < 1e-12)

        // The key is in no log line and nowhere in the state database.
        #expect(!outcome.stderr.contains(Self.key))
        for suffix in ["", "-wal"] {
            if let data = FileManager.default.contents(atPath: h.statePath + suffix) {
                #expect(!String(decoding: data, as: UTF8.self).contains("SECRET-0123456789"), "key found in state\(suffix)")
            }
        }
    }

    @Test("429 with Retry-After is retried after at least that delay, then succeeds", .timeLimit(.minutes(10)))
    func rateLimited() throws {
        let h = try Harness { request in
            request.number == 0
                ? .init(status: 429, json: #"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#,
                        headers: [("Retry-After", "2")])
                : .completion(ScriptedLLMServer.answer(for: request), promptTokens: 50, completionTokens: 20)
        }
        try h.write(sessions: 1, turns: 2)
        let outcome = try h.run()
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let requests = h.server.requests
        #expect(requests.count == 2)
        if requests.count == 2 { #expect(requests[1].at - requests[0].at >= 2.0, "retried after \(requests[1].at - requests[0].at)s") }
        #expect(Self.int(try Self.summary(outcome), "turns_persisted") == 2)
    }

    @Test("500 and 503 are retried, then the answer is used", .timeLimit(.minutes(10)))
    func serverErrors() throws {
        let h = try Harness { request in
            switch request.number {
            case 0: return .init(status: 500, json: #"{"error":{"message":"boom"}}"#)
            case 1: return .init(status: 503, body: Array("upstream unavailable".utf8))
            default: return .completion(ScriptedLLMServer.answer(for: request), promptTokens: 50, completionTokens: 20)
            }
        }
        try h.write(sessions: 1, turns: 2)
        let outcome = try h.run()
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(h.server.requests.count == 3)
        #expect(try h.checkpointCount() == 2)
    }

    @Test("401, 402 and 429 insufficient_quota stop the run with exit 69 after exactly one request, naming the endpoint, never the key",
          .timeLimit(.minutes(10)),
          arguments: [
            (401, #"{"error":{"message":"Incorrect API key provided: sk-test-SECRET-0123456789abcdef","type":"invalid_request_error","code":"invalid_api_key"}}"#, "API key"),
            (402, #"{"error":{"message":"pay up"}}"#, "402"),
            (429, #"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#, "insufficient_quota"),
          ])
    func fatal(status: Int, body: String, words: String) throws {
        let h = try Harness { _ in .init(status: status, json: body) }
        try h.write(sessions: 1, turns: 3)
        let outcome = try h.run(["--llm-turns-per-request", "1", "--concurrency", "1"])
        #expect(outcome.status == 69, "\(outcome.stderr)")
        #expect(h.server.requests.count == 1)
        #expect(outcome.stderr.contains(words))
        #expect(outcome.stderr.contains("127.0.0.1:\(h.server.port)"))
        #expect(!outcome.stderr.contains(Self.key) && !outcome.stderr.contains("SECRET"))
        #expect(try h.checkpointCount() == 0)
        for suffix in ["", "-wal"] {
            if let data = FileManager.default.contents(atPath: h.statePath + suffix) {
                #expect(!String(decoding: data, as: UTF8.self).contains("SECRET"), "key found in state\(suffix)")
            }
        }
        let recorded = try h.worker(["status", "--json"])
        #expect(recorded.stdoutText.contains(#""status":"failed""#) && !recorded.stdoutText.contains("SECRET"), "\(recorded.stdoutText)")
    }

    @Test("malformed JSON for one turn: that turn is quarantined (exit 3), the others persist; the next run asks again only for it",
          .timeLimit(.minutes(10)))
    func malformed() throws {
        let broken = Mutex(true)
        let h = try Harness { request in
            if request.userMessage.contains("GARBLED"), broken.withLock({ $0 }) {
                return .completion(#"{"turns": [{"index": 0, "summary": "cut off"#, promptTokens: 10, completionTokens: 5)
            }
            return .completion(ScriptedLLMServer.answer(for: request), promptTokens: 10, completionTokens: 5)
        }
        try h.write(sessions: 1, turns: 3) { _, t in t == 1 ? "GARBLED question \(t)?" : "Question \(t)?" }
        let first = try h.run(["--llm-turns-per-request", "1"])
        #expect(first.status == 3, "\(first.stderr)")
        let s = try Self.summary(first)
        #expect(Self.int(s, "turns_persisted") == 2 && Self.int(s, "turns_quarantined") == 1)
        #expect(try h.checkpointCount() == 2)
        let entries = try h.quarantine()
        #expect(entries.count == 1)
        if case .string(let reason)? = entries.first?["reason"] { #expect(reason.contains("malformed JSON"), "\(reason)") }
        #expect(entries.first?["index"] == .number(JSONNumber(1)))
        #expect(h.server.requests.count == 3)

        broken.withLock { $0 = false }
        let second = try h.run(["--llm-turns-per-request", "1"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(h.server.requests.count == 4)
        #expect(h.server.requests.last?.userMessage.contains("GARBLED") == true)
        #expect(try h.checkpointCount() == 3)
        #expect(try h.quarantine().isEmpty)
    }

    @Test("a schema violation in one turn of a batch answer quarantines only that turn", .timeLimit(.minutes(10)))
    func schemaViolation() throws {
        let h = try Harness { request in
            .completion(ScriptedLLMServer.answer(for: request) { index, text in
                guard text.contains("DANGLING") else { return ScriptedLLMServer.goodTurn(index: index, text: text) }
                return .object(JSONObject([
                    ("index", .number(JSONNumber(index))), ("summary", .string("bad")),
                    ("nodes", .array([.object(JSONObject([("id", .string("Alice")), ("name", .string("Alice")),
                                                          ("type", .string("Person")), ("description", .string("x"))]))])),
                    ("edges", .array([.object(JSONObject([("source_node_id", .string("Alice")), ("target_node_id", .string("Nowhere")),
                                                          ("relationship_name", .string("went_to")), ("description", .string("x"))]))])),
                ]))
            }, promptTokens: 30, completionTokens: 9)
        }
        try h.write(sessions: 1, turns: 3) { _, t in t == 2 ? "DANGLING question \(t)?" : "Question \(t)?" }
        let outcome = try h.run(["--llm-turns-per-request", "3"])
        #expect(outcome.status == 3, "\(outcome.stderr)")
        #expect(h.server.requests.count == 1)
        #expect(h.server.requests.first?.turns.count == 3)
        let s = try Self.summary(outcome)
        #expect(Self.int(s, "turns_persisted") == 2 && Self.int(s, "turns_quarantined") == 1)
        let entries = try h.quarantine()
        #expect(entries.count == 1)
        if case .string(let reason)? = entries.first?["reason"] {
            #expect(reason.contains("schema violation") && reason.contains("Nowhere"), "\(reason)")
        }
        #expect(try h.checkpointCount() == 2)
    }

    @Test("an answer slower than --llm-timeout is retried, then its turn is quarantined; the others persist", .timeLimit(.minutes(10)))
    func slowAnswer() throws {
        let h = try Harness { request in
            .completion(ScriptedLLMServer.answer(for: request), promptTokens: 10, completionTokens: 5,
                        delay: request.userMessage.contains("SLOW") ? 4 : 0)
        }
        try h.write(sessions: 1, turns: 3) { _, t in t == 0 ? "SLOW question \(t)?" : "Question \(t)?" }
        let started = Date()
        let outcome = try h.run(["--llm-turns-per-request", "1", "--llm-timeout", "1", "--llm-max-attempts", "2"])
        #expect(outcome.status == 3, "\(outcome.stderr)")
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(h.server.requests.filter { $0.userMessage.contains("SLOW") }.count == 2)
        let entries = try h.quarantine()
        #expect(entries.count == 1)
        if case .string(let reason)? = entries.first?["reason"] { #expect(reason.contains("within 1s"), "\(reason)") }
        #expect(try h.checkpointCount() == 2)
    }

    @Test("a token budget stops the run with consistent checkpoints (exit 0, stopped_by_budget); a second run finishes the rest and never re-requests a done turn",
          .timeLimit(.minutes(10)))
    func budget() throws {
        let h = try Harness { request in .completion(ScriptedLLMServer.answer(for: request), promptTokens: 10, completionTokens: 5) }
        try h.write(sessions: 1, turns: 6)
        let dry = try h.run(["--dry-run", "--llm-turns-per-request", "1"])
        #expect(dry.status == 0, "\(dry.stderr)")
        let perTurn = try #require(Self.int(try Self.summary(dry), "estimated_tokens")) / 6
        #expect(perTurn > 15)
        // Room for three requests: each costs 15 tokens, and each must fit with the next estimate.
        let first = try h.run(["--llm-turns-per-request", "1", "--concurrency", "1", "--max-tokens", "\(perTurn + 40)"])
        #expect(first.status == 0, "\(first.stderr)")
        let s = try Self.summary(first)
        #expect(s["stopped_by_budget"] == .bool(true))
        #expect(Self.int(s, "turns_persisted") == 3 && Self.int(s, "turns_deferred") == 3)
        #expect(h.server.requests.count == 3)
        #expect(try h.checkpointCount() == 3)
        #expect(first.stderr.contains("budget"))

        let second = try h.run(["--llm-turns-per-request", "1"])
        #expect(second.status == 0, "\(second.stderr)")
        let s2 = try Self.summary(second)
        #expect(s2["stopped_by_budget"] == .bool(false))
        #expect(Self.int(s2, "turns_persisted") == 3 && Self.int(s2, "turns_unchanged") == 3)
        #expect(h.server.requests.count == 6)
        let asked = h.server.requests.flatMap { $0.turns.map(\.text) }
        #expect(Set(asked).count == 6, "a turn was asked twice")
        #expect(try h.checkpointCount() == 6)
    }

    @Test("a cost budget smaller than one request sends nothing", .timeLimit(.minutes(10)))
    func costBudget() throws {
        let h = try Harness { request in .completion(ScriptedLLMServer.answer(for: request), promptTokens: 10, completionTokens: 5) }
        try h.write(sessions: 1, turns: 2)
        let outcome = try h.run(["--max-cost", "0.0000001"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(try Self.summary(outcome)["stopped_by_budget"] == .bool(true))
        #expect(h.server.requests.isEmpty)
        #expect(try h.checkpointCount() == 0)
    }

    @Test("the response cache: after the graph and the checkpoints are lost, a re-run rebuilds them without calling the server",
          .timeLimit(.minutes(10)))
    func responseCache() throws {
        let h = try Harness { request in .completion(ScriptedLLMServer.answer(for: request), promptTokens: 100, completionTokens: 40) }
        try h.write(sessions: 1, turns: 3)
        let first = try h.run(["--llm-turns-per-request", "2"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(h.server.requests.count == 2)

        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: h.graphPath + suffix) }
        let db = try SQLiteDatabase(path: h.statePath, mode: .readWrite)
        try db.execute("DELETE FROM turns")
        #expect(try h.checkpointCount() == 0)

        // Batched differently this time: the cache is per turn, so it still hits.
        let second = try h.run(["--llm-turns-per-request", "3"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(h.server.requests.count == 2)
        let s = try Self.summary(second)
        #expect(Self.int(s, "turns_persisted") == 3 && Self.int(s, "tokens_in") == 0)
        #expect(try h.graph().nodes.contains { $0.type == "Entity" && $0.name == "alice" })
        let stats = try h.worker(["stats", "--json"])
        guard case .object(let totals) = try JSONParser.parse(Array(stats.stdoutText.utf8)) else { throw FixtureError("stats") }
        #expect(Self.int(totals, "cached_turns") == 3 && Self.int(totals, "requests") == 2 && Self.int(totals, "tokens_in") == 200)
    }

    @Test("--dry-run estimates tokens and cost and makes no HTTP request (no API key needed)", .timeLimit(.minutes(10)))
    func dryRun() throws {
        let h = try Harness { request in .completion(ScriptedLLMServer.answer(for: request)) }
        try h.write(sessions: 2, turns: 2)
        let outcome = try h.run(["--dry-run"], environment: ["LLM_API_KEY": ""])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let s = try Self.summary(outcome)
        #expect((Self.int(s, "estimated_tokens") ?? 0) > 4 * 100)
        #expect((Self.double(s, "estimated_cost_usd") ?? 0) > 0)
        #expect(h.server.requests.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: h.graphPath))
    }

    @Test("without a usage object, tokens are cognee's heuristic over what was sent and received", .timeLimit(.minutes(10)))
    func heuristicUsage() throws {
        let contents = Mutex<[String]>([])
        let h = try Harness { request in
            let answer = ScriptedLLMServer.answer(for: request)
            contents.withLock { $0.append(answer) }
            return .completion(answer)
        }
        try h.write(sessions: 1, turns: 2)
        let outcome = try h.run(["--llm-turns-per-request", "2"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let request = try #require(h.server.requests.first)
        #expect(h.server.requests.count == 1)
        let expectedIn = LLMPricing.heuristicTokens(LLMPrompt.system) + LLMPricing.heuristicTokens(request.userMessage)
        let expectedOut = LLMPricing.heuristicTokens(try #require(contents.withLock { $0.first }))
        let s = try Self.summary(outcome)
        #expect(Self.int(s, "tokens_in") == expectedIn && Self.int(s, "tokens_out") == expectedOut)
        let stats = try h.worker(["stats", "cost-by-model", "--json", "--range", "24h"])
        guard case .object(let totals) = try JSONParser.parse(Array(stats.stdoutText.utf8)) else { throw FixtureError("stats") }
        #expect(abs((Self.double(totals, "cost_usd") ?? -1) - Self.expectedCost(tokensIn: expectedIn, tokensOut: expectedOut)) < 1e-12)
    }

    @Test("Azure sends api-key and ?api-version= (no Authorization); a keyless OpenAI-compatible server gets no Authorization; the model is sent without its provider prefix",
          .timeLimit(.minutes(10)))
    func providers() throws {
        let h = try Harness { request in .completion(ScriptedLLMServer.answer(for: request), promptTokens: 5, completionTokens: 5) }
        try h.write(sessions: 1, turns: 1)
        let azure = try h.run([], environment: ["LLM_PROVIDER": "azure", "LLM_API_VERSION": "2024-06-01"], model: "azure/gpt-4o")
        #expect(azure.status == 0, "\(azure.stderr)")
        let a = try #require(h.server.requests.last)
        #expect(a.target == "/v1/chat/completions?api-version=2024-06-01")
        #expect(a.headers["api-key"] == Self.key && a.headers["authorization"] == nil)
        #expect(a.bodyJSON?["model"] == .string("gpt-4o"))

        // Another model is another extractor identity: the turn is derived again, by the new model.
        let custom = try h.run([], environment: ["LLM_PROVIDER": "hosted_vllm", "LLM_API_KEY": ""],
                               model: "hosted_vllm/meta-llama/Llama-3-8B")
        #expect(custom.status == 0, "\(custom.stderr)")
        #expect(h.server.requests.count == 2)
        let c = try #require(h.server.requests.last)
        #expect(c.target == "/v1/chat/completions" && c.headers["authorization"] == nil && c.headers["api-key"] == nil)
        #expect(c.bodyJSON?["model"] == .string("meta-llama/Llama-3-8B"))
        #expect(Self.int(try Self.summary(custom), "turns_changed") == 1)
    }

    @Test("5xx on every attempt, or an endpoint that refuses connections, stops the run with exit 69 once the attempts are used up",
          .timeLimit(.minutes(10)))
    func unavailable() throws {
        let h = try Harness { _ in .init(status: 502, json: #"{"error":{"message":"bad gateway"}}"#) }
        try h.write(sessions: 1, turns: 2)
        let outcome = try h.run(["--llm-max-attempts", "3", "--llm-turns-per-request", "2"])
        #expect(outcome.status == 69, "\(outcome.stderr)")
        #expect(h.server.requests.count == 3)
        #expect(outcome.stderr.contains("HTTP 502 after 3 attempts"))
        #expect(try h.checkpointCount() == 0)

        h.server.stop()
        let refused = try h.run(["--llm-max-attempts", "2"])
        #expect(refused.status == 69, "\(refused.stderr)")
        #expect(refused.stderr.contains("cannot connect") && refused.stderr.contains("127.0.0.1:\(h.server.port)"))
    }

    @Test("out of budget in the first of several batches: later sessions are not even planned; the next run does exactly the rest",
          .timeLimit(.minutes(10)))
    func budgetAcrossBatches() throws {
        let h = try Harness { request in .completion(ScriptedLLMServer.answer(for: request), promptTokens: 10, completionTokens: 5) }
        try h.write(sessions: 30, turns: 4)
        let dry = try h.run(["--dry-run", "--llm-turns-per-request", "8"])
        let perTurn = try #require(Self.int(try Self.summary(dry), "estimated_tokens")) / 120
        // The first request's estimate is about 8 turns' worth; leave room for two requests, not three.
        let first = try h.run(["--llm-turns-per-request", "8", "--concurrency", "1", "--max-tokens", "\(perTurn * 8 + 20)"])
        #expect(first.status == 0, "\(first.stderr)")
        let s = try Self.summary(first)
        #expect(s["stopped_by_budget"] == .bool(true))
        let persisted = try #require(Self.int(s, "turns_persisted"))
        #expect(persisted == 8 * h.server.requests.count && persisted > 0 && persisted < 120)
        #expect((Self.int(s, "sessions_seen") ?? 0) < 30, "sessions after the budget ran out were planned \(s)")
        #expect(try h.checkpointCount() == persisted)
        #expect(first.stderr.components(separatedBy: "LLM budget reached").count == 2, "warn once")

        let second = try h.run(["--llm-turns-per-request", "8"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(Self.int(try Self.summary(second), "turns_persisted") == 120 - persisted)
        let asked = h.server.requests.flatMap { $0.turns.map(\.text) }
        #expect(asked.count == 120 && Set(asked).count == 120)
        #expect(try h.checkpointCount() == 120)
    }
}
