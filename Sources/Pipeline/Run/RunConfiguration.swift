import MemifyCore
package import GraphStore
package import SessionCache
package import Extraction

/// Which extractor derives the graph of a turn.
package enum ExtractorKind: String, Sendable, CaseIterable {
    case builtin, llm
}

/// Whether a run writes.
package enum RunMode: Sendable, Equatable {
    /// Locks, writes the graph and the checkpoints.
    case persist
    /// Reads the cache and the state as they are and says what a run would do: no lock, no
    /// write anywhere, the state database opened read-only (or in memory when there is none).
    case dryRun
}

/// The dataset a run writes into, and the names derived from it, spelled here once: the run
/// lock's key, the session locks' scope, the binding of a state database to one graph and
/// dataset, and the salt of the unchanged-session fingerprints.
package struct RunScope: Sendable, Equatable {
    package var datasetID: String
    /// The PostgreSQL schema the graph is in (`public` for the embedded graph: it is not used).
    package var schema: String
    package var shard: Shard?

    package init(datasetID: String, schema: String, shard: Shard?) {
        self.datasetID = datasetID
        self.schema = schema
        self.shard = shard
    }

    /// The PostgreSQL run lock's key: one run per schema, dataset and shard at a time.
    package var runLockKey: String { sessionLockScope + (shard.map { ":shard \($0)" } ?? "") }

    /// The per-session locks' scope: shards of one dataset never write one session at once.
    package var sessionLockScope: String { "\(schema):\(datasetID)" }

    /// What a state database's checkpoints vouch for: this graph and this dataset.
    package func graphBinding(graphIdentity: String) -> String { "graph \(graphIdentity) dataset \(datasetID)" }

    /// The salt of the fingerprints that let unchanged sessions be skipped without decoding:
    /// a change of derivation (extractor, embedding model) or dataset makes every session new.
    package func fingerprintSalt(derivation: String) -> String { "fingerprint/3 \(derivation) \(datasetID)" }
}

/// How a run reports, besides its logs.
package struct RunReporting: Sendable {
    /// The run summary as one JSON line, the last on stdout (a failure too).
    package var json = false
    /// Prometheus text-format metrics written here at the end of every run.
    package var metricsFile: String?
    /// A progress line on the terminal (else a progress log line every ten seconds).
    package var terminalProgress = false
    /// The `pipeline` label of the metrics.
    package var pipelineLabel = "persist-sessions"

    package init(json: Bool = false, metricsFile: String? = nil, terminalProgress: Bool = false,
                 pipelineLabel: String = "persist-sessions") {
        self.json = json
        self.metricsFile = metricsFile
        self.terminalProgress = terminalProgress
        self.pipelineLabel = pipelineLabel
    }
}

/// Everything one run needs, resolved once at the edge (flags, the pipeline file, `.env` and
/// the environment) and frozen: the run itself reads no flag and no variable.
package struct RunConfiguration: Sendable {
    /// Opens the session cache with the options the run decides (fingerprints, malformed-key
    /// tally); resolved by the command from `--cache` or cognee's variables.
    package var openCache: @Sendable (CacheReadOptions) throws -> any CacheSource
    package var cacheRead: CacheReadOptions
    package var graph: GraphTarget
    package var placement: GraphPlacement
    package var statePath: String
    package var scope: RunScope
    package var filter: SessionFilter
    /// Only turns whose time is in [since, until) (Unix seconds).
    package var since: Double?
    package var until: Double?
    package var limit: Int?
    package var mode: RunMode
    package var extractor: ExtractorKind
    /// Set when `extractor` is `.llm`.
    package var llm: LLMConfiguration?
    /// nil: vectors off (graph rows only).
    package var embedding: EmbeddingConfiguration?
    package var maxTokens: Int?
    package var maxCostUSD: Double?
    package var concurrency: Int
    package var batchRows: Int
    /// "name (origin)", for the log.
    package var pipelineDescription: String
    package var reporting: RunReporting

    package init(openCache: @escaping @Sendable (CacheReadOptions) throws -> any CacheSource, cacheRead: CacheReadOptions,
                 graph: GraphTarget, placement: GraphPlacement, statePath: String, scope: RunScope, filter: SessionFilter,
                 since: Double? = nil, until: Double? = nil, limit: Int? = nil, mode: RunMode = .persist,
                 extractor: ExtractorKind = .builtin, llm: LLMConfiguration? = nil, embedding: EmbeddingConfiguration? = nil,
                 maxTokens: Int? = nil, maxCostUSD: Double? = nil, concurrency: Int = 4, batchRows: Int = 1000,
                 pipelineDescription: String = "persist-sessions", reporting: RunReporting = RunReporting()) {
        self.openCache = openCache
        self.cacheRead = cacheRead
        self.graph = graph
        self.placement = placement
        self.statePath = statePath
        self.scope = scope
        self.filter = filter
        self.since = since
        self.until = until
        self.limit = limit
        self.mode = mode
        self.extractor = extractor
        self.llm = llm
        self.embedding = embedding
        self.maxTokens = maxTokens
        self.maxCostUSD = maxCostUSD
        self.concurrency = concurrency
        self.batchRows = batchRows
        self.pipelineDescription = pipelineDescription
        self.reporting = reporting
    }

    package var dryRun: Bool { mode == .dryRun }

    /// The extractor's identity, known before any extractor exists (the fingerprints need it).
    package var extractorIdentity: String { llm.map(LLMExtractor.identity) ?? BuiltinExtractor.identity }

    /// The runner's options for run `runID`.
    package func runOptions(runID: String) -> RunOptions {
        var options = RunOptions(runID: runID, datasetID: scope.datasetID, filter: filter, since: since, until: until, limit: limit,
                                 dryRun: dryRun, concurrency: concurrency, batchRows: batchRows)
        options.vectorIdentity = embedding?.identity
        return options
    }
}
