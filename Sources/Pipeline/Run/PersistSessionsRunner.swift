package import MemifyCore
package import GraphStore
package import SessionCache
package import Extraction
import Foundation
import Logging
import Synchronization

/// What one run does, beyond where it reads and writes.
package struct RunOptions: Sendable {
    package var runID: String
    package var datasetID: String
    package var filter: SessionFilter
    /// Only turns whose time is in [since, until) (Unix seconds); others are left alone.
    package var since: Double?
    package var until: Double?
    /// At most this many sessions.
    package var limit: Int?
    package var dryRun: Bool
    /// Extractor calls in flight at once.
    package var concurrency: Int
    /// Graph rows per transaction, about: small sessions are gathered into batches of this many
    /// rows, and a session too large for one is persisted in slices of about this many rows,
    /// each committed and checkpointed on its own.
    package var batchRows: Int
    /// The checkpoints may be behind the graph (a crash between a commit and its checkpoint, a
    /// lost or restored state database): each session's stored turns are read from the graph's
    /// turn registry (`memify_turn`) as well as from the checkpoints, the registry winning, so a
    /// turn the graph holds and the cache no longer does is retracted.
    package var reconcile = false
    /// The state database's id: each batch committed to the graph bumps its counter there.
    package var stateID: String?
    /// The embedding model's identity when vectors are on. Part of every turn's derivation (see
    /// ``PersistSessionsRunner/derivationIdentity(extractor:vectors:)``): turning vectors on, or
    /// changing the model, re-derives every turn once, as an extractor change does.
    package var vectorIdentity: String?

    package init(runID: String, datasetID: String, filter: SessionFilter = .all, since: Double? = nil, until: Double? = nil,
                limit: Int? = nil, dryRun: Bool = false, concurrency: Int = 4, batchRows: Int = 1000) {
        self.runID = runID
        self.datasetID = datasetID
        self.filter = filter
        self.since = since
        self.until = until
        self.limit = limit
        self.dryRun = dryRun
        self.concurrency = max(1, concurrency)
        self.batchRows = max(1, batchRows)
    }

    /// The run as the graph's provenance names it (`source_run_ids`, `source_run_refs`): a uuid5
    /// of ``runID``, since cognee's provenance code reads run ids as UUIDs (and fails on a row
    /// whose run ids are not). ``runID`` stays the run's name in the state database and logs.
    package var graphRunID: String { GraphIdentity.graphRunID(runID) }

    /// The dataset of runs that name none: a fixed uuid, so ids stay stable across runs.
    package static let defaultDatasetID = GraphIdentity.uuid5("memify-worker:default-dataset")
}

