import Foundation
@testable import MemifyCore
@testable import GraphStore
@testable import SessionCache
@testable import Extraction
@testable import Pipeline
@testable import MemifyTools
import Logging
import TestSupport
import Testing

/// The embedder against the deterministic embeddings server on loopback, with the state
/// database's cache in memory. No other server needed.
@Suite("Embedder (loopback embeddings server, in-memory cache)", .serialized, .timeLimit(.minutes(10)))
struct EmbeddingClientTests {
    static let key = "sk-embed-SECRET-0123456789abcdef"
    static let logger = Logger(label: "test.embed")

    struct Harness {
        let server: EmbeddingTestServer
        let store: CheckpointStore
        let configuration: EmbeddingConfiguration
        let embedder: Embedder

        init(provider: EmbeddingConfiguration.Provider = .openaiCompatible, model: String = "probe-embed", dimensions: Int = 16,
             batchSize: Int = 4, maxConcurrentDataPoints: Int = 8, timeout: Double = 5, attempts: Int = 3, latency: Double = 0,
             budget: RunBudget? = nil) async throws {
            server = EmbeddingTestServer(dimensions: dimensions, latency: latency)
            try server.start()
            store = try await CheckpointStore.open(path: ":memory:")
            configuration = EmbeddingConfiguration(provider: provider, model: model, endpoint: server.endpoint, apiKey: EmbeddingClientTests.key,
                                                   dimensions: dimensions, batchSize: batchSize,
                                                   maxConcurrentDataPoints: maxConcurrentDataPoints, timeoutSeconds: timeout,
                                                   maxAttempts: attempts, retryBaseDelay: 0.01, maxRetryDelay: 0.05)
            embedder = Embedder(configuration: configuration, cache: store, runID: "run-test", budget: budget, logger: EmbeddingClientTests.logger)
        }

        func expected(_ text: String) -> [Float] {
            let stripped = Embedder.strip(text)
            return stripped.isEmpty ? [Float](repeating: 0, count: configuration.dimensions)
                : EmbeddingTestServer.vector(for: stripped, dimensions: configuration.dimensions)
        }
    }

    static func texts(_ n: Int, prefix: String = "Alice moved to Paris in") -> [String] { (0..<n).map { "\(prefix) \(2000 + $0)." } }

    @Test("texts go batchSize to a request, with at most max(1, data points / batch) requests in flight; usage is recorded")
    func batchesAndConcurrency() async throws {
        let h = try await Harness(batchSize: 4, maxConcurrentDataPoints: 8, latency: 0.2)
        defer { h.server.stop() }
        let texts = Self.texts(20)
        let vectors = try await h.embedder.embed(texts)
        #expect(vectors == texts.map(h.expected))
        #expect(h.server.requests.count == 5)
        #expect(h.server.requests.allSatisfy { $0.texts.count == 4 })
        #expect(h.configuration.concurrency == 2)
        #expect(h.server.maxInFlight == 2)
        #expect(Set(h.server.requests.flatMap(\.texts)) == Set(texts))
        let spent = h.embedder.spent
        #expect(spent.requests == 5 && spent.textsEmbedded == 20 && spent.textsFromCache == 0)
        // The server reports whitespace words as prompt tokens: 6 per text.
        #expect(spent.promptTokens == 120)
        let usage = try await h.store.read { store in try store.usage(since: nil, by: .model) }
        #expect(usage.count == 1)
        #expect(usage.first?.model == "probe-embed" && usage.first?.tokensIn == 120 && usage.first?.tokensOut == 0)
        #expect(usage.first?.requests == 5)
    }

