import ArgumentParser
import Dispatch
import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import Logging
import Synchronization
internal import CSignals

/// Where the checkpoints are, shared by run, status and quarantine.
struct StateOptions: ParsableArguments {
    @Option(name: .customLong("state"), help: "The checkpoint database. Default: MEMIFY_STATE, then .memify/state.db.")
    var statePath: String?

    var path: String { statePath ?? WorkerEnvironment.values["MEMIFY_STATE"] ?? ".memify/state.db" }
}

/// How a run reports: summary line, logs, metrics, progress.
struct ReportOptions: ParsableArguments {
    @Flag(help: "Print the run summary as one JSON line, the last line on stdout.")
    var json = false

    @Option(help: "Log lines on stderr as text or json.")
    var logFormat: LogFormat = .text

    @Option(help: "The least severe log level written: trace, debug, info, notice, warning, error or critical.")
    var logLevel: LogLevelOption = .info

    @Option(help: "Write Prometheus text-format metrics here at the end of the run (atomically, for node_exporter's textfile collector).")
    var metricsFile: String?

    @Flag(help: "No progress bar, even on a terminal.")
    var noProgress = false
}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "One pass of a pipeline (default persist-sessions): cached turns into the graph, incrementally.")

    @OptionGroup var cache: CacheOptions
    @OptionGroup var graph: GraphOptions
    @OptionGroup var state: StateOptions
    @OptionGroup var selection: SelectionOptions
    @OptionGroup var report: ReportOptions
    @OptionGroup(title: "LLM extractor") var llm: LLMOptions
    @OptionGroup(title: "Vectors (what cognee's default search starts from)") var vectors: EmbeddingOptions

    @Option(help: "A pipeline name (pipelines/<name>.yml) or a path to one.")
    var pipeline = "persist-sessions"

    @Option(help: "Only turns at or after this time (ISO 8601 or Unix seconds): a backfill window.")
    var since: String?

    @Option(help: "Only turns before this time (ISO 8601 or Unix seconds).")
    var until: String?

    @Option(parsing: .unconditional, help: "At most this many sessions.")  // unconditional: "-1" is a value, refused by validate
    var limit: Int?

    @Flag(help: "Say what would be done (turns, rows, token and cost estimates) and write nothing.")
    var dryRun = false

    @Option(help: "Extractor calls in flight (default: the pipeline's).")
    var concurrency: Int?

    @Option(help: "builtin or llm (default: the pipeline's).")
    var extractor: String?

    @Option(help: "Only shard K of N (K from 1): sessions split by a stable hash of (user, session), one worker per shard.")
    var shard: String?

    func validate() throws {
        if let since, parseTimestamp(since) == nil { throw ValidationError("--since '\(since)' is not a valid ISO 8601 time or Unix seconds") }
        if let until, parseTimestamp(until) == nil { throw ValidationError("--until '\(until)' is not a valid ISO 8601 time or Unix seconds") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
        if let since, let until, let from = parseTimestamp(since), let to = parseTimestamp(until), from >= to {
            throw ValidationError("--since '\(since)' is not before --until '\(until)': the window holds no turn")
        }
        if let concurrency, concurrency < 1 || concurrency > 256 { throw ValidationError("--concurrency must be 1…256") }
        if let extractor, !["builtin", "llm"].contains(extractor) { throw ValidationError("--extractor must be builtin or llm") }
        if let shard { do { _ = try Shard(parsing: shard) } catch { throw ValidationError(error.message) } }
    }

    func run() async throws {
        var filter = selection.filter
        filter.shard = try shard.map { try Shard(parsing: $0) }
        try await withExitStatus {
            try await RunDriver(cache: cache, graph: graph, statePath: state.path, report: report, pipeline: pipeline,
                                since: since.flatMap(parseTimestamp), until: until.flatMap(parseTimestamp), limit: limit,
                                dryRun: dryRun, concurrency: concurrency, extractor: extractor, llm: llm, vectors: vectors).run(filter: filter)
        }
    }
}

/// One run, as `run` and `quarantine replay` do it: locks, state, graph, signals, progress,
/// summary, metrics, exit status.
struct RunDriver {
    var cache: CacheOptions
    var graph: GraphOptions
    var statePath: String
    var report: ReportOptions
    var pipeline: String
    var since: Double?
    var until: Double?
    var limit: Int?
    var dryRun: Bool
    var concurrency: Int?
    var extractor: String?
    var llm: LLMOptions
    var vectors: EmbeddingOptions

