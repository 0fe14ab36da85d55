import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Foundation
package import Logging

/// One run of the persist-sessions pipeline, as `run` and `quarantine replay` start it: locks,
/// state, graph, the unchanged-session skip, the runner, then the summary, the runs table, the
/// metrics file and the exit status. Everything it needs is in its ``RunConfiguration``;
/// signals reach it through `stop`.
package struct RunService: Sendable {
    package let configuration: RunConfiguration
    package let runID: String
    /// The run's logger: every line carries `run_id`, so one run's lines can be picked out of a journal.
    package let logger: Logger
    package let stop: StopFlag
    /// The worker's version, for the metrics' `memify_build_info`.
    package let version: String

    package init(configuration: RunConfiguration, logger: Logger, stop: StopFlag, version: String = "") {
        self.configuration = configuration
        runID = Self.newRunID()
        var logger = logger
        logger[metadataKey: "run_id"] = .string(runID)
        self.logger = logger
        self.stop = stop
        self.version = version
    }

    /// Runs, and returns the exit status; a failure is recorded, reported (`--json` line,
    /// metrics file) and rethrown.
    package func run() async throws -> ExitStatus {
        let reported = FailureReported()
        do {
            return try await execute(reported: reported)
        } catch {
            // Failures before the run could be recorded (the lock, the state database): the same
            // --json line and metrics file as every other failure.
            if !reported.done { Self.reportUnrecorded(error, configuration: configuration, version: version) }
            throw error
        }
    }

    /// A run that failed before it was recorded (flags, configuration, the lock held, the state
    /// database unopenable): with --json the last line on stdout is still the failure, and the
    /// metrics file says so. No row goes into the runs table: no run started.
    package static func reportUnrecorded(_ error: any Error, configuration: RunConfiguration?, reporting: RunReporting? = nil,
                                         dryRun: Bool = false, version: String = "") {
        let reporting = reporting ?? configuration?.reporting ?? RunReporting()
        let dryRun = configuration?.dryRun ?? dryRun
        var status = ExitStatus.forError(error)
        if let early = error as? EarlyExit { status = early.status }
        let error: any Error = status == .unavailable ? ResumableFailure(error) : error
        if let path = reporting.metricsFile, !dryRun {
            let file = MetricsFile(path: path, pipeline: reporting.pipelineLabel,
                                   shard: configuration?.scope.shard.map(\.description) ?? "all", version: version)
            do {
                try file.write(summary: nil, status: status, started: Date(), lastSuccess: file.previousLastSuccess())
            } catch {
                StandardError.write("memify-worker: could not write the metrics file \(path): \(error)\n")
            }
        }
        if reporting.json { print(FailureLine.text(runID: nil, dryRun: dryRun, status: status, error: error)) }
    }

    private func execute(reported: FailureReported) async throws -> ExitStatus {
        let c = configuration
        let runID = self.runID, log = logger
        let dryRun = c.dryRun, statePath = c.statePath, scope = c.scope, filter = c.filter, since = c.since, until = c.until
        let setupStarted = Date()
        // The failure handler at the end of the run writes the metrics itself.
        var metricsWritten = false
        // Whether the run reconciles against the graph's turn registry is known only once the
        // graph is open; the fingerprints wait for it (a reconciling run trusts none). Every way
        // out decides, so nothing waits for ever.
        let reconciling = OnceValue<Bool>()
        defer { reconciling.set(true) }
        let llmConfiguration = c.llm
        let embeddingConfiguration = c.embedding
        if dryRun { reconciling.set(false) }
        let datasetID = scope.datasetID
        let options = c.runOptions(runID: runID)

        // Locks first: a second run must learn at once that it is not needed.
        let lock = dryRun ? nil : try RunLock.acquire(statePath: statePath, runID: runID)
        let target = c.graph
        let pgLockScope: (conninfo: String, scope: String)? = {
            guard !dryRun, case .postgres(let conninfo) = target else { return nil }
            return (conninfo, scope.runLockKey)
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
            scope.fingerprintSalt(derivation: PersistSessionsRunner.derivationIdentity(extractor: extractorIdentity, vectors: options.vectorIdentity))
        }
        var fingerprints: SessionFingerprints?
        if since == nil && until == nil {
            let loaded = Task { (try? await opening.value.sessionFingerprints()) ?? KnownFingerprints() }
            let known = Task { await reconciling.value() ? KnownFingerprints() : await loaded.value }
            fingerprints = SessionFingerprints(salt: fingerprintSalt(c.extractorIdentity), known: known)
        }
        let malformed = MalformedKeys()
        let primedSource = Result { [fingerprints] () throws -> any CacheSource in
            var read = c.cacheRead
            read.fingerprints = fingerprints
            read.malformedKeys = malformed
            return PrimedSource(try c.openCache(read), filter: options.filter)
        }
        let placement = c.placement
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
                try? await checkpoints.write { checkpoints in
                    if !started { try checkpoints.startRun(runID) }
                    try checkpoints.finishRun(runID, status: "failed", exitCode: status.rawValue, summary: text)
                }
            }
            if !metricsWritten { try? await writeMetrics(summary: nil, status: status, started: setupStarted, checkpoints: checkpoints) }
            if c.reporting.json { print(FailureLine.text(runID: runID, dryRun: dryRun, status: status, error: error)) }
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
                try await checkpoints.write { checkpoints in try checkpoints.startRun(runID) }
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
        let budget = RunBudget(maxTokens: c.maxTokens, maxCostUSD: c.maxCostUSD)
        let extractor: any Extractor
        var writer: (any GraphWriter)?
        var standing: GraphStanding?
        let standingScope = GraphStanding.scope(of: filter)
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
            let binding = scope.graphBinding(graphIdentity: graphOpened.identity)
            if let other = try await checkpoints.write({ checkpoints in try checkpoints.bindGraph(binding) }) {
                throw WorkerError(.usage, operation: "check that \(statePath) holds the checkpoints of \(opened.location)",
                                    message: "they were made for \(other), this run writes \(binding). A state database belongs to one graph and dataset: give this one its own --state, or delete \(statePath) to persist every turn into it again")
            }
            // Are the checkpoints behind the graph? One indexed read when they are not.
            let checked = try await GraphStanding.check(checkpoints: checkpoints, graph: opened, datasetID: datasetID, scope: standingScope) { stateID in
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
                try await checkpoints.write { checkpoints in try checkpoints.mapForReading() }
                embedder = Embedder(configuration: embeddingConfiguration, cache: checkpoints, runID: runID, budget: budget, logger: log)
                log.info("vectors: on", metadata: [
                    "endpoint": "\(embeddingConfiguration.displayEndpoint)", "model": "\(embeddingConfiguration.model)",
                    "dimensions": "\(embeddingConfiguration.dimensions)", "batch_size": "\(embeddingConfiguration.batchSize)",
                    "concurrency": "\(embeddingConfiguration.concurrency)"])
            }
        }
        if embeddingConfiguration == nil { log.warning("\(EmbeddingConfiguration.offNote)") }
        reconciling.set(standing?.reconcile ?? false)
        } catch {
            // The graph's opening may still be under way: let it end before the locks go.
            _ = try? await openedGraph
            throw await fail(error)
        }
        log.info("run started", metadata: [
            "pipeline": "\(c.pipelineDescription)", "graph": "\(writer?.location ?? "none (dry run)")",
            "state": "\(statePath)", "dataset_id": "\(datasetID)", "dry_run": .stringConvertible(dryRun),
            "shard": "\(filter.shard.map(\.description) ?? "all")"])

        let progress = ProgressReporter(terminal: c.reporting.terminalProgress, total: c.limit, log: log)
        let sessionLocks = pgLock.map { PostgresSessionLocks(lock: $0, scope: scope.sessionLockScope) }
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
            log.error("run failed", metadata: ["exit_status": .stringConvertible(Int(status.rawValue))])
            let failed = await fail(error)
            withExtendedLifetime(lock) {}
            throw failed
        }

        let status: ExitStatus = summary.interrupted ? .interrupted : (summary.quarantined > 0 ? .partial : .done)
        let line = JSONWriter.string(summary.jsonValue, style: .compact)
        let open: Int
        do {
            if try await standing?.finish(checkpoints: checkpoints, summary: summary, options: runOptions, scope: standingScope) == true {
                log.info("reconciled: the checkpoints are in step with the graph again", metadata: ["scope": "\(standingScope ?? "")"])
            }
            open = try await checkpoints.read { checkpoints in try checkpoints.openQuarantineCount() }
            if !dryRun {
                let statusName = summary.interrupted ? "interrupted" : (status == .partial ? "partial" : "done")
                try await checkpoints.write { checkpoints in
                    try checkpoints.finishRun(runID, status: statusName, exitCode: status.rawValue, summary: line)
                }
            }
        } catch {
            throw await fail(error)
        }
        do {
            try await writeMetrics(summary: summary, status: status, started: started, checkpoints: checkpoints, openQuarantine: open)
        } catch {
            // The run's work is done and recorded; a metrics file that cannot be written is
            // reported, not turned into a failed run.
            log.error("could not write the metrics file", metadata: ["path": "\(c.reporting.metricsFile ?? "")", "error": "\(error)"])
        }
        // The PostgreSQL lock goes while the state database closes (checkpointing its WAL into
        // the file unless the run changed nothing but its own row: `CheckpointStore.close()`):
        // the two waits overlap.
        async let released: Void = { await pgLock?.release() }()
        await checkpoints.close()
        await released
        withExtendedLifetime(lock) {}

        log.info(dryRun ? "dry run done: nothing was written" : "run done", metadata: [
            "sessions": .stringConvertible(summary.sessionsSeen), "turns_seen": .stringConvertible(summary.turnsSeen),
            "persisted": .stringConvertible(summary.turnsPersisted), "unchanged": .stringConvertible(summary.turnsUnchanged),
            "deleted": .stringConvertible(summary.turnsDeleted), "quarantined": .stringConvertible(summary.quarantined),
            "quarantine_open": .stringConvertible(open), "rows_written": .stringConvertible(summary.rowsWritten),
            "seconds": .stringConvertible((summary.seconds * 100).rounded() / 100), "exit_status": .stringConvertible(Int(status.rawValue))])
        if dryRun && !c.reporting.json {
            print("""
                dry run (nothing written): \(summary.sessionsSeen) sessions, \(summary.turnsSeen) turns read
                  would persist \(summary.turnsPersisted) turns (\(summary.turnsNew) new, \(summary.turnsChanged) changed), \
                retract \(summary.turnsDeleted) deleted, leave \(summary.turnsUnchanged) unchanged, \
                skip \(summary.turnsOutOfWindow) outside --since/--until
                  would quarantine \(summary.quarantined) elements
                  extractor \(c.extractor.rawValue): \(summary.turnsPersisted) calls, ~\(summary.estimatedTokens) tokens, \
                ~$\(String(format: "%.4f", summary.estimatedCostUSD))
                """)
        }
        if c.reporting.json { print(line) }
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

    package static func newRunID() -> String {
        "run-" + UTCTime.compact(UTCTime.now) + "-" + UUID().uuidString.prefix(8).lowercased()
    }

    /// The metrics file, unless there is none or this is a dry run.
    private func writeMetrics(summary: RunSummary?, status: ExitStatus, started: Date, checkpoints: CheckpointStore,
                              openQuarantine: Int? = nil) async throws {
        guard let path = configuration.reporting.metricsFile, !configuration.dryRun else { return }
        let lastSuccess = (try? await checkpoints.read { checkpoints in try checkpoints.lastSuccess() }).flatMap { $0 }.flatMap(parseTimestamp)
        var open = openQuarantine
        if open == nil { open = try? await checkpoints.read { checkpoints in try checkpoints.openQuarantineCount() } }
        try MetricsFile(path: path, pipeline: configuration.reporting.pipelineLabel,
                        shard: configuration.scope.shard.map(\.description) ?? "all", version: version)
            .write(summary: summary, status: status, started: started, lastSuccess: lastSuccess, openQuarantine: open)
    }
}

/// Whether a run's failure was already reported (--json line, metrics file) by the run itself.
final class FailureReported {
    var done = false
}

/// A failure whose exit status is decided by whoever raised it (an argument refused by the
/// command-line parser: 64), for ``RunService/reportUnrecorded(_:configuration:reporting:dryRun:version:)``.
package struct EarlyExit: Error, CustomStringConvertible {
    package var status: ExitStatus
    package var message: String
    package init(status: ExitStatus, message: String) {
        self.status = status
        self.message = message
    }
    package var description: String { message }
}