    @Test("a second call with the same texts makes no request; a changed list embeds only the new texts")
    func cache() async throws {
        let h = try await Harness()
        defer { h.server.stop() }
        let texts = Self.texts(10)
        let first = try await h.embedder.embed(texts)
        #expect(h.server.requests.count == 3)
        h.server.resetRecording()
        let again = try await h.embedder.embed(texts)
        #expect(again == first)
        #expect(h.server.requests.isEmpty)
        #expect(h.embedder.spent.textsFromCache == 10)

        let changed = Array(texts.dropFirst(2)) + ["Bob moved to Berlin.", "  Carol stayed in Rome.  "]
        let vectors = try await h.embedder.embed(changed)
        #expect(vectors == changed.map(h.expected))
        #expect(h.server.requests.count == 1)
        #expect(h.server.requests.first?.texts == ["Bob moved to Berlin.", "Carol stayed in Rome."])

        // Another embedder on the same state database (a rerun) pays nothing either.
        let rerun = Embedder(configuration: h.configuration, cache: h.store, runID: "run-2", logger: Self.logger)
        h.server.resetRecording()
        #expect(try await rerun.embed(changed + texts) == (changed + texts).map(h.expected))
        #expect(h.server.requests.isEmpty)
        // Another model is another identity: it misses.
        var upgraded = h.configuration
        upgraded.model = "probe-embed-v2"
        let other = Embedder(configuration: upgraded, cache: h.store, runID: "run-3", logger: Self.logger)
        #expect(other.identity == "probe-embed-v2@16")
        _ = try await other.embed(["Bob moved to Berlin."])
        #expect(h.server.requests.count == 1)
    }

    @Test("empty texts get zero vectors without a request; equal texts (after strip) are sent once")
    func emptyAndDuplicates() async throws {
        let h = try await Harness()
        defer { h.server.stop() }
        let onlyEmpty = try await h.embedder.embed(["", "   ", "\n\t\u{1F}"])
        #expect(onlyEmpty == Array(repeating: [Float](repeating: 0, count: 16), count: 3))
        #expect(h.server.requests.isEmpty)
        let texts = ["", "a b", " a b ", "a b\n", "c"]
        let vectors = try await h.embedder.embed(texts)
        #expect(vectors == texts.map(h.expected))
        #expect(h.server.requests.count == 1)
        #expect(h.server.requests.first?.texts == ["a b", "c"])
        #expect(try await h.embedder.embed([]) == [])
    }