    func run(filter: SessionFilter) async throws -> ExitStatus {
        let reported = FailureReported()
        do {
            return try await execute(filter: filter, reported: reported)
        } catch {
            // Failures before the run could be recorded (configuration, the lock, the state
            // database): the same --json line and metrics file as every other failure.
            if !reported.done { await EarlyFailure.report(error, report: report, pipeline: pipeline, dryRun: dryRun) }
            throw error
        }
    }

    private func execute(filter: SessionFilter, reported: FailureReported) async throws -> ExitStatus {
        let log = Logs.bootstrap(report.logFormat, level: report.logLevel.level)
        let setupStarted = Date()
        // The failure handler at the end of the run writes the metrics itself.
        var metricsWritten = false
        // Before anything slow: a SIGTERM while the run starts (locks, connections) stops it
        // cleanly before its first batch, instead of killing it.
        let stop = StopFlag()
        let signals = SignalHandlers(stop: stop, log: log)
        defer { signals.cancel() }
        // Whether the run reconciles against the graph's turn registry is known only once the
        // graph is open; the fingerprints wait for it (a reconciling run trusts none). Every way
        // out decides, so nothing waits for ever.
        let reconciling = OnceValue<Bool>()
        defer { reconciling.set(true) }
        let definition = try PipelineDefinition.load(pipeline)
        let extractorName = extractor ?? definition.extractor
        guard ["builtin", "llm"].contains(extractorName) else {
            throw WorkerError(.usage, operation: "choose the extractor", message: "'\(extractorName)' is not builtin or llm")
        }
        // Configuration problems are usage errors, reported before any lock is taken.
        let llmConfiguration = extractorName == "llm" ? try llm.configuration(requireKey: !dryRun) : nil
        // Resolved in a dry run too: the embedding model is part of each turn's derivation, so
        // what a dry run says would persist is what a run would.
        let embeddingConfiguration = try vectors.configuration()
        if dryRun { reconciling.set(false) }
        let runID = Self.newRunID()
        let datasetID = graph.resolvedDatasetID ?? RunOptions.defaultDatasetID
        var options = RunOptions(runID: runID, datasetID: datasetID, filter: filter, since: since, until: until, limit: limit,
                                 dryRun: dryRun, concurrency: concurrency ?? definition.concurrency, batchRows: definition.batchRows)
        options.vectorIdentity = embeddingConfiguration?.identity

        // Locks first: a second run must learn at once that it is not needed.
        let lock = dryRun ? nil : try RunLock.acquire(statePath: statePath, runID: runID)
        let target = try graph.target()
        let pgLockScope: (conninfo: String, scope: String)? = {
            guard !dryRun, case .postgres(let conninfo) = target else { return nil }
            return (conninfo, "\(graph.graphPlacement.schema):\(datasetID)" + (filter.shard.map { ":shard \($0)" } ?? ""))
        }()
        // The PostgreSQL run lock is taken while the state database opens: the file lock already
        // keeps every other run out of that database, and the two waits overlap.
        async let pgLockTaken: (lock: PostgresRunLock?, holder: String?)? = {
            guard let pgLockScope else { return nil }
            return try await PostgresRunLock.acquire(conninfo: pgLockScope.conninfo, scope: pgLockScope.scope,
                                                     holderName: "memify-worker run \(runID)")
        }()
        let opening = Task { [dryRun, statePath] () async throws -> CheckpointStore in
            if dryRun && !FileManager.default.fileExists(atPath: statePath) {
                return try await CheckpointStore.open(path: ":memory:")
            } else if dryRun {
                // A dry run writes nothing, not even the state database's schema.
                return try await CheckpointStore.open(readOnlyPath: statePath)
            }
            return try await CheckpointStore.open(path: statePath)
        }
        // Reading needs no lock: it writes nothing. The cache is read while the PostgreSQL lock
        // is taken and the state database opens; a run that then finds that lock held has lost
        // only the read. Sessions persisted whole are skipped without decoding when their bytes
        // did not change (not in a --since/--until window, which persists sessions only in
        // part): decoding waits for their fingerprints, and the runner for the rest of setup.
        func fingerprintSalt(_ extractorIdentity: String) -> String {
            "fingerprint/3 \(PersistSessionsRunner.derivationIdentity(extractor: extractorIdentity, vectors: options.vectorIdentity)) \(datasetID)"
        }
        var fingerprints: SessionFingerprints?
        if since == nil && until == nil {
            let loaded = Task { (try? await opening.value.sessionFingerprints()) ?? KnownFingerprints() }
            let known = Task { await reconciling.value() ? KnownFingerprints() : await loaded.value }
            let extractorIdentity = llmConfiguration.map(LLMExtractor.identity) ?? BuiltinExtractor.identity
            fingerprints = SessionFingerprints(salt: fingerprintSalt(extractorIdentity), known: known)
        }
        let malformed = MalformedKeys()
        let primedSource = Result { [fingerprints] () throws -> any CacheSource in
            PrimedSource(try cache.makeSource(fingerprints: fingerprints, malformed: malformed), filter: options.filter)
        }
        let placement = graph.graphPlacement
        let checkpoints: CheckpointStore
        do {
            checkpoints = try await opening.value
        } catch {
            if let taken = try? await pgLockTaken { await taken.lock?.release() }
            throw error
        }
        /// A failed run, said as the contract wants it: recorded in the runs table (`record`;
        /// its row made now if the run had not started) and, with --json, the last line on stdout.
        func recordFailure(_ error: any Error, started: Bool, record: Bool = true) async -> any Error {
            reported.done = true
            let status = ExitStatus.forError(error)
            // A server lost or refusing: what was committed is checkpointed, and the operator
            // needs to know that running again is all there is to do.
            let error: any Error = status == .unavailable ? ResumableFailure(error) : error
            if !dryRun && record {
                let text = "\(error)"
                try? await checkpoints.executor.run {
                    if !started { try checkpoints.startRun(runID) }
                    try checkpoints.finishRun(runID, status: "failed", exitCode: status.rawValue, summary: text)
                }
            }
            if !metricsWritten { try? await writeMetrics(summary: nil, status: status, started: setupStarted, checkpoints: checkpoints) }
            if report.json { EarlyFailure.printLine(runID: runID, dryRun: dryRun, status: status, error: error) }
            return error
        }
        var taken: PostgresRunLock?
        if let pgLockScope {
            let result: (lock: PostgresRunLock?, holder: String?)?
            do {
                result = try await pgLockTaken
            } catch {
                // PostgreSQL unreachable before the run began: still a run that failed.
                throw await recordFailure(error, started: false)
            }
            if let (acquired, holder) = result {
                guard let acquired else {
                    // Another run holds the scope: not this run's failure, so no runs row.
                    throw await recordFailure(WorkerError(.locked, operation: "take the PostgreSQL run lock for \(pgLockScope.scope) at \(target)",
                                                            message: "held by \(holder ?? "another session")"), started: false, record: false)
                }
                taken = acquired
            }
        }
        let pgLock = taken
        // The graph is opened (connect, migrate, identity) while the run is recorded as started
        // and the state database loads its fingerprints: the waits overlap. Its errors surface
        // where it is awaited, below, and are recorded like every other failure. A PostgreSQL
        // graph whose schema is current is checked on the run lock's connection, and its writer
        // connects only when the run first writes (a run with nothing to write never does).
        async let openedGraph: (writer: any GraphWriter, identity: String)? = {
            if dryRun { return nil }
            if let pgLock, let identity = try await pgLock.currentGraphIdentity(placement: placement) {
                let location = "\(target) (schema \(placement.schema))"
                return (DeferredGraphWriter(location: location, identity: identity) { try await target.open(placement: placement) }, identity)
            }
            let opened = try await target.open(placement: placement)
            try await opened.migrate()
            return (opened, try await opened.identity())
        }()
        // From here on every failure is recorded in the runs table (and a leftover `running` row
        // of a run that died is marked aborted: the locks say no other run is alive).
        if !dryRun {
            do {
                try await checkpoints.executor.run { try checkpoints.startRun(runID) }
            } catch {
                // The graph's opening may still be under way: let it end before the locks go
                // (a schema it migrated stays migrated, as after any failed run).
                _ = try? await openedGraph
                await pgLock?.release()
                throw error
            }
        }
        func fail(_ error: any Error) async -> any Error {
            let error = await recordFailure(error, started: true)
            await pgLock?.release()
            return error
        }
        let source: any CacheSource
        var llmExtractor: LLMExtractor?
        var embedder: Embedder?
        // One budget for every stage that pays a provider (--max-tokens, --max-cost).
        let budget = RunBudget(maxTokens: llm.maxTokens, maxCostUSD: llm.maxCost)
        let extractor: any Extractor
        var writer: (any GraphWriter)?
        var standing: GraphStanding?
        let scope = GraphStanding.scope(of: filter)
        do {
        if let llmConfiguration {
            let made = LLMExtractor(configuration: llmConfiguration, store: checkpoints, runID: runID, logger: log, budget: budget)
            llmExtractor = made
            extractor = made
            log.info("llm extractor", metadata: [
                "endpoint": "\(llmConfiguration.displayEndpoint)", "model": "\(llmConfiguration.model)",
                "turns_per_request": "\(llmConfiguration.turnsPerRequest)",
                "max_tokens": "\(llmConfiguration.maxTokens.map(String.init) ?? "none")",
                "max_cost_usd": "\(llmConfiguration.maxCostUSD.map { String($0) } ?? "none")"])
        } else {
            extractor = BuiltinExtractor()
        }
        assert(fingerprints == nil || fingerprints?.salt == fingerprintSalt(extractor.identity))
        source = try primedSource.get()
        if let graphOpened = try await openedGraph {
            let opened = graphOpened.writer
            writer = opened
            // Checkpoints vouch for one graph and dataset: switching --graph, --schema,
            // --placement or the dataset with the same state would take every turn for persisted.
            let binding = "graph \(graphOpened.identity) dataset \(datasetID)"
            if let other = try await checkpoints.executor.run({ try checkpoints.bindGraph(binding) }) {
                throw WorkerError(.usage, operation: "check that \(statePath) holds the checkpoints of \(opened.location)",
                                    message: "they were made for \(other), this run writes \(binding). A state database belongs to one graph and dataset: give this one its own --state, or delete \(statePath) to persist every turn into it again")
            }
            // Are the checkpoints behind the graph? One indexed read when they are not.
            let checked = try await GraphStanding.check(checkpoints: checkpoints, graph: opened, datasetID: datasetID, scope: scope) { stateID in
                if let pgLock { return try await pgLock.commitSequence(placement: placement, stateID: stateID) }
                return try await opened.commitSequence(stateID: stateID)
            }
            try await checked.begin(checkpoints: checkpoints)
            if checked.reconcile {
                log.warning("reconciling with the graph's turn registry: every session read is compared with what the graph holds", metadata: [
                    "reason": "\(checked.reason)"])
            }
            standing = checked
            if let embeddingConfiguration {
                // Before anything is embedded: pgvector there, and collections of this width.
                try await opened.prepareVectors(dimensions: embeddingConfiguration.dimensions, identity: embeddingConfiguration.identity)
                try await checkpoints.executor.run { try checkpoints.mapForReading() }
                embedder = Embedder(configuration: embeddingConfiguration, cache: checkpoints, runID: runID, budget: budget, logger: log)
                log.info("vectors: on", metadata: [
                    "endpoint": "\(embeddingConfiguration.displayEndpoint)", "model": "\(embeddingConfiguration.model)",
                    "dimensions": "\(embeddingConfiguration.dimensions)", "batch_size": "\(embeddingConfiguration.batchSize)",
                    "concurrency": "\(embeddingConfiguration.concurrency)"])
            }
        }
        if embeddingConfiguration == nil { log.warning("\(EmbeddingOptions.offNote)") }
        reconciling.set(standing?.reconcile ?? false)
        } catch {
            // The graph's opening may still be under way: let it end before the locks go.
            _ = try? await openedGraph
            throw await fail(error)
        }
        log.info("run started", metadata: [
            "run_id": "\(runID)", "pipeline": "\(definition.name) (\(definition.origin))", "graph": "\(writer?.location ?? "none (dry run)")",
            "state": "\(statePath)", "dataset_id": "\(datasetID)", "dry_run": "\(dryRun)",
            "shard": "\(filter.shard.map(\.description) ?? "all")"])

        let progress = ProgressReporter(terminal: !report.noProgress && isatty(2) == 1 && report.logFormat == .text,
                                        total: limit, log: log)
        let sessionLocks = pgLock.map { PostgresSessionLocks(lock: $0, scope: "\(graph.graphPlacement.schema):\(datasetID)") }
        var runOptions = options
        runOptions.reconcile = standing?.reconcile ?? false
        runOptions.stateID = standing?.stateID
        let runner = PersistSessionsRunner(source: source, graph: writer, checkpoints: checkpoints, extractor: extractor, options: runOptions,
                                           sessionLocks: sessionLocks, embedder: embedder)
        let started = Date()
        var summary: RunSummary
        do {
            summary = try await runner.run(stop: stop) { progress.update($0) }
            progress.finish()
            summary.keysMalformed = malformed.count
            if let example = malformed.examples.first {
                log.warning("cache keys that look like cognee session keys but name no session were skipped; `sessions list --all` lists them",
                            metadata: ["count": "\(malformed.count)", "example": "\(example.key)", "reason": "\(example.reason)"])
            }
            if let spent = llmExtractor?.spent {
                summary.tokensIn = spent.tokensIn
                summary.tokensOut = spent.tokensOut
                summary.costUSD = spent.costUSD
            }
            summary.vectorsOn = embeddingConfiguration != nil
            summary.embeddingModel = embeddingConfiguration?.identity
            if let spent = embedder?.spent {
                summary.embeddingRequests = spent.requests
                summary.textsEmbedded = spent.textsEmbedded
                summary.textsFromEmbeddingCache = spent.textsFromCache
                summary.embeddingTokens = spent.promptTokens
                summary.embeddingCostUSD = spent.costUSD
            }
        } catch {
            progress.finish()
            let status = ExitStatus.forError(error)
            try? await writeMetrics(summary: nil, status: status, started: started, checkpoints: checkpoints)
            metricsWritten = true
            log.error("run failed", metadata: ["run_id": "\(runID)", "exit_status": "\(status.rawValue)"])
            let failed = await fail(error)
            withExtendedLifetime(lock) {}
            throw failed
        }

        let status: ExitStatus = summary.interrupted ? .interrupted : (summary.quarantined > 0 ? .partial : .done)
        let line = JSONWriter.string(summary.jsonValue, style: .compact)
        let open: Int
        do {
            if try await standing?.finish(checkpoints: checkpoints, summary: summary, options: runOptions, scope: scope) == true {
                log.info("reconciled: the checkpoints are in step with the graph again", metadata: ["scope": "\(scope ?? "")"])
            }
            open = try await checkpoints.executor.run { try checkpoints.openQuarantineCount() }
            if !dryRun {
                let statusName = summary.interrupted ? "interrupted" : (status == .partial ? "partial" : "done")
                try await checkpoints.executor.run {
                    try checkpoints.finishRun(runID, status: statusName, exitCode: status.rawValue, summary: line)
                }
            }
        } catch {
            throw await fail(error)
        }
        do {
            try await writeMetrics(summary: summary, status: status, started: started, checkpoints: checkpoints)
        } catch {
            // The run's work is done and recorded; a metrics file that cannot be written is
            // reported, not turned into a failed run.
            log.error("could not write the metrics file", metadata: ["path": "\(report.metricsFile ?? "")", "error": "\(error)"])
        }
        // The PostgreSQL lock goes while the state database closes (checkpointing its WAL into
        // the file unless the run changed nothing but its own row: `CheckpointStore.close()`):
        // the two waits overlap.
        async let released: Void = { await pgLock?.release() }()
        try? await checkpoints.executor.run { checkpoints.close() }
        await released
        withExtendedLifetime(lock) {}

        log.info(dryRun ? "dry run done: nothing was written" : "run done", metadata: [
            "run_id": "\(runID)", "sessions": "\(summary.sessionsSeen)", "turns_seen": "\(summary.turnsSeen)",
            "persisted": "\(summary.turnsPersisted)", "unchanged": "\(summary.turnsUnchanged)", "deleted": "\(summary.turnsDeleted)",
            "quarantined": "\(summary.quarantined)", "quarantine_open": "\(open)", "rows_written": "\(summary.rowsWritten)",
            "seconds": "\(String(format: "%.2f", summary.seconds))", "exit_status": "\(status.rawValue)"])
        if dryRun && !report.json {
            print("""
                dry run (nothing written): \(summary.sessionsSeen) sessions, \(summary.turnsSeen) turns read
                  would persist \(summary.turnsPersisted) turns (\(summary.turnsNew) new, \(summary.turnsChanged) changed), \
                retract \(summary.turnsDeleted) deleted, leave \(summary.turnsUnchanged) unchanged, \
                skip \(summary.turnsOutOfWindow) outside --since/--until
                  would quarantine \(summary.quarantined) elements
                  extractor \(extractorName): \(summary.turnsPersisted) calls, ~\(summary.estimatedTokens) tokens, \
                ~$\(String(format: "%.4f", summary.estimatedCostUSD))
                """)
        }
        if report.json { print(line) }
        if summary.interrupted { log.warning("interrupted: checkpoints are consistent; the next run continues") }
        if summary.stoppedByBudget {
            log.warning("stopped by the LLM budget (--max-tokens / --max-cost): checkpoints are consistent; the next run continues", metadata: [
                "turns_deferred": "\(summary.turnsDeferred)", "tokens": "\(summary.tokensIn + summary.tokensOut)",
                "cost_usd": "\(String(format: "%.6f", summary.costUSD))"])
        }
        if status == .partial {
            log.warning("some elements are quarantined; see `memify-worker quarantine list`", metadata: ["open": "\(open)"])
        }
        return status
    }