/// What a run did, for the summary line, the metrics file and the runs table.
package struct RunSummary: Sendable, Equatable {
    package var runID = ""
    package var sessionsSeen = 0
    /// Sessions skipped because another worker held them (it persists them).
    package var sessionsLockedElsewhere = 0
    /// Sessions whose stored bytes matched their fingerprint: skipped without decoding.
    package var sessionsUnchanged = 0
    /// Keys that look like session keys but name no session (reported, not read).
    package var keysMalformed = 0
    package var turnsSeen = 0
    package var turnsNew = 0
    package var turnsChanged = 0
    package var turnsUnchanged = 0
    package var turnsDeleted = 0
    /// Turns outside --since/--until.
    package var turnsOutOfWindow = 0
    /// Elements or sessions quarantined by this run (new or met again).
    package var quarantined = 0
    package var extractorCalls = 0
    package var rowsWritten = 0
    package var rowsDeleted = 0
    /// Whether the run wrote vectors (an embedding endpoint was configured).
    package var vectorsOn = false
    /// Vector rows inserted or changed, and removed with the rows they belonged to.
    package var vectorsWritten = 0
    package var vectorsDeleted = 0
    /// Embedding usage, filled in by the caller: requests sent, texts sent, texts found in the cache.
    package var embeddingRequests = 0
    package var textsEmbedded = 0
    package var textsFromEmbeddingCache = 0
    package var embeddingTokens = 0
    package var embeddingCostUSD = 0.0
    /// The embedding model's identity (`model@dimensions`) when vectors are on.
    package var embeddingModel: String?
    package var estimatedTokens = 0
    package var estimatedCostUSD = 0.0
    /// Turns left for a later run because the token or cost budget ran out (not checkpointed).
    package var turnsDeferred = 0
    /// The run stopped taking work because its `--max-tokens` / `--max-cost` budget ran out.
    package var stoppedByBudget = false
    /// LLM usage paid by this run (cache hits cost nothing); filled in by the caller.
    package var tokensIn = 0
    package var tokensOut = 0
    package var costUSD = 0.0
    package var interrupted = false
    package var dryRun = false
    /// The run read each session's stored turns from the graph's registry too (see ``RunOptions/reconcile``).
    package var reconciled = false
    /// The graph's commit counter for this state after the run's last commit (nil: none).
    package var graphSequence: Int64?
    package var seconds = 0.0

    package init() {}

    package var turnsPersisted: Int { turnsNew + turnsChanged }

    package var jsonValue: JSONValue {
        func n(_ v: Int) -> JSONValue { .number(JSONNumber(v)) }
        return .object(JSONObject([
            ("run_id", .string(runID)), ("dry_run", .bool(dryRun)), ("interrupted", .bool(interrupted)), ("reconciled", .bool(reconciled)),
            ("sessions_seen", n(sessionsSeen)), ("sessions_locked_elsewhere", n(sessionsLockedElsewhere)),
            ("sessions_unchanged", n(sessionsUnchanged)), ("keys_malformed", n(keysMalformed)),
            ("turns_seen", n(turnsSeen)), ("turns_persisted", n(turnsPersisted)),
            ("turns_new", n(turnsNew)), ("turns_changed", n(turnsChanged)), ("turns_unchanged", n(turnsUnchanged)),
            ("turns_deleted", n(turnsDeleted)), ("turns_out_of_window", n(turnsOutOfWindow)),
            ("turns_quarantined", n(quarantined)), ("extractor_calls", n(extractorCalls)),
            ("rows_written", n(rowsWritten)), ("rows_deleted", n(rowsDeleted)),
            ("vectors", .string(vectorsOn ? "on" : "off")), ("vectors_written", n(vectorsWritten)), ("vectors_deleted", n(vectorsDeleted)),
            ("embedding_requests", n(embeddingRequests)), ("texts_embedded", n(textsEmbedded)),
            ("texts_from_embedding_cache", n(textsFromEmbeddingCache)), ("embedding_model", embeddingModel.map(JSONValue.string) ?? .null),
            ("embedding_tokens", n(embeddingTokens)),
            ("embedding_cost_usd", .number(JSONNumber(literal: String(format: "%.6f", embeddingCostUSD), isInteger: false))),
            ("turns_deferred", n(turnsDeferred)), ("stopped_by_budget", .bool(stoppedByBudget)),
            ("tokens_in", n(tokensIn)), ("tokens_out", n(tokensOut)),
            ("cost_usd", .number(JSONNumber(literal: String(format: "%.6f", costUSD), isInteger: false))),
            ("estimated_tokens", n(estimatedTokens)), ("estimated_cost_usd", .number(JSONNumber(literal: String(format: "%.4f", estimatedCostUSD), isInteger: false))),
            ("seconds", .number(JSONNumber(literal: String(format: "%.3f", seconds), isInteger: false))),
        ]))
    }
}

/// Set by a signal handler: stop taking new work, finish the batch in flight.
package final class StopFlag: Sendable {
    private let flag = Mutex(false)
    package init() {}
    package func stop() { flag.withLock { $0 = true } }
    package var isStopped: Bool { flag.withLock { $0 } }
}