    @Test("429 with Retry-After waits at least that long, then succeeds")
    func retryAfter() async throws {
        let h = try await Harness()
        defer { h.server.stop() }
        h.server.failNext(1, with: .rateLimited(retryAfter: "1"))
        let vectors = try await h.embedder.embed(["Alice moved to Paris."])
        #expect(vectors == [h.expected("Alice moved to Paris.")])
        let requests = h.server.requests
        #expect(requests.count == 2)
        if requests.count == 2 { #expect(requests[1].at - requests[0].at >= 1.0) }
        // A 500 is retried as well.
        h.server.resetRecording()
        h.server.failNext(2, with: .serverError)
        _ = try await h.embedder.embed(["Bob moved to Berlin."])
        #expect(h.server.requests.count == 3)
    }

    @Test("401 stops at once with serviceUnavailable naming endpoint, model and EMBEDDING_API_KEY, never the key")
    func unauthorized() async throws {
        let h = try await Harness()
        defer { h.server.stop() }
        h.server.failNext(1, with: .unauthorized)
        let error = await #expect(throws: WorkerError.self) { try await h.embedder.embed(["Alice"]) }
        #expect(error?.code == .serviceUnavailable)
        let text = "\(error.map { String(describing: $0) } ?? "") \(error.map { String(reflecting: $0) } ?? "")"
        #expect(text.contains("127.0.0.1:\(h.server.port ?? 0)"))
        #expect(text.contains("probe-embed"))
        #expect(text.contains("EMBEDDING_API_KEY"))
        #expect(!text.contains(Self.key))
        #expect(h.server.requests.count == 1)
        #expect(h.server.requests.first?.headers["authorization"] == "Bearer \(Self.key)")
        // No credit is not retried either.
        h.server.failNext(1, with: .insufficientQuota)
        let quota = await #expect(throws: WorkerError.self) { try await h.embedder.embed(["Bob"]) }
        #expect(quota?.code == .serviceUnavailable && quota?.message.contains("insufficient_quota") == true)
        #expect(h.server.requests.count == 2)
        #expect(!String(describing: h.configuration).contains(Self.key))
    }

    @Test("a request without an answer in time is retried; when the attempts are used up, serviceUnavailable")
    func timeouts() async throws {
        let h = try await Harness(timeout: 0.5, attempts: 2)
        defer { h.server.stop() }
        h.server.failNext(1, with: .delay(1.5))
        #expect(try await h.embedder.embed(["Alice"]) == [h.expected("Alice")])
        #expect(h.server.requests.count == 2)
        h.server.resetRecording()
        h.server.failNext(2, with: .delay(1.5))
        let error = await #expect(throws: WorkerError.self) { try await h.embedder.embed(["Bob"]) }
        #expect(error?.code == .serviceUnavailable)
        #expect(error?.message.contains("no answer within") == true)
        #expect(h.server.requests.count == 2)
    }

    @Test("vectors of the wrong width are refused, naming both widths, and nothing is cached")
    func wrongDimensions() async throws {
        let h = try await Harness()
        defer { h.server.stop() }
        h.server.failNext(1, with: .wrongDimensions(8))
        let error = await #expect(throws: WorkerError.self) { try await h.embedder.embed(["Alice", "Bob"]) }
        #expect(error?.code == .serviceUnavailable)
        #expect(error?.message.contains("8-dimensional") == true)
        #expect(error?.message.contains("EMBEDDING_DIMENSIONS is 16") == true)
        #expect(try await h.embedder.embed(["Alice", "Bob"]) == [h.expected("Alice"), h.expected("Bob")])
        #expect(h.server.requests.count == 2)
    }

    @Test("NaN in a vector is refused, naming the text's position")
    func nan() async throws {
        let h = try await Harness()
        defer { h.server.stop() }
        h.server.failNext(1, with: .nan(index: 1))
        let error = await #expect(throws: WorkerError.self) { try await h.embedder.embed(["Alice", "Bob", "Carol"]) }
        #expect(error?.code == .serviceUnavailable)
        #expect(error?.message.contains("text 1") == true)
        #expect(error?.message.contains("non-finite") == true)
    }

    @Test("request bodies per provider: openai strips the prefix and sends dimensions; openai_compatible sends encoding_format; azure")
    func requestBodies() async throws {
        let openai = try await Harness(provider: .openai, model: "openai/text-embedding-3-small")
        defer { openai.server.stop() }
        _ = try await openai.embedder.embed(["Alice moved to Paris."])
        let o = try #require(openai.server.requests.first)
        #expect(o.target == "/v1/embeddings")
        #expect(o.model == "text-embedding-3-small")
        #expect(o.dimensions == 16)
        #expect(o.bodyJSON?["encoding_format"] == nil)
        #expect(o.headers["authorization"] == "Bearer \(Self.key)")
        // Priced as text-embedding-3-small ($0.02 per million tokens): 4 words.
        #expect(abs(openai.embedder.spent.costUSD - 4 * 0.02 / 1e6) < 1e-15)

        let compatible = try await Harness(provider: .openaiCompatible, model: "probe-embed")
        defer { compatible.server.stop() }
        _ = try await compatible.embedder.embed(["Alice moved to Paris."])
        let c = try #require(compatible.server.requests.first)
        #expect(c.model == "probe-embed")
        #expect(c.dimensions == nil)
        #expect(c.bodyJSON?["encoding_format"] == .string("float"))

        let azure = try await Harness(provider: .azure, model: "azure/text-embedding-3-small")
        defer { azure.server.stop() }
        _ = try await azure.embedder.embed(["Alice moved to Paris."])
        let a = try #require(azure.server.requests.first)
        #expect(a.target == "/v1/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21")
        #expect(a.headers["api-key"] == Self.key)
        #expect(a.headers["authorization"] == nil)
        #expect(a.dimensions == 16)
    }

    @Test("the run's budget is checked before a request: EmbeddingBudgetExhausted, nothing sent; spending is charged to it")
    func budget() async throws {
        let tight = RunBudget(maxTokens: 10)
        let h = try await Harness(budget: tight)
        defer { h.server.stop() }
        await #expect(throws: EmbeddingBudgetExhausted.self) { try await h.embedder.embed(Self.texts(8)) }
        #expect(h.server.requests.isEmpty)
        #expect(tight.isExhausted)

        let open = RunBudget(maxTokens: 10_000)
        let g = try await Harness(budget: open)
        defer { g.server.stop() }
        _ = try await g.embedder.embed(Self.texts(8))
        #expect(open.spent.tokens == 48)
        #expect(!open.isExhausted)
    }

    @Test("the Swift server's vectors are the Python probe server's", .enabled(if: Self.python != nil, "python3 not found"))
    func pythonAgreement() async throws {
        let python = try #require(Self.python)
        let script = TestEnvironment.repositoryDirectory + "/scripts/probe-vectors-embed-server.py"
        // A free port: take one, give it back, hand it to Python.
        let probe = try LoopbackHTTPServer(name: "port-probe", keepAlive: false) { _ in .init(status: 500, body: []) }
        let port = probe.port
        probe.stop()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("embed-probe-\(UUID().uuidString).log").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, String(port), log, "16"]
        try process.run()
        let result: Result<[[Float]], any Error>
        do {
            let store = try await CheckpointStore.open(path: ":memory:")
            // Connection failures while Python starts are retried.
            let configuration = EmbeddingConfiguration(provider: .openaiCompatible, model: "probe-embed",
                                                       endpoint: "http://127.0.0.1:\(port)", dimensions: 16, timeoutSeconds: 5,
                                                       maxAttempts: 40, retryBaseDelay: 0.25, maxRetryDelay: 0.25)
            let embedder = Embedder(configuration: configuration, cache: store, runID: "run-py", logger: Self.logger)
            result = .success(try await embedder.embed(Self.probeTexts))
        } catch {
            result = .failure(error)
        }
        // SIGKILL: the child inherits the test process's blocked signals, so SIGTERM would wait
        // forever; and not waitUntilExit, which spins a run loop on this (cooperative) thread.
        kill(process.processIdentifier, SIGKILL)
        for _ in 0..<50 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        try? FileManager.default.removeItem(atPath: log)
        let vectors = try result.get()
        #expect(vectors == Self.probeTexts.map { EmbeddingTestServer.vector(for: Embedder.strip($0), dimensions: 16) })
    }

