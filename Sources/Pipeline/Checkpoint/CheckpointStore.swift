import MemifyCore

/// The state database (checkpoints, quarantine, runs, the LLM and embedding caches), reached
/// only through ``read(_:)`` and ``write(_:)``: their bodies get the blocking ``StateDatabase``
/// on the store's own thread, so sqlite3 never runs on the cooperative pool. Checkpoints, the
/// LLM state and the runs log are views over it (``CheckpointStoring``, ``LLMStateStoring``,
/// ``EmbeddingCaching``, ``StateDatabase``'s methods).
package final class CheckpointStore: Sendable {
    private let state: StateDatabase
    private let executor = BlockingExecutor(label: "memify.checkpoints")

    private init(_ state: StateDatabase) { self.state = state }

    package var path: String { state.path }

    /// Opens (creating or upgrading) the state database.
    package static func open(path: String) async throws -> CheckpointStore {
        try await BlockingExecutor(label: "memify.checkpoints.open").run { CheckpointStore(try StateDatabase(path: path)) }
    }

    /// Opens the state database read-only: no file, table or WAL is created or written (for a
    /// dry run, `status`, `stats`). Tables a newer schema added may be missing.
    package static func open(readOnlyPath path: String) async throws -> CheckpointStore {
        try await BlockingExecutor(label: "memify.checkpoints.open").run { CheckpointStore(try StateDatabase(readOnlyPath: path)) }
    }

    /// Reads: `body` runs on the state database's thread.
    package func read<T: Sendable>(_ body: @escaping @Sendable (StateDatabase) throws -> T) async throws -> T {
        let state = self.state
        return try await executor.run { try body(state) }
    }

    /// Writes (and reads): `body` runs on the state database's thread, after every read and
    /// write asked for before it. Transactions are the body's (``StateDatabase``'s methods
    /// that write several rows make their own).
    package func write<T: Sendable>(_ body: @escaping @Sendable (StateDatabase) throws -> T) async throws -> T {
        let state = self.state
        return try await executor.run { try body(state) }
    }

    /// Closes the database (see ``StateDatabase/close()``); every later call throws.
    package func close() async {
        let state = self.state
        try? await executor.run { state.close() }
    }
}
