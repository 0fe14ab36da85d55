import MemifyCore
import Synchronization

/// A graph writer that connects on first use. A run whose sessions are all unchanged writes
/// nothing, so it need not open a second connection (with its server process) just to hold it:
/// the schema check and the identity its checkpoints are bound to come from elsewhere
/// (``PostgresRunLock/currentGraphIdentity(placement:)``), and only a run that writes connects.
/// A connection error surfaces at the first write, recorded like any other failure. The writer
/// it connects is checked again on its own connection (schema, identity) before anything is
/// written: a conninfo naming several hosts may reach another server than the check did.
package final class DeferredGraphWriter: GraphWriter {
    package let location: String
    private let knownIdentity: String
    private let open: @Sendable () async throws -> any GraphWriter
    private let opened = Mutex<Task<any GraphWriter, any Error>?>(nil)

    /// `identity` is the graph's, already read; `open` connects a writer to the same graph,
    /// whose schema is current.
    package init(location: String, identity: String, open: @escaping @Sendable () async throws -> any GraphWriter) {
        self.location = location
        self.knownIdentity = identity
        self.open = open
    }

    /// Whether a writer was asked for (and so connected, or tried to).
    package var isConnected: Bool { opened.withLock { $0 != nil } }

    private func writer() async throws -> any GraphWriter {
        let task = opened.withLock { slot in
            if let slot { return slot }
            let open = self.open, expected = knownIdentity, location = self.location
            let made = Task { () async throws -> any GraphWriter in
                let writer = try await open()
                try await writer.migrate()  // no DDL when current
                let identity = try await writer.identity()
                guard identity == expected else {
                    throw DatabaseError(.invalidArgument, operation: "open the graph writer at \(location)",
                                          message: "the writer's connection reached graph \(identity), not graph \(expected) that the run checked; give this graph one host")
                }
                return writer
            }
            slot = made
            return made
        }
        return try await task.value
    }

    package func migrate() async throws { try await writer().migrate() }
    package func write(_ batch: GraphBatch) async throws -> GraphWriteStats { try await writer().write(batch) }
    package func retract(sourceRefKey: String) async throws -> GraphWriteStats { try await writer().retract(sourceRefKey: sourceRefKey) }
    package func snapshot() async throws -> GraphSnapshot { try await writer().snapshot() }
    package func identity() async throws -> String { knownIdentity }
    package func chunks(ofDocuments documentIDs: [String]) async throws -> [String: [String]] {
        try await writer().chunks(ofDocuments: documentIDs)
    }
    package func commit(_ commit: GraphCommit) async throws -> GraphCommitResult { try await writer().commit(commit) }
    package func commitSequence(stateID: String) async throws -> Int64 { try await writer().commitSequence(stateID: stateID) }
    package func hasRegisteredTurns(datasetID: String) async throws -> Bool { try await writer().hasRegisteredTurns(datasetID: datasetID) }
    package func reconnect() async throws { try await writer().reconnect() }
    package func registeredTurns(datasetID: String, sessions: [(userID: String, sessionID: String)]) async throws -> [RegisteredTurn] {
        try await writer().registeredTurns(datasetID: datasetID, sessions: sessions)
    }
    package func vectorWidths() async throws -> [String: Int] { try await writer().vectorWidths() }
    package func prepareVectors(dimensions: Int, identity: String) async throws {
        try await writer().prepareVectors(dimensions: dimensions, identity: identity)
    }
}
