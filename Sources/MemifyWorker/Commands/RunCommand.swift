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
import ServiceLifecycle
import UnixSignals
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

    @Option(name: .customLong("log-format"), help: "Log lines on stderr as text or json. Default: text.")
    var logFormatOption: LogFormat?

    @Option(name: .customLong("log-level"),
            help: "The least severe log level written: trace, debug, info, notice, warning, error or critical. Default: info.")
    var logLevelOption: LogLevelOption?

    var logFormat: LogFormat { logFormatOption ?? .text }
    var logLevel: LogLevelOption { logLevelOption ?? .info }

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
        try await withExitStatus {
            let definition: PipelineDefinition
            do {
                definition = try PipelineDefinition.load(pipeline)
            } catch {
                RunService.reportUnrecorded(error, configuration: nil, reporting: RunReporting(json: report.json, metricsFile: report.metricsFile,
                                                                                               pipelineLabel: pipeline),
                                            dryRun: dryRun, version: MemifyWorker.version)
                throw error
            }
            return try await withPipelineFile(definition).start(definition)
        }
    }

    /// The options with the pipeline file's run options under them: a flag given on the command
    /// line wins over the file, and the file over the environment (which the options read when
    /// neither gives a value).
    func withPipelineFile(_ file: PipelineDefinition) -> RunCommand {
        var c = self
        c.cache.cacheURL = cache.cacheURL ?? file.cache
        c.graph.graphURL = graph.graphURL ?? file.graph
        c.graph.schemaOption = graph.schemaOption ?? file.schema
        c.graph.placementOption = graph.placementOption ?? file.placement.flatMap(GraphOptions.Placement.init(rawValue:))
        c.graph.datasetID = graph.datasetID ?? file.dataset
        c.state.statePath = state.statePath ?? file.state
        c.report.metricsFile = report.metricsFile ?? file.metricsFile
        c.report.logFormatOption = report.logFormatOption ?? file.logFormat.flatMap(LogFormat.init(rawValue:))
        c.report.logLevelOption = report.logLevelOption ?? file.logLevel.flatMap(LogLevelOption.init(rawValue:))
        c.since = since ?? file.since
        c.until = until ?? file.until
        c.limit = limit ?? file.limit
        c.shard = shard ?? file.shard
        c.dryRun = dryRun || file.dryRun == true
        c.llm.maxTokens = llm.maxTokens ?? file.maxTokens
        c.llm.maxCost = llm.maxCost ?? file.maxCost
        c.vectors.noVectors = vectors.noVectors || file.noVectors == true
        c.vectors.embeddingModel = vectors.embeddingModel ?? file.embeddingModel
        return c
    }

    /// Runs with these options (the pipeline file's already under them).
    private func start(_ definition: PipelineDefinition) async throws -> ExitStatus {
        // What validate() checks of the flags, checked again with the file's values in.
        try graph.validate()
        try validate()
        var filter = selection.filter
        filter.shard = try shard.map { try Shard(parsing: $0) }
        return try await RunSetup(cache: cache, graph: graph, statePath: state.path, report: report, pipeline: pipeline, definition: definition)
            .run(filter: filter, since: since.flatMap(parseTimestamp), until: until.flatMap(parseTimestamp), limit: limit,
                 dryRun: dryRun, concurrency: concurrency, extractor: extractor, llm: llm, vectors: vectors)
    }
}

/// From options to a run: the one place where flags, the pipeline file and the environment
/// become a frozen ``RunConfiguration``, which a ``RunService`` then runs (`run` and
/// `quarantine replay`).
struct RunSetup {
    var cache: CacheOptions
    var graph: GraphOptions
    var statePath: String
    var report: ReportOptions
    var pipeline: String
    /// The pipeline file, when the caller has loaded it already.
    var definition: PipelineDefinition?

    func run(filter: SessionFilter, since: Double? = nil, until: Double? = nil, limit: Int? = nil, dryRun: Bool = false,
             concurrency: Int? = nil, extractor: String? = nil, llm: LLMOptions, vectors: EmbeddingOptions) async throws -> ExitStatus {
        let log = Logs.bootstrap(report.logFormat, level: report.logLevel.level)
        let stop = StopFlag()
        let configuration: RunConfiguration
        do {
            configuration = try self.configuration(filter: filter, since: since, until: until, limit: limit, dryRun: dryRun,
                                                   concurrency: concurrency, extractor: extractor, llm: llm, vectors: vectors)
        } catch {
            RunService.reportUnrecorded(error, configuration: nil, reporting: reporting, dryRun: dryRun, version: MemifyWorker.version)
            throw error
        }
        // A SIGTERM from here on (locks, connections, the batches) stops the run cleanly; one
        // before the group's handlers is noted by CSignals and stops it before its first batch.
        return try await RunLifecycle.run(RunService(configuration: configuration, logger: log, stop: stop, version: MemifyWorker.version))
    }