    static let probeTexts = ["Alice moved to Paris in 2010.", "WHO won the 1998 World Cup? France!", "ünïcödé Straße 42", "...", "a a a b",
                             "Kelvin \u{212A} and dotted \u{130}stanbul", "snake_case and kebab-case", "tab\tseparated\nlines"]

    static var python: String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(dir)/python3"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

/// `EmbeddingConfiguration.resolve`: cognee's variables, fallbacks and defaults, and the flags.
@Suite("Embedding configuration")
struct EmbeddingConfigurationTests {
    static func resolve(_ environment: [String: String], _ overrides: EmbeddingOverrides = EmbeddingOverrides()) throws
        -> EmbeddingConfiguration? {
        try EmbeddingConfiguration.resolve(environment: environment, overrides: overrides)
    }

    @Test("no endpoint: vectors off (nil)")
    func noEndpoint() throws {
        #expect(try Self.resolve([:]) == nil)
        #expect(try Self.resolve(["EMBEDDING_MODEL": "openai/text-embedding-3-small", "EMBEDDING_API_KEY": "k"]) == nil)
    }

    @Test("defaults: openai, text-embedding-3-large at 3072, batch 32, 150 data points → 4 requests in flight")
    func defaults() throws {
        let c = try #require(try Self.resolve(["EMBEDDING_ENDPOINT": "https://api.openai.com/v1", "LLM_API_KEY": "sk-llm"]))
        #expect(c.provider == .openai && c.model == "openai/text-embedding-3-large" && c.dimensions == 3072)
        #expect(c.identity == "openai/text-embedding-3-large@3072")
        #expect(c.batchSize == 32 && c.maxConcurrentDataPoints == 150 && c.concurrency == 4)
        #expect(c.timeoutSeconds == 60 && c.maxAttempts == 5)
        #expect(c.apiKey == "sk-llm")
        #expect(c.requestModel == "text-embedding-3-large")
        #expect(c.embeddingsURL?.absoluteString == "https://api.openai.com/v1/embeddings")
    }