/// The persist-sessions pipeline, one pass:
///
///     discover sessions → read turns → diff against checkpoints → build documents
///       → summarize/extract → upsert graph rows → advance checkpoints
///
/// Reading streams (the cache source prefetches a bounded number of batches); work is gathered
/// into batches of about `batchRows` graph rows; each batch is extracted with at most
/// `concurrency` extractor calls in flight, written in one graph transaction, and only then
/// checkpointed. Nothing is queued beyond one batch. A session larger than a batch is cut into
/// slices that are batches of their own (``SessionSlices``): the graph rows in memory are
/// bounded by the batch size, not by the session, and a stop comes between two slices.
package struct PersistSessionsRunner: Sendable {
    package var source: any CacheSource
    /// nil in a dry run.
    package var graph: (any GraphWriter)?
    package var checkpoints: any CheckpointStoring
    package var extractor: any Extractor
    package var options: RunOptions
    /// Per-session locks against other workers (PostgreSQL advisory locks); nil for SQLite.
    package var sessionLocks: (any SessionLocking)?
    /// Embeds each batch's index texts before its transaction opens; nil: vectors off.
    package var embedder: (any TextEmbedding)?

    package init(source: any CacheSource, graph: (any GraphWriter)?, checkpoints: any CheckpointStoring, extractor: any Extractor,
                options: RunOptions, sessionLocks: (any SessionLocking)? = nil, embedder: (any TextEmbedding)? = nil) {
        self.sessionLocks = sessionLocks
        self.embedder = embedder
        self.source = source
        self.graph = graph
        self.checkpoints = checkpoints
        self.extractor = extractor
        self.options = options
    }

    /// Rows a turn without entities writes, to size batches before extraction (a turn with
    /// entities writes more, so entity-rich batches come out larger than `batchRows`).
    private static let rowsPerTurnEstimate = 12
    /// Sessions per batch at most, whatever they hold (unchanged ones count no rows).
    private static let maxBatchSessions = 4096

    private struct Work: Sendable {
        var turn: TurnDocument
        var previous: TurnCheckpoint?
    }

    /// A session too large for one batch, persisted in slices of about `batchRows` rows, each
    /// committed and checkpointed on its own (a next run continues from the slices committed).
    /// What its slices share, carried from one to the next. What needs the whole session waits
    /// for the last slice: its deleted turns (missing from the session, and only when no element
    /// of it was quarantined), its count, its quarantine resolved, its fingerprint. Its lock is
    /// taken with the first slice and released with the last (or when the run stops between).
    private struct SessionSlices {
        var key: SessionKey
        /// The session's elements, all slices together.
        var elements: Int
        var isFirst = true
        var isLast = false
        /// This run holds the session's lock (always true without session locks).
        var locked = false
        /// The turn ids of the slices planned so far: duplicates and deletions are per session.
        var seen: Set<String> = []
        /// An element of the session was quarantined (or the session as a whole).
        var quarantined = false
        var outOfWindow = 0
        /// A turn of a slice was rejected by the extractor or deferred.
        var unfinished = false
        /// Reconciling: the graph's registry rows of the session, read with the first slice.
        var registered: [String: TurnCheckpoint]?
    }

    /// Turns in one slice of a large session: about `batchRows` rows.
    private var sliceTurns: Int { max(1, options.batchRows / Self.rowsPerTurnEstimate) }

    private struct Batch {
        var work: [Work] = []
        var deleted: [TurnCheckpoint] = []
        /// Reconciling: turns the graph holds as they are cached whose checkpoints say otherwise
        /// (or nothing): their registry rows become their checkpoints.
        var adopted: [TurnCheckpoint] = []
        var sessions: [(SessionKey, Int)] = []
        var cleanSessions: [SessionKey] = []
        /// Sessions persisted whole as read: their fingerprints are recorded with the checkpoints.
        var fingerprints: [SessionKey: String] = [:]
        var isEmpty: Bool { work.isEmpty && deleted.isEmpty && sessions.isEmpty }
    }

    package func run(stop: StopFlag = StopFlag(), progress: (@Sendable (RunSummary) -> Void)? = nil) async throws -> RunSummary {
        let started = ContinuousClock.now
        var summary = RunSummary()
        summary.runID = options.runID
        summary.dryRun = options.dryRun
        summary.reconciled = options.reconcile && !options.dryRun && graph != nil
        summary.vectorsOn = embedder != nil
        var pending: [SessionRead] = []
        var pendingTurns = 0
        var sessionsTaken = 0

        // Two stages overlap: while one batch is written and checkpointed (waiting on the
        // database), the next is planned, extracted and built. Never more than one of each.
        var inFlight: Task<CommitResult, any Error>?
        func settle() async throws {
            guard let task = inFlight else { return }
            inFlight = nil
            let result = try await task.value
            summary.rowsWritten += result.rowsWritten
            summary.rowsDeleted += result.rowsDeleted
            summary.vectorsWritten += result.vectorsWritten
            summary.vectorsDeleted += result.vectorsDeleted
            if let sequence = result.sequence { summary.graphSequence = sequence }
        }
        func submit(_ reads: [SessionRead], slices: inout SessionSlices?) async throws {
            guard !reads.isEmpty else { return }
            let prepared = try await prepare(reads, slices: &slices, summary: &summary)
            try await settle()
            if prepared.isEmpty { return }  // every session unchanged: nothing to write or unlock
            let runner = self
            inFlight = Task { try await runner.commit(prepared) }
        }
        func submit(_ reads: [SessionRead]) async throws {
            var whole: SessionSlices?
            try await submit(reads, slices: &whole)
        }
        /// A session larger than a batch, slice after slice; between two, a stop or an exhausted
        /// budget leaves the rest for the next run (the slices committed stay committed).
        func submitInSlices(_ read: SessionRead) async throws {
            let count = read.elements.count
            let parts = (count + sliceTurns - 1) / sliceTurns
            var slices: SessionSlices? = SessionSlices(key: read.key, elements: count)
            for part in 0..<parts {
                if part > 0 {
                    guard slices?.locked == true else { return }  // another worker holds it
                    if stop.isStopped || summary.stoppedByBudget {
                        // The slice in flight commits; then the lock goes (a later slice would have released it).
                        try await settle()
                        if !options.dryRun { try await sessionLocks?.unlock([read.key]) }
                        return
                    }
                }
                let range = (count * part / parts)..<(count * (part + 1) / parts)
                var piece = SessionRead(key: read.key, location: read.location, elements: Array(read.elements[range]),
                                        errors: part == 0 ? read.errors : [], sessionError: part == 0 ? read.sessionError : nil,
                                        expiresAt: read.expiresAt)
                piece.fingerprint = read.fingerprint
                slices?.isFirst = part == 0
                slices?.isLast = part == parts - 1
                try await submit([piece], slices: &slices)
                progress?(summary)
            }
        }
        do {
            for try await read in source.sessions(filter: options.filter) {
                if stop.isStopped || summary.stoppedByBudget { break }
                if let limit = options.limit, sessionsTaken >= limit { break }
                sessionsTaken += 1
                if read.unchangedCount == nil, read.elements.count > sliceTurns {
                    // Too large for a batch: the sessions gathered so far go first, then it, in slices.
                    try await submit(pending)
                    pending.removeAll(keepingCapacity: true)
                    pendingTurns = 0
                    try await submitInSlices(read)
                    continue
                }
                // An unchanged session (fingerprint) writes nothing: it does not count towards
                // the batch's rows, so a no-op run goes by in a few large batches.
                if read.unchangedCount == nil { pendingTurns += max(1, read.elements.count) }
                pending.append(read)
                if pendingTurns * Self.rowsPerTurnEstimate >= options.batchRows || pending.count >= Self.maxBatchSessions {
                    try await submit(pending)
                    pending.removeAll(keepingCapacity: true)
                    pendingTurns = 0
                    progress?(summary)
                }
            }
            if stop.isStopped { summary.interrupted = true }
            // Out of budget: sessions read but not yet planned are left whole for the next run.
            if !summary.stoppedByBudget { try await submit(pending) }
            try await settle()
        } catch {
            // Let the batch in flight finish (or fail) before reporting: checkpoints stay consistent.
            _ = try? await inFlight?.value
            throw error
        }
        summary.seconds = (ContinuousClock.now - started).seconds
        progress?(summary)
        return summary
    }

    private struct CommitResult: Sendable {
        var rowsWritten = 0
        var rowsDeleted = 0
        var vectorsWritten = 0
        var vectorsDeleted = 0
        var sequence: Int64?
    }

    /// A batch ready to be written: graph rows, the checkpoints they make true, what to retract.
    private struct Prepared: Sendable {
        var graph = GraphBatch()
        /// The rows' vectors, embedded (nil: vectors off).
        var vectors: VectorBatch?
        var persisted: [TurnCheckpoint] = []
        var replacedChunkKeys: [String] = []
        var deleted: [TurnCheckpoint] = []
        var adopted: [TurnCheckpoint] = []
        var sessions: [(SessionKey, Int)] = []
        var cleanSessions: [SessionKey] = []
        var fingerprints: [SessionKey: String] = [:]
        /// The sessions this batch locked (to unlock once it is committed).
        var held: [SessionKey] = []

        var isEmpty: Bool {
            graph.nodes.isEmpty && graph.edges.isEmpty && persisted.isEmpty && replacedChunkKeys.isEmpty && deleted.isEmpty
                && adopted.isEmpty && sessions.isEmpty && cleanSessions.isEmpty && fingerprints.isEmpty && held.isEmpty
        }
    }

    /// Locks a batch's sessions (when another worker may be at them), diffs them against their
    /// checkpoints, extracts and builds the rows. Writes nothing but the quarantine.
    /// `slices`: set when `reads` is one slice of a large session (its one read holds only the
    /// slice's elements); carried from slice to slice.
    private func prepare(_ reads: [SessionRead], slices: inout SessionSlices?, summary: inout RunSummary) async throws -> Prepared {
        let locks = options.dryRun ? nil : sessionLocks
        // Sessions the source found unchanged (fingerprint) need no checkpoints, and no lock:
        // nothing is written for them (and a batch of them hashes no key at all).
        let toLock = reads.filter { $0.unchangedCount == nil }.map(\.key)
        // A later slice of a session: its lock is held since the first.
        let locked: Set<SessionKey>
        if let slices, !slices.isFirst {
            locked = slices.locked ? [slices.key] : []
        } else {
            locked = toLock.isEmpty ? [] : try await locks?.tryLock(toLock) ?? Set(toLock)
            if let key = slices?.key { slices?.locked = locked.contains(key) }
        }
        do {
            var batch = Batch()
            let mine = toLock.filter { locked.contains($0) }
            let existing: [SessionKey: [String: TurnCheckpoint]]
            if let slices, let read = reads.first, !mine.isEmpty {
                // A slice: the checkpoints of its turns, and with the last, those of every stored
                // turn no slice held (its deleted turns).
                let ids = read.elements.map { TurnDocument.turnID($0.entry) }
                var turns = try await checkpoints.loadTurns(of: slices.key, turnIDs: ids)
                if slices.isLast {
                    let seen = slices.seen.union(ids)
                    turns.merge(try await checkpoints.loadTurns(of: slices.key, notIn: seen)) { slice, _ in slice }
                }
                existing = [slices.key: turns]
            } else {
                existing = try await checkpoints.loadTurns(of: mine)
            }
            // Reconciling: what the graph holds of these sessions, by its own registry (of a
            // session in slices: read with its first slice, kept for the others).
            var registered: [SessionKey: [String: TurnCheckpoint]]?
            if let slices, let kept = slices.registered {
                registered = [slices.key: kept]
            } else if options.reconcile, !options.dryRun, let graph, !mine.isEmpty {
                var found: [SessionKey: [String: TurnCheckpoint]] = [:]
                let sessions = mine.map { (userID: $0.userID, sessionID: $0.sessionID) }
                for turn in try await readingGraph("read the registered turns", { try await graph.registeredTurns(datasetID: options.datasetID, sessions: sessions) }) {
                    found[SessionKey(userID: turn.userID, sessionID: turn.sessionID), default: [:]][turn.turnID] = TurnCheckpoint(
                        userID: turn.userID, sessionID: turn.sessionID, turnID: turn.turnID, contentHash: turn.contentHash,
                        documentID: turn.documentID, documentKey: turn.documentKey, chunkKey: turn.chunkKey, turnTime: turn.turnTime,
                        runID: options.runID)
                }
                registered = found
                if let key = slices?.key { slices?.registered = found[key] ?? [:] }
            }
            for read in reads {
                if slices?.isFirst ?? true { summary.sessionsSeen += 1 }
                guard read.unchangedCount != nil || locked.contains(read.key) else {
                    summary.sessionsLockedElsewhere += 1
                    continue
                }
                try await plan(read, existing: existing[read.key] ?? [:], registered: registered.map { $0[read.key] ?? [:] },
                               slices: &slices, into: &batch, summary: &summary)
            }
            var prepared = Prepared()
            // A session in slices stays locked until its last slice is committed.
            prepared.held = slices.map { $0.isLast ? Array(locked) : [] } ?? Array(locked)
            guard !options.dryRun else { return prepared }
            let inputs = batch.work.map {
                ExtractionInput(key: $0.turn.key, turnID: $0.turn.turnID, question: $0.turn.entry.question, answer: $0.turn.entry.answer,
                                time: $0.turn.entry.time)
            }
            let outcomes = inputs.isEmpty ? [] : try await extractor.extract(batch: inputs, concurrency: options.concurrency)
            guard outcomes.count == inputs.count else {
                throw WorkerError(.protocolError, operation: "extract a batch with \(extractor.identity)",
                                    message: "\(outcomes.count) outcomes for \(inputs.count) turns")
            }
            prepared.graph.runID = options.graphRunID
            // Sessions with a turn that was not extracted keep their open quarantine entries.
            var unfinished: Set<SessionKey> = []
            var rejected: [(key: SessionKey, index: Int?, reason: String, raw: [UInt8])] = []
            var newlyPersisted = 0
            for (work, outcome) in zip(batch.work, outcomes) {
                let result: ExtractedGraph
                switch outcome {
                case .extracted(let graph):
                    result = graph
                    summary.extractorCalls += 1
                case .rejected(let reason, let raw):
                    summary.extractorCalls += 1
                    summary.quarantined += 1
                    if work.previous == nil { summary.turnsNew -= 1 } else { summary.turnsChanged -= 1 }
                    unfinished.insert(work.turn.key)
                    rejected.append((work.turn.key, work.turn.index, reason,
                                     raw.isEmpty ? work.turn.entry.cogneeJSON : raw))
                    continue
                case .notAttempted:
                    summary.stoppedByBudget = true
                    summary.turnsDeferred += 1
                    if work.previous == nil { summary.turnsNew -= 1 } else { summary.turnsChanged -= 1 }
                    unfinished.insert(work.turn.key)
                    continue
                }
                if work.previous == nil { newlyPersisted += 1 }
                let builder = work.turn.builder()
                let built = builder.build(result)
                prepared.graph.nodes += built.nodes
                prepared.graph.edges += built.edges
                prepared.persisted.append(TurnCheckpoint(
                    userID: work.turn.key.userID, sessionID: work.turn.key.sessionID, turnID: work.turn.turnID,
                    contentHash: work.turn.contentHash, documentID: builder.documentID, documentKey: builder.documentKey,
                    chunkKey: builder.chunkKey, turnTime: work.turn.entry.time, runID: options.runID))
                // An edit that changed the text moves the turn to a new chunk: the old chunk's rows
                // go (entities other turns still reference stay). The document keeps its id.
                if let previous = work.previous, previous.chunkKey != builder.chunkKey {
                    prepared.replacedChunkKeys.append(previous.chunkKey)
                }
            }
            if !rejected.isEmpty { try await checkpoints.quarantine(rejected, runID: options.runID) }
            if let embedder, !prepared.graph.nodes.isEmpty {
                do {
                    prepared.vectors = try await Self.embed(prepared.graph, with: embedder)
                } catch is EmbeddingBudgetExhausted {
                    // Out of budget before this batch's vectors: nothing of it is written (rows
                    // without their vectors would be invisible to cognee's search), its turns and
                    // deletions wait for the next run, and the run takes no more work.
                    summary.stoppedByBudget = true
                    summary.turnsDeferred += prepared.persisted.count
                    let changed = prepared.persisted.count - newlyPersisted
                    summary.turnsNew -= newlyPersisted
                    summary.turnsChanged -= changed
                    summary.turnsDeleted -= batch.deleted.count
                    var deferred = Prepared()
                    deferred.held = prepared.held
                    return deferred
                }
            }
            // A turn of an earlier slice left unfinished leaves the whole session so.
            if let key = slices?.key {
                if unfinished.contains(key) { slices?.unfinished = true }
                if slices?.unfinished == true { unfinished.insert(key) }
            }
            prepared.deleted = batch.deleted
            prepared.adopted = batch.adopted
            prepared.sessions = batch.sessions
            prepared.cleanSessions = batch.cleanSessions.filter { !unfinished.contains($0) }
            prepared.fingerprints = batch.fingerprints.filter { !unfinished.contains($0.key) }
            return prepared
        } catch {
            try? await locks?.unlock(Array(locked))
            throw error
        }
    }

    /// Writes one prepared batch, then checkpoints it, then unlocks its sessions. The graph
    /// commits first: a crash before the checkpoint only repeats idempotent work.
    private func commit(_ prepared: Prepared) async throws -> CommitResult {
        let locks = options.dryRun ? nil : sessionLocks
        do {
            let result = try await writeAndCheckpoint(prepared)
            try await locks?.unlock(prepared.held)
            return result
        } catch {
            try? await locks?.unlock(prepared.held)
            throw error
        }
    }

    private func writeAndCheckpoint(_ prepared: Prepared) async throws -> CommitResult {
        var result = CommitResult()
        guard !options.dryRun, let graph else { return result }
        // Every other chunk of a rewritten document goes: the one its checkpoint named, and any a
        // crash left behind, which no checkpoint knows of. A deleted turn's document goes with
        // every chunk stored for it.
        var retracting = prepared.replacedChunkKeys
        let documents = prepared.persisted.map(\.documentID) + prepared.deleted.map(\.documentID)
        let stored = documents.isEmpty ? [:] : try await readingGraph("read the chunks of documents", { try await graph.chunks(ofDocuments: documents) })
        if !prepared.persisted.isEmpty {
            let current = Set(prepared.persisted.map(\.chunkKey))
            for document in prepared.persisted.map(\.documentID) {
                for chunk in stored[document] ?? [] {
                    let key = SourceRef.chunk(datasetID: options.datasetID, dataID: document, chunkID: chunk)
                    if !current.contains(key) && !retracting.contains(key) { retracting.append(key) }
                }
            }
        }
        for deleted in prepared.deleted {
            var keys = [deleted.chunkKey]
            for chunk in stored[deleted.documentID] ?? [] {
                let key = SourceRef.chunk(datasetID: options.datasetID, dataID: deleted.documentID, chunkID: chunk)
                if !keys.contains(key) { keys.append(key) }
            }
            for key in keys + [deleted.documentKey] where !retracting.contains(key) { retracting.append(key) }
        }
        // Rows, retractions, the turn registry and this state's commit counter: one transaction.
        if !prepared.graph.nodes.isEmpty || !retracting.isEmpty || !prepared.persisted.isEmpty || !prepared.deleted.isEmpty {
            let commit = GraphCommit(
                batch: prepared.graph, retracting: retracting, datasetID: options.datasetID,
                registering: prepared.persisted.map(\.registered), unregistering: prepared.deleted.map(\.registered),
                stateID: options.stateID, vectors: prepared.vectors)
            // Tried again only when the connection was found lost at its BEGIN (nothing of it was sent).
            let committed = try await readingGraph("commit a batch", retryIf: \.transactionNotBegun, { try await graph.commit(commit) })
            result.rowsWritten = committed.rowsWritten
            result.rowsDeleted = committed.rowsDeleted
            result.vectorsWritten = committed.vectorsWritten
            result.vectorsDeleted = committed.vectorsDeleted
            result.sequence = committed.sequence
        }
        try await checkpoints.record(persisted: prepared.persisted + prepared.adopted, removed: prepared.deleted, sessions: prepared.sessions,
                                     cleanSessions: prepared.cleanSessions, fingerprints: prepared.fingerprints,
                                     graphSequence: result.sequence, runID: options.runID)
        return result
    }

    private static let logger = Logger(label: "memify.run")

    /// A read of the graph that depends on no checkpoint (idempotent): when the connection to the
    /// graph was lost and the run's locks are still held, it connects again and reads once more,
    /// with a warning. A second loss, or locks lost with their connection, fails the run (exit
    /// 69, the next run resumes). Writes are tried again only when `retryIf` says nothing of
    /// them reached the server.
    private func readingGraph<R: Sendable>(_ what: String, retryIf: (DatabaseError) -> Bool = { _ in true },
                                           _ read: () async throws -> R) async throws -> R {
        do {
            return try await read()
        } catch let error as DatabaseError where error.code == .connectionFailed && retryIf(error) {
            guard let graph, await sessionLocks?.stillHeld() ?? true else { throw error }
            Self.logger.warning("lost the connection to the graph; reconnecting once and reading again", metadata: [
                "graph": "\(graph.location)", "read": "\(what)", "error": "\(error)"])
            try await graph.reconnect()
            return try await read()
        }
    }

    /// Diffs one session against its checkpoints and adds what must change to the batch.
    /// `registered`: when reconciling, the turns the graph's registry holds for the session; they
    /// win over the checkpoints, and a turn either knows and the cache lacks is deleted.
    /// `slices`: `read` is one slice of the session; what needs the whole session waits for the last.
    private func plan(_ read: SessionRead, existing: [String: TurnCheckpoint], registered: [String: TurnCheckpoint]?,
                      slices: inout SessionSlices?, into batch: inout Batch, summary: inout RunSummary) async throws {
        let key = read.key
        let runID = options.runID
        if let unchanged = read.unchangedCount {
            // Byte for byte what was persisted whole: nothing to diff, extract or retract.
            summary.sessionsUnchanged += 1
            summary.turnsSeen += unchanged
            summary.turnsUnchanged += unchanged
            return
        }
        var quarantine: [(Int?, String, [UInt8])] = []
        var outOfWindow = 0
        if let error = read.sessionError { quarantine.append((nil, error.reason, error.raw)) }
        for error in read.errors { quarantine.append((error.index, error.error.reason, error.raw)) }

        // Taken out of `slices` while it grows, so it is not copied.
        var seen = slices?.seen ?? []
        slices?.seen = []
        let derivation = Self.derivationIdentity(extractor: extractor.identity, vectors: options.vectorIdentity)
        for element in read.elements {
            summary.turnsSeen += 1
            let turn = TurnDocument(key: key, index: element.index, entry: element.entry, datasetID: options.datasetID,
                                    extractorIdentity: derivation)
            guard seen.insert(turn.turnID).inserted else {
                quarantine.append((element.index, "duplicate qa_id '\(turn.turnID)': an earlier element of this session has it",
                                   Array(JSONWriter.string(element.entry.jsonValue, style: .compact).utf8)))
                continue
            }
            if !inWindow(element.entry.time) {
                summary.turnsOutOfWindow += 1
                outOfWindow += 1
                continue
            }
            // Reconciling, the graph's registry says what is stored: a checkpoint it lacks may be
            // of a turn the graph no longer holds, so the turn is written again (idempotently).
            let previous = registered.map { $0[turn.turnID] } ?? existing[turn.turnID]
            if let previous, previous.contentHash == turn.contentHash {
                summary.turnsUnchanged += 1
                if registered != nil, existing[turn.turnID].map({ $0.contentHash != previous.contentHash || $0.chunkKey != previous.chunkKey }) ?? true {
                    batch.adopted.append(previous)
                }
                continue
            }
            if previous == nil { summary.turnsNew += 1 } else { summary.turnsChanged += 1 }
            let estimate = extractor.estimate(question: element.entry.question, answer: element.entry.answer)
            summary.estimatedTokens += estimate.tokens
            summary.estimatedCostUSD += estimate.costUSD
            batch.work.append(Work(turn: turn, previous: previous))
        }
        summary.quarantined += quarantine.count
        var clean = quarantine.isEmpty
        var elementCount = read.elements.count
        if var s = slices {
            s.seen = seen
            s.quarantined = s.quarantined || !quarantine.isEmpty
            s.outOfWindow += outOfWindow
            slices = s
            clean = !s.quarantined
            outOfWindow = s.outOfWindow
            elementCount = s.elements
        }
        // A turn counts as deleted only when its session was read cleanly: a bad element may be
        // the edited form of a stored turn, and a vanished session is expiry, not deletion.
        // When the cache may hand out one session in parts (several diskcache folders), no read
        // is the whole session, so nothing is taken for deleted. A session in slices: with its
        // last, once every element has been seen.
        if slices?.isLast == false {
            // Nothing that needs the whole session yet.
        } else if clean {
            if !source.mayReadSessionPartially {
                let stored = registered.map { existing.merging($0) { _, graph in graph } } ?? existing
                for (turnID, checkpoint) in stored where !seen.contains(turnID) && inWindow(checkpoint.turnTime) {
                    batch.deleted.append(checkpoint)
                    summary.turnsDeleted += 1
                }
            }
            batch.cleanSessions.append(key)
            if outOfWindow == 0, options.since == nil, options.until == nil, !source.mayReadSessionPartially,
               let fingerprint = read.fingerprint {
                batch.fingerprints[key] = fingerprint
            }
        }
        if slices?.isLast ?? true { batch.sessions.append((key, elementCount)) }
        if !options.dryRun && !quarantine.isEmpty {
            try await checkpoints.quarantine(quarantine.map { (key: key, index: $0.0, reason: $0.1, raw: $0.2) }, runID: runID)
        }
    }

    /// What a turn's rows are derived with: the extractor, and the embedding model when vectors
    /// are on. Salted into every turn's content hash and the sessions' fingerprints, so a change
    /// of either re-derives each turn once.
    package static func derivationIdentity(extractor: String, vectors: String?) -> String {
        vectors.map { "\(extractor) vectors \($0)" } ?? extractor
    }

    /// The vector points of a batch's rows (cognee's index fields and edge texts), embedded.
    /// Called before the batch's transaction opens: a slow or failing service holds no lock.
    static func embed(_ graph: GraphBatch, with embedder: any TextEmbedding) async throws -> VectorBatch {
        var points = VectorIndex.points(for: graph)
        let vectors = try await embedder.embed(points.map(\.text))
        guard vectors.count == points.count else {
            throw WorkerError(.protocolError, operation: "embed a batch with \(embedder.identity)",
                                message: "\(vectors.count) vectors for \(points.count) texts")
        }
        for i in points.indices { points[i].vector = vectors[i] }
        return VectorBatch(dimensions: embedder.dimensions, identity: embedder.identity, points: points)
    }

    private func inWindow(_ time: String) -> Bool {
        if options.since == nil && options.until == nil { return true }
        guard let t = parseTimestamp(time) else { return false }
        if let since = options.since, t < since { return false }
        if let until = options.until, t >= until { return false }
        return true
    }
}

extension Duration {
    var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}

extension TurnCheckpoint {
    /// The turn's row in the graph's registry.
    package var registered: RegisteredTurn {
        RegisteredTurn(userID: userID, sessionID: sessionID, turnID: turnID, documentID: documentID, contentHash: contentHash,
                       documentKey: documentKey, chunkKey: chunkKey, turnTime: turnTime)
    }
}