    var reporting: RunReporting {
        RunReporting(json: report.json, metricsFile: report.metricsFile,
                     terminalProgress: !report.noProgress && isatty(2) == 1 && report.logFormat == .text, pipelineLabel: pipeline)
    }

    func configuration(filter: SessionFilter, since: Double?, until: Double?, limit: Int?, dryRun: Bool, concurrency: Int?,
                       extractor: String?, llm: LLMOptions, vectors: EmbeddingOptions) throws -> RunConfiguration {
        let definition = try self.definition ?? PipelineDefinition.load(pipeline)
        let extractorName = extractor ?? definition.extractor
        guard let kind = ExtractorKind(rawValue: extractorName) else {
            throw WorkerError(.usage, operation: "choose the extractor", message: "'\(extractorName)' is not builtin or llm")
        }
        // Configuration problems are usage errors, reported before any lock is taken. The
        // embedding model is resolved in a dry run too: it is part of each turn's derivation, so
        // what a dry run says would persist is what a run would.
        let llmConfiguration = kind == .llm ? try llm.configuration(requireKey: !dryRun) : nil
        let embedding = try vectors.configuration()
        let cache = self.cache
        let environment = WorkerEnvironment.values
        return RunConfiguration(
            openCache: { options in try cache.makeSource(environment: environment, options: options) },
            cacheRead: cache.readOptions, graph: try graph.target(), placement: graph.graphPlacement, statePath: statePath,
            scope: RunScope(datasetID: graph.resolvedDatasetID ?? RunOptions.defaultDatasetID, schema: graph.graphPlacement.schema,
                            shard: filter.shard),
            filter: filter, since: since, until: until, limit: limit, mode: dryRun ? .dryRun : .persist, extractor: kind,
            llm: llmConfiguration, embedding: embedding, maxTokens: llm.maxTokens, maxCostUSD: llm.maxCost,
            concurrency: concurrency ?? definition.concurrency, batchRows: definition.batchRows,
            pipelineDescription: "\(definition.name) (\(definition.origin))", reporting: reporting)
    }
}

/// The run under swift-service-lifecycle: SIGTERM or SIGINT starts a graceful shutdown, which
/// asks the run to stop after the batch in flight (exit 130); a second signal exits at once,
/// which is safe too, because checkpoints are only written after the graph commits.
struct RunLifecycle: Service {
    /// How the run ended, for ``run(_:)`` once the group is done.
    final class Outcome: Sendable {
        let result = Mutex<Result<ExitStatus, any Error>?>(nil)
    }

    let service: RunService
    let outcome = Outcome()

    func run() async throws {
        let stop = service.stop, log = service.logger
        // A signal that came before the group's handlers (noted since before main: CSignals).
        let early = memify_take_early_signal()
        if early != 0 {
            stop.stop()
            log.warning("signal \(early == SIGINT ? "SIGINT" : "SIGTERM") while the run started: stopping before its first batch")
        }
        let second = Mutex<[any DispatchSourceSignal]>([])
        let result: Result<ExitStatus, any Error>
        do {
            result = .success(try await withGracefulShutdownHandler {
                try await service.run()
            } onGracefulShutdown: {
                stop.stop()
                log.warning("signal: finishing the batch in flight, then stopping (again to exit now)")
                second.withLock { $0 = Self.exitOnNextSignal() }
            })
        } catch {
            result = .failure(error)
        }
        second.withLock { sources in for source in sources { source.cancel() } }
        outcome.result.withLock { $0 = result }
    }

    /// After the first signal: the next SIGINT or SIGTERM ends the process at once.
    private static func exitOnNextSignal() -> [any DispatchSourceSignal] {
        let queue = DispatchQueue(label: "memify.signals.again")
        return [SIGINT, SIGTERM].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { _exit(130) }
            source.resume()
            return source
        }
    }

    /// Runs `service` in a service group that turns SIGTERM and SIGINT into a graceful shutdown.
    static func run(_ service: RunService) async throws -> ExitStatus {
        let lifecycle = RunLifecycle(service: service)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: lifecycle, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: service.logger))
        try await group.run()
        guard let result = lifecycle.outcome.result.withLock({ $0 }) else {
            throw WorkerError(.protocolError, operation: "run", message: "the run ended without an outcome")
        }
        return try result.get()
    }
}