    @Test("EMBEDDING_API_BASE is the endpoint's alias; EMBEDDING_ENDPOINT wins; a flag wins over both")
    func endpointAlias() throws {
        #expect(try Self.resolve(["EMBEDDING_API_BASE": "http://base:1/v1", "EMBEDDING_DIMENSIONS": "8"])?.endpoint == "http://base:1/v1")
        #expect(try Self.resolve(["EMBEDDING_API_BASE": "http://base:1/v1", "EMBEDDING_ENDPOINT": "http://end:2/v1",
                                  "EMBEDDING_DIMENSIONS": "8"])?.endpoint == "http://end:2/v1")
        let flagged = try Self.resolve(["EMBEDDING_ENDPOINT": "http://end:2/v1", "EMBEDDING_DIMENSIONS": "8", "EMBEDDING_BATCH_SIZE": "7"],
                                       EmbeddingOverrides(endpoint: "http://flag:3", dimensions: 12, batchSize: 3))
        #expect(flagged?.endpoint == "http://flag:3" && flagged?.dimensions == 12 && flagged?.batchSize == 3)
    }

    @Test("the key: EMBEDDING_API_KEY, else LLM_API_KEY (not with LLM_PROVIDER=custom for litellm providers); openai_compatible: no-key-required")
    func keyFallback() throws {
        let base = ["EMBEDDING_ENDPOINT": "http://h:1/v1", "EMBEDDING_DIMENSIONS": "8"]
        #expect(try Self.resolve(base.merging(["EMBEDDING_API_KEY": "e", "LLM_API_KEY": "l"]) { $1 })?.apiKey == "e")
        #expect(try Self.resolve(base.merging(["LLM_API_KEY": "l"]) { $1 })?.apiKey == "l")
        #expect(try Self.resolve(base.merging(["LLM_API_KEY": "l", "LLM_PROVIDER": "custom"]) { $1 })?.apiKey == nil)
        #expect(try Self.resolve(base.merging(["EMBEDDING_PROVIDER": "openai_compatible"]) { $1 })?.apiKey == "no-key-required")
        #expect(try Self.resolve(base.merging(["EMBEDDING_PROVIDER": "openai_compatible", "LLM_API_KEY": "l", "LLM_PROVIDER": "custom"]) { $1 })?
            .apiKey == "l")
        #expect(try Self.resolve(base.merging(["EMBEDDING_PROVIDER": "ollama"]) { $1 })?.apiKey == nil)
    }

    @Test("batch size and concurrency as cognee names them")
    func numbers() throws {
        let c = try Self.resolve(["EMBEDDING_ENDPOINT": "http://h:1", "EMBEDDING_DIMENSIONS": "8", "EMBEDDING_BATCH_SIZE": "10",
                                  "EMBEDDING_MAX_CONCURRENT_DATA_POINTS": "35"])
        #expect(c?.batchSize == 10 && c?.concurrency == 3)
        let one = try Self.resolve(["EMBEDDING_ENDPOINT": "http://h:1", "EMBEDDING_DIMENSIONS": "8", "EMBEDDING_BATCH_SIZE": "64",
                                    "EMBEDDING_MAX_CONCURRENT_DATA_POINTS": "10"])
        #expect(one?.concurrency == 1)
    }

    @Test("bad numbers and unknown widths are usage errors naming the variable and value",
          arguments: [("EMBEDDING_DIMENSIONS", "abc"), ("EMBEDDING_DIMENSIONS", "0"), ("EMBEDDING_BATCH_SIZE", "-3"),
                      ("EMBEDDING_MAX_CONCURRENT_DATA_POINTS", "1.5")])
    func badNumbers(variable: String, value: String) throws {
        var environment = ["EMBEDDING_ENDPOINT": "http://h:1", "EMBEDDING_MODEL": "openai/text-embedding-3-small"]
        environment[variable] = value
        let error = #expect(throws: WorkerError.self) { try Self.resolve(environment) }
        #expect(error?.code == .usage)
        #expect(error?.message.contains("\(variable)='\(value)'") == true)
    }

    @Test("a known model's width with or without a provider prefix; an unknown model needs EMBEDDING_DIMENSIONS")
    func widths() throws {
        for (model, width) in [("text-embedding-3-small", 1536), ("openai/text-embedding-ada-002", 1536), ("ollama/nomic-embed-text:latest", 768),
                               ("BAAI/bge-small-en-v1.5", 384)] {
            #expect(try Self.resolve(["EMBEDDING_ENDPOINT": "http://h:1", "EMBEDDING_MODEL": model])?.dimensions == width)
        }
        let error = #expect(throws: WorkerError.self) {
            try Self.resolve(["EMBEDDING_ENDPOINT": "http://h:1", "EMBEDDING_MODEL": "probe-embed"])
        }
        #expect(error?.code == .usage && error?.message.contains("EMBEDDING_DIMENSIONS") == true)
        #expect(try Self.resolve(["EMBEDDING_ENDPOINT": "http://h:1", "EMBEDDING_MODEL": "probe-embed", "EMBEDDING_DIMENSIONS": "16"])?
            .dimensions == 16)
        #expect(throws: WorkerError.self) { try Self.resolve(["EMBEDDING_ENDPOINT": "ftp://h", "EMBEDDING_DIMENSIONS": "8"]) }
    }

    @Test("endpoints are normalised to /v1/embeddings; ollama's native paths map there; azure names the deployment")
    func urls() throws {
        for endpoint in ["http://h:8080", "http://h:8080/", "http://h:8080/v1", "http://h:8080/v1/", "http://h:8080/v1/embeddings"] {
            let c = EmbeddingConfiguration(provider: .openaiCompatible, model: "m", endpoint: endpoint, dimensions: 8)
            #expect(c.embeddingsURL?.absoluteString == "http://h:8080/v1/embeddings", "\(endpoint)")
        }
        let ollama = EmbeddingConfiguration(provider: .ollama, model: "nomic-embed-text", endpoint: "http://localhost:11434/api/embeddings",
                                            dimensions: 768)
        #expect(ollama.embeddingsURL?.absoluteString == "http://localhost:11434/v1/embeddings")
        #expect(ollama.requestModel == "nomic-embed-text" && !ollama.sendsDimensions)
        let azure = EmbeddingConfiguration(provider: .azure, model: "azure/text-embedding-3-large", endpoint: "https://r.openai.azure.com/",
                                           apiKey: "k", apiVersion: "2024-02-01", dimensions: 3072)
        #expect(azure.embeddingsURL?.absoluteString
                == "https://r.openai.azure.com/openai/deployments/text-embedding-3-large/embeddings?api-version=2024-02-01")
        #expect(azure.headers["api-key"] == "k" && azure.headers["Authorization"] == nil)
        let ada = EmbeddingConfiguration(provider: .openai, model: "openai/text-embedding-ada-002", endpoint: "https://api.openai.com/v1",
                                         dimensions: 1536)
        #expect(!ada.sendsDimensions)
        let masked = EmbeddingConfiguration(provider: .custom, model: "m", endpoint: "https://user:pw@h.example/v1?key=secret", dimensions: 8)
        #expect(masked.displayEndpoint == "https://h.example/v1")
    }
}