    static func newRunID() -> String {
        "run-" + UTCTime.compact(UTCTime.now) + "-" + UUID().uuidString.prefix(8).lowercased()
    }

    /// Prometheus text format, written to a temporary file and renamed over the target.
    func writeMetrics(summary: RunSummary?, status: ExitStatus, started: Date, checkpoints: CheckpointStore) async throws {
        guard let path = report.metricsFile, !dryRun else { return }
        let lastSuccess = (try? await checkpoints.executor.run { try checkpoints.lastSuccess() }).flatMap { $0 }.flatMap(parseTimestamp)
        try Self.writeMetrics(path: path, pipeline: pipeline, summary: summary, status: status, started: started, lastSuccess: lastSuccess)
    }

    /// The metrics file's text, for a run that ended with `status` (`summary` nil when it failed).
    static func writeMetrics(path: String, pipeline: String, summary: RunSummary?, status: ExitStatus, started: Date, lastSuccess: Double?) throws {
        let s = summary ?? RunSummary()
        let label = "{pipeline=\"\(pipeline.replacingOccurrences(of: "\"", with: ""))\"}"
        var text = ""
        func metric(_ name: String, _ help: String, _ value: String, type: String = "gauge") {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name)\(label) \(value)\n"
        }
        metric("memify_turns_seen", "Turns read from the cache by the last run.", "\(s.turnsSeen)")
        metric("memify_turns_persisted", "Turns written to the graph (new or changed) by the last run.", "\(s.turnsPersisted)")
        metric("memify_turns_skipped", "Turns unchanged since their checkpoint, or outside --since/--until.", "\(s.turnsUnchanged + s.turnsOutOfWindow)")
        metric("memify_turns_deleted", "Turns deleted from the cache and retracted from the graph by the last run.", "\(s.turnsDeleted)")
        metric("memify_turns_quarantined", "Elements quarantined by the last run.", "\(s.quarantined)")
        metric("memify_rows_written", "Graph rows inserted or updated by the last run.", "\(s.rowsWritten)")
        metric("memify_turns_deferred", "Turns left for the next run because the LLM budget ran out.", "\(s.turnsDeferred)")
        metric("memify_llm_tokens_in", "LLM prompt tokens paid by the last run.", "\(s.tokensIn)")
        metric("memify_llm_tokens_out", "LLM completion tokens paid by the last run.", "\(s.tokensOut)")
        metric("memify_llm_cost_usd", "LLM cost of the last run in US dollars (cognee's price table).", String(format: "%.6f", s.costUSD))
        metric("memify_rows_deleted", "Graph rows deleted by the last run.", "\(s.rowsDeleted)")
        metric("memify_vectors_written", "Vector rows inserted or updated by the last run (0 with vectors off).", "\(s.vectorsWritten)")
        metric("memify_vectors_deleted", "Vector rows deleted with the rows they belonged to by the last run.", "\(s.vectorsDeleted)")
        metric("memify_embedding_requests", "Embedding requests sent by the last run.", "\(s.embeddingRequests)")
        metric("memify_texts_embedded", "Texts sent to the embedding model by the last run (the cache answered the rest).", "\(s.textsEmbedded)")
        metric("memify_embedding_cost_usd", "Embedding cost of the last run in US dollars.", String(format: "%.6f", s.embeddingCostUSD))
        metric("memify_run_duration_seconds", "Wall time of the last run.", String(format: "%.3f", Date().timeIntervalSince(started)))
        metric("memify_last_run_exit_status", "Exit status of the last run.", "\(status.rawValue)")
        metric("memify_last_run_timestamp_seconds", "When the last run ended (Unix seconds).", String(format: "%.3f", Date().timeIntervalSince1970))
        if let lastSuccess {
            metric("memify_last_success_timestamp_seconds", "When a run last finished with exit status 0 or 3 (Unix seconds).",
                   String(format: "%.3f", lastSuccess))
        }
        let temporary = path + ".tmp.\(getpid())"
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
            if rename(temporary, path) != 0 {
                throw WorkerError(.io, operation: "write metrics \(path)", message: String(cString: strerror(errno)))
            }
        } catch let error as WorkerError {
            throw error
        } catch {
            throw WorkerError(.io, operation: "write metrics \(path)", message: error.localizedDescription)
        }
    }
}

