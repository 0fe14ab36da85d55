import MemifyCore
package import GraphStore
package import SessionCache
import Extraction

/// Whether a run's checkpoints can be trusted to know every turn the graph holds, and what to do
/// when they cannot.
///
/// The graph commits a batch before its checkpoint: a crash between the two, a lost `state.db`
/// or one restored from an older copy leaves the graph holding turns the checkpoints do not
/// know, and a run that diffs only against its checkpoints would never retract such a turn once
/// it is deleted from the cache. So every batch also keeps the graph's own turn registry
/// (`memify_turn`) and bumps its state's commit counter (`memify_commit`) in the same
/// transaction, and the state records the counter with the checkpoint. At the start of a run:
///
/// - the state is in step for this run's scope and the counters agree: a normal run (one
///   indexed read of the counter is all this costs);
/// - the counters disagree (a crash between commit and checkpoint, an older state restored, or
///   the graph restored), or the last reconciling run did not complete for this scope: the run
///   reconciles (``RunOptions/reconcile``);
/// - this state has never committed (a new or lost state, or one from before the registry):
///   its checkpoints are registered with what the registry lacks, and the run reconciles only
///   when the registry already held turns of the dataset.
///
/// A reconciling run that reads every session of its scope (no `--limit`, `--since`, `--until`,
/// not interrupted, none left to another worker) puts the state back in step.
package struct GraphStanding: Sendable {
    package var stateID: String
    /// This run reconciles.
    package var reconcile: Bool
    /// Why, for the log.
    package var reason: String
    /// The graph's counter for this state when the run started.
    package var graphSequence: Int64

    /// Checkpoints registered per transaction when a state from before the registry first runs.
    static let backfillPage = 5000

    /// Decides how this run stands. `scope` names the sessions the run reads (``scope(of:)``).
    /// `readSequence` reads the graph's counter for a state id (on the run lock's connection
    /// when there is one, so a writer connects only when the run writes).
    package static func check(checkpoints: CheckpointStore, graph: any GraphWriter, datasetID: String, scope: String?,
                             readSequence: (String) async throws -> Int64) async throws -> GraphStanding {
        let state = try await checkpoints.read { checkpoints in try checkpoints.graphSyncRecord() }
        var sequence = try await readSequence(state.stateID)
        if let synced = state.syncedScope, sequence == state.sequence, synced == "all" || synced == scope {
            return GraphStanding(stateID: state.stateID, reconcile: false, reason: "in step", graphSequence: sequence)
        }
        guard state.syncedScope == nil && sequence == 0 else {
            let reason = sequence != state.sequence
                ? "the graph holds \(sequence) commits of this state, its checkpoints know \(state.sequence) (a crash between a commit and its checkpoint, or a state database restored from an older copy)"
                : "the last reconciling run did not cover this run's sessions"
            return GraphStanding(stateID: state.stateID, reconcile: true, reason: reason, graphSequence: sequence)
        }
        // This state has never committed to this graph: new, lost, or from before the registry.
        let occupied = try await graph.hasRegisteredTurns(datasetID: datasetID)
        if state.hasTurns {
            // What it vouches for is registered, without overwriting what the graph registered since.
            var after: Int64 = 0
            while true {
                let from = after
                let page = try await checkpoints.read { checkpoints in try checkpoints.turnsPage(after: from, limit: backfillPage) }
                guard !page.turns.isEmpty else { break }
                let committed = try await graph.commit(GraphCommit(datasetID: datasetID, registering: page.turns.map(\.registered),
                                                                   keepRegistered: true, stateID: state.stateID))
                sequence = committed.sequence ?? sequence
                after = page.last
            }
        }
        if occupied {
            return GraphStanding(stateID: state.stateID, reconcile: true,
                                 reason: "the graph holds turns of this dataset that this state database never checkpointed (a new or lost state database)",
                                 graphSequence: sequence)
        }
        let reached = sequence
        try await checkpoints.write { checkpoints in try checkpoints.markSynced(scope: "all", sequence: reached) }
        return GraphStanding(stateID: state.stateID, reconcile: false, reason: "new graph", graphSequence: reached)
    }

    /// Before a reconciling run's first batch: the state is out of step until one completes.
    package func begin(checkpoints: CheckpointStore) async throws {
        guard reconcile else { return }
        try await checkpoints.write { checkpoints in try checkpoints.beginReconcile() }
    }

    /// After a run: a reconciling run that read every session of its scope puts the state back
    /// in step. Returns whether it did.
    @discardableResult
    package func finish(checkpoints: CheckpointStore, summary: RunSummary, options: RunOptions, scope: String?) async throws -> Bool {
        guard reconcile, let scope, options.limit == nil, options.since == nil, options.until == nil, !summary.interrupted,
              !summary.stoppedByBudget, summary.sessionsLockedElsewhere == 0 else { return false }
        let sequence = summary.graphSequence ?? graphSequence
        try await checkpoints.write { checkpoints in try checkpoints.markSynced(scope: scope, sequence: sequence) }
        return true
    }

    /// The sessions a filter reads, as recorded when a reconciling run covered them: `all`, or
    /// the users, sessions and shard named; nil for an exact list of keys (`quarantine replay`),
    /// which never completes a reconciliation.
    package static func scope(of filter: SessionFilter) -> String? {
        if filter.keys != nil { return nil }
        if filter.userIDs.isEmpty && filter.sessionIDs.isEmpty && filter.shard == nil { return "all" }
        var parts: [String] = []
        if !filter.userIDs.isEmpty { parts.append("users " + JSONWriter.string(.array(filter.userIDs.sorted().map(JSONValue.string)), style: .compact)) }
        if !filter.sessionIDs.isEmpty {
            parts.append("sessions " + JSONWriter.string(.array(filter.sessionIDs.sorted().map(JSONValue.string)), style: .compact))
        }
        if let shard = filter.shard { parts.append("shard \(shard)") }
        return parts.joined(separator: "; ")
    }
}
