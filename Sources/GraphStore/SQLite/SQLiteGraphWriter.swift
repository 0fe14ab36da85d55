import MemifyCore
import Foundation
import Synchronization

/// The embedded graph: the same logical tables as cognee's PostgreSQL graph (spec §5.3) in one
/// SQLite file, with the same write, merge and retraction behaviour. The default when no
/// PostgreSQL URL is given. Arrays are stored as sorted JSON arrays, properties as JSON text.
package final class SQLiteGraphWriter: GraphWriter {
    package let path: String
    let database: SQLiteDatabase
    let executor: BlockingExecutor
    /// The width the vector collections were checked at (once per writer, as PostgreSQL's are).
    private let vectorWidth = Mutex<Int?>(nil)

    /// Opens (creating if needed) the graph file. Blocking: call from a blocking context or
    /// through ``open(path:)``.
    package init(path: String) throws {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        database = try SQLiteDatabase(path: path, mode: .readWriteCreate)
        try database.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON")
        executor = BlockingExecutor(label: "memify.graph.sqlite")
    }

    package static func open(path: String) async throws -> SQLiteGraphWriter {
        try await BlockingExecutor(label: "memify.graph.open").run { try SQLiteGraphWriter(path: path) }
    }

    package var location: String { "sqlite:\(path)" }

    package func write(_ batch: GraphBatch) async throws -> GraphWriteStats {
        let database = self.database
        let location = self.location
        let batch = batch.prepared()
        return try await executor.run {
            try database.transaction { () throws(DatabaseError) -> GraphWriteStats in
                try Self.writeRows(database, batch, location: location)
            }
        }
    }

    package func commit(_ commit: GraphCommit) async throws -> GraphCommitResult {
        let database = self.database
        let location = self.location
        let batch = commit.batch.prepared()
        return try await executor.run {
            try database.transaction { () throws(DatabaseError) -> GraphCommitResult in
                var result = GraphCommitResult()
                var replacedEdgeTexts: [String] = []
                if !batch.nodes.isEmpty || !batch.edges.isEmpty {
                    let stats = try Self.writeRows(database, batch, location: location)
                    result.rowsWritten = stats.rowsWritten
                    replacedEdgeTexts = stats.replacedEdgeTexts
                }
                if let vectors = commit.vectors, !vectors.points.isEmpty {
                    try self.ensureVectors(dimensions: vectors.dimensions, identity: vectors.identity)
                    result.vectorsWritten = try SQLiteVectors.upsert(database, vectors.points)
                }
                // The vectors of what is retracted go too, whether or not this run embeds.
                let collections = commit.retracting.isEmpty && replacedEdgeTexts.isEmpty ? [] : Set(try SQLiteVectors.widths(database).keys)
                var retraction = VectorRetraction(edgeTexts: Set(replacedEdgeTexts))
                for key in commit.retracting {
                    if !collections.isEmpty { try SQLiteVectors.collect(database, key: key, into: &retraction) }
                    let stats = try Self.retractRows(database, key: key, deletedNodes: &retraction.nodeIDs)
                    result.rowsDeleted += stats.nodesDeleted + stats.edgesDeleted
                }
                if !collections.isEmpty {
                    result.vectorsDeleted = try SQLiteVectors.remove(database, retraction, collections: collections)
                }
                if !commit.unregistering.isEmpty {
                    try database.withStatement("DELETE FROM memify_turn WHERE dataset_id = ?1 AND user_id = ?2 AND session_id = ?3 AND turn_id = ?4",
                                               operation: "unregister turns") { stmt throws(DatabaseError) in
                        for turn in commit.unregistering {
                            stmt.reset()
                            for (i, value) in ([commit.datasetID] + turn.key).enumerated() { try stmt.bind(Int32(i + 1), value) }
                            _ = try stmt.step()
                        }
                    }
                }
                let turns = commit.uniqueRegistering
                if !turns.isEmpty {
                    try database.withStatement("""
                        INSERT INTO memify_turn (dataset_id, user_id, session_id, turn_id, document_id, content_hash, document_key, chunk_key, turn_time)
                        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                        ON CONFLICT (dataset_id, user_id, session_id, turn_id) \(commit.keepRegistered ? "DO NOTHING" : """
                        DO UPDATE SET document_id = excluded.document_id,
                          content_hash = excluded.content_hash, document_key = excluded.document_key, chunk_key = excluded.chunk_key,
                          turn_time = excluded.turn_time, updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now')
                        """)
                        """, operation: "register turns") { stmt throws(DatabaseError) in
                        for t in turns {
                            stmt.reset()
                            for (i, value) in ([commit.datasetID] + t.storedValues).enumerated() {
                                try stmt.bind(Int32(i + 1), value)
                            }
                            _ = try stmt.step()
                        }
                    }
                }
                if let stateID = commit.stateID {
                    result.sequence = try database.withStatement("""
                        INSERT INTO memify_commit (state_id, seq) VALUES (?1, 1)
                        ON CONFLICT (state_id) DO UPDATE SET seq = seq + 1, updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') RETURNING seq
                        """, operation: "count the commit") { stmt throws(DatabaseError) -> Int64? in
                        try stmt.bind(1, stateID)
                        return try stmt.step() ? stmt.int64(0) : nil
                    }
                }
                return result
            }
        }
    }

    package func prepareVectors(dimensions: Int, identity: String) async throws {
        let database = self.database
        try await executor.run {
            try database.transaction { () throws(DatabaseError) in
                try self.ensureVectors(dimensions: dimensions, identity: identity)
            }
        }
    }

    /// The collections made and checked at `dimensions`, once per writer, in the caller's transaction.
    private func ensureVectors(dimensions: Int, identity: String) throws(DatabaseError) {
        if vectorWidth.withLock({ $0 }) == dimensions { return }
        try SQLiteVectors.ensure(database, dimensions: dimensions, identity: identity, location: location)
        vectorWidth.withLock { $0 = dimensions }
    }

    package func vectorWidths() async throws -> [String: Int] {
        let database = self.database
        return try await executor.run { () throws(DatabaseError) -> [String: Int] in try SQLiteVectors.widths(database) }
    }

    package func commitSequence(stateID: String) async throws -> Int64 {
        let database = self.database
        return try await executor.run { () throws(DatabaseError) -> Int64 in
            try database.withStatement("SELECT seq FROM memify_commit WHERE state_id = ?1", operation: "read the commit counter") {
                stmt throws(DatabaseError) -> Int64 in
                try stmt.bind(1, stateID)
                return try stmt.step() ? stmt.int64(0) : 0
            }
        }
    }

    package func hasRegisteredTurns(datasetID: String) async throws -> Bool {
        let database = self.database
        return try await executor.run { () throws(DatabaseError) -> Bool in
            try database.withStatement("SELECT EXISTS (SELECT 1 FROM memify_turn WHERE dataset_id = ?1)",
                                       operation: "look for registered turns") { stmt throws(DatabaseError) -> Bool in
                try stmt.bind(1, datasetID)
                return try stmt.step() && stmt.int64(0) == 1
            }
        }
    }

    package func registeredTurns(datasetID: String, sessions: [(userID: String, sessionID: String)]) async throws -> [RegisteredTurn] {
        guard !sessions.isEmpty else { return [] }
        let database = self.database
        let keys = sessions.map { [RegistryText.encode($0.userID), RegistryText.encode($0.sessionID)] }
        return try await executor.run { () throws(DatabaseError) -> [RegisteredTurn] in
            try database.withStatement("""
                SELECT user_id, session_id, turn_id, document_id, content_hash, document_key, chunk_key, turn_time FROM memify_turn
                WHERE dataset_id = ?1 AND user_id = ?2 AND session_id = ?3
                """, operation: "read registered turns") { stmt throws(DatabaseError) -> [RegisteredTurn] in
                var out: [RegisteredTurn] = []
                for key in keys {
                    stmt.reset()
                    try stmt.bind(1, datasetID)
                    try stmt.bind(2, key[0])
                    try stmt.bind(3, key[1])
                    while try stmt.step() {
                        out.append(RegisteredTurn(stored: (0..<8).map { stmt.text(Int32($0)) ?? "" }))
                    }
                }
                return out
            }
        }
    }

    package func chunks(ofDocuments documentIDs: [String]) async throws -> [String: [String]] {
        guard !documentIDs.isEmpty else { return [:] }
        let database = self.database
        return try await executor.run { () throws(DatabaseError) -> [String: [String]] in
            try database.withStatement(
                "SELECT target_id, source_id FROM graph_edge WHERE relationship_name = 'is_part_of' AND target_id IN (SELECT value FROM json_each(?1))",
                operation: "read the chunks of \(documentIDs.count) documents") { stmt throws(DatabaseError) -> [String: [String]] in
                try stmt.bind(1, jsonArray(documentIDs))
                var out: [String: [String]] = [:]
                while try stmt.step() { if let doc = stmt.text(0), let chunk = stmt.text(1) { out[doc, default: []].append(chunk) } }
                return out
            }
        }
    }

    package func identity() async throws -> String {
        let database = self.database
        let candidate = UUID().uuidString.lowercased()
        return try await executor.run { () throws(DatabaseError) -> String in
            try database.withStatement("INSERT OR IGNORE INTO graph_metadata (key, value) VALUES ('memify_graph_id', ?1)",
                                       operation: "record the graph id") { stmt throws(DatabaseError) in
                try stmt.bind(1, candidate)
                _ = try stmt.step()
            }
            return try database.withStatement("SELECT value FROM graph_metadata WHERE key = 'memify_graph_id'",
                                              operation: "read the graph id") { stmt throws(DatabaseError) -> String in
                guard try stmt.step(), let id = stmt.text(0) else {
                    throw DatabaseError(.sqlite, operation: "read the graph id", message: "graph_metadata has no memify_graph_id row")
                }
                return id
            }
        }
    }

    package func snapshot() async throws -> GraphSnapshot {
        let database = self.database
        return try await executor.run {
            let nodes = try database.withStatement(
                "SELECT id, name, type, properties, source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs FROM graph_node ORDER BY id",
                operation: "read graph_node"
            ) { stmt throws(DatabaseError) -> [StoredNode] in
                var out: [StoredNode] = []
                while try stmt.step() { out.append(Self.storedNode(stmt)) }
                return out
            }
            let edges = try database.withStatement(
                "SELECT source_id, target_id, relationship_name, properties, source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs FROM graph_edge ORDER BY source_id, target_id, relationship_name",
                operation: "read graph_edge"
            ) { stmt throws(DatabaseError) -> [StoredEdge] in
                var out: [StoredEdge] = []
                while try stmt.step() { out.append(Self.storedEdge(stmt)) }
                return out
            }
            let metadata = try database.withStatement("SELECT key, value FROM graph_metadata", operation: "read graph_metadata") {
                stmt throws(DatabaseError) -> [String: String] in
                var out: [String: String] = [:]
                while try stmt.step() { out[stmt.text(0) ?? ""] = stmt.text(1) ?? "" }
                return out
            }
            return GraphSnapshot(nodes: nodes, edges: edges, metadata: metadata)
        }
    }
}

/// A JSON array of strings, as stored in the SQLite graph's array columns.
func jsonArray(_ items: [String]) -> String {
    JSONWriter.string(.array(items.map(JSONValue.string)), style: .compact)
}

func jsonStrings(_ text: String?) -> [String] {
    guard let text, case .array(let items)? = try? JSONParser.parse(text) else { return [] }
    return items.compactMap { if case .string(let s) = $0 { s } else { nil } }
}

func jsonObject(_ text: String?) -> JSONObject {
    guard let text, case .object(let object)? = try? JSONParser.parse(text) else { return JSONObject() }
    return object
}