/// SIGINT/SIGTERM: the first asks the run to stop after the batch in flight (exit 130); a second
/// exits at once, which is safe too, because checkpoints are only written after the graph commits.
final class SignalHandlers {
    private let sources: [any DispatchSourceSignal]

    init(stop: StopFlag, log: Logger) {
        let queue = DispatchQueue(label: "memify.signals")
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                if stop.isStopped { _exit(130) }
                stop.stop()
                log.warning("signal \(number == SIGINT ? "SIGINT" : "SIGTERM"): finishing the batch in flight, then stopping (again to exit now)")
            }
            source.resume()
            return source
        }
        // A signal that came before these handlers (noted since before main: CSignals).
        let early = memify_take_early_signal()
        if early != 0 {
            stop.stop()
            log.warning("signal \(early == SIGINT ? "SIGINT" : "SIGTERM") while the run started: stopping before its first batch")
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

/// A progress line with rate (and ETA when the total is known) on a terminal; a log line every
/// ten seconds otherwise.
final class ProgressReporter: Sendable {
    private struct State { var lastDraw: Double = 0; var drawn = false }
    private let terminal: Bool
    private let total: Int?
    private let log: Logger
    private let started = Date().timeIntervalSince1970
    private let state: Mutex<State>

    init(terminal: Bool, total: Int?, log: Logger) {
        self.terminal = terminal
        self.total = total
        self.log = log
        state = Mutex(State(lastDraw: terminal ? 0 : started))
    }

    func update(_ s: RunSummary) {
        let now = Date().timeIntervalSince1970
        let interval = terminal ? 0.2 : 10
        let due = state.withLock { state -> Bool in
            guard now - state.lastDraw >= interval else { return false }
            state.lastDraw = now
            state.drawn = true
            return true
        }
        guard due else { return }
        let elapsed = max(now - started, 0.001)
        let rate = Double(s.turnsSeen) / elapsed
        var line = "sessions \(s.sessionsSeen)  turns \(s.turnsSeen) (persisted \(s.turnsPersisted), unchanged \(s.turnsUnchanged), quarantined \(s.quarantined))  \(Int(rate)) turns/s"
        if let total, s.sessionsSeen > 0 {
            let remaining = Double(max(0, total - s.sessionsSeen)) * elapsed / Double(s.sessionsSeen)
            line += "  \(Int(Double(s.sessionsSeen) * 100 / Double(total)))%  ETA \(Int(remaining))s"
        }
        if terminal {
            StandardError.write("\r\u{1B}[K" + line)
        } else {
            log.info("progress", metadata: ["sessions": "\(s.sessionsSeen)", "turns": "\(s.turnsSeen)",
                                            "persisted": "\(s.turnsPersisted)", "turns_per_s": "\(Int(rate))"])
        }
    }

    func finish() {
        if terminal, state.withLock({ $0.drawn }) { StandardError.write("\r\u{1B}[K") }
    }
}

/// A value set once (later sets are ignored) and awaited by any number of tasks.
final class OnceValue<Value: Sendable>: Sendable {
    private let state = Mutex<(value: Value?, waiters: [CheckedContinuation<Value, Never>])>((nil, []))

    func set(_ value: Value) {
        let waiters = state.withLock { state -> [CheckedContinuation<Value, Never>] in
            guard state.value == nil else { return [] }
            state.value = value
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    func value() async -> Value {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Value? in
                if let value = state.value { return value }
                state.waiters.append(continuation)
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }
}
