import MemifyCore
import Foundation
import Synchronization

/// The embedded graph: the same logical tables as cognee's PostgreSQL graph (spec §5.3) in one
/// SQLite file, with the same write, merge and retraction behaviour. The default when no
/// PostgreSQL URL is given. Arrays are stored as sorted JSON arrays, properties as JSON text.
package final class SQLiteGraphWriter: GraphWriter {
    package let path: String
    private let database: SQLiteDatabase
    private let executor: BlockingExecutor
    /// The width the vector collections were checked at (once per writer, as PostgreSQL's are).
    private let vectorWidth = Mutex<Int?>(nil)

    /// 2: the turn registry (`memify_turn`) and the states' commit counters (`memify_commit`).
    package static let schemaVersion = 2

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

    static let schema = """
        CREATE TABLE IF NOT EXISTS graph_metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS graph_node (
          id TEXT PRIMARY KEY, name TEXT, type TEXT, properties TEXT,
          source_ref_keys TEXT NOT NULL DEFAULT '[]', source_dataset_ids TEXT NOT NULL DEFAULT '[]',
          source_run_ids TEXT NOT NULL DEFAULT '[]', source_run_refs TEXT NOT NULL DEFAULT '[]',
          created_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
          updated_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')));
        CREATE INDEX IF NOT EXISTS idx_node_type ON graph_node (type);
        CREATE TABLE IF NOT EXISTS graph_edge (
          source_id TEXT NOT NULL REFERENCES graph_node(id) ON DELETE CASCADE,
          target_id TEXT NOT NULL REFERENCES graph_node(id) ON DELETE CASCADE,
          relationship_name TEXT NOT NULL, properties TEXT,
          source_ref_keys TEXT NOT NULL DEFAULT '[]', source_dataset_ids TEXT NOT NULL DEFAULT '[]',
          source_run_ids TEXT NOT NULL DEFAULT '[]', source_run_refs TEXT NOT NULL DEFAULT '[]',
          created_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
          updated_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
          PRIMARY KEY (source_id, target_id, relationship_name));
        CREATE INDEX IF NOT EXISTS idx_edge_source ON graph_edge (source_id);
        CREATE INDEX IF NOT EXISTS idx_edge_target ON graph_edge (target_id);
        CREATE TABLE IF NOT EXISTS memify_turn (
          dataset_id TEXT NOT NULL, user_id TEXT NOT NULL, session_id TEXT NOT NULL, turn_id TEXT NOT NULL,
          document_id TEXT NOT NULL, content_hash TEXT NOT NULL, document_key TEXT NOT NULL, chunk_key TEXT NOT NULL,
          turn_time TEXT NOT NULL, updated_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
          PRIMARY KEY (dataset_id, user_id, session_id, turn_id));
        CREATE TABLE IF NOT EXISTS memify_commit (state_id TEXT PRIMARY KEY, seq INTEGER NOT NULL,
          updated_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')));
        CREATE TABLE IF NOT EXISTS memify_schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
        INSERT OR IGNORE INTO memify_schema_version VALUES (1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
        INSERT OR IGNORE INTO memify_schema_version VALUES (2, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
        """

    package func migrate() async throws {
        let database = self.database
        try await executor.run {
            try database.execute(Self.schema)
            try Self.upgradeRunIDs(database)
        }
    }

    /// Run ids that are not UUIDs (graphs written before 2026-12-07) become their uuid5 in every
    /// row's provenance, once: cognee's provenance code reads run ids as UUIDs. A metadata row
    /// records that it was done, so later migrations do not scan the graph again.
    static func upgradeRunIDs(_ database: SQLiteDatabase) throws(DatabaseError) {
        let done = try database.withStatement("SELECT count(*) FROM graph_metadata WHERE key = 'memify_run_ids'",
                                              operation: "check run ids") { stmt throws(DatabaseError) -> Bool in
            try stmt.step() && stmt.int64(0) > 0
        }
        if done { return }
        try database.transaction { () throws(DatabaseError) in
            for table in ["graph_node", "graph_edge"] {
                let rows = try database.withStatement(
                    "SELECT rowid, source_run_ids, source_run_refs FROM \(table) WHERE source_run_ids <> '[]'",
                    operation: "read run ids of \(table)"
                ) { stmt throws(DatabaseError) -> [(Int64, Provenance)] in
                    var out: [(Int64, Provenance)] = []
                    while try stmt.step() {
                        let p = Provenance(runIDs: jsonStrings(stmt.text(1)), runRefs: jsonStrings(stmt.text(2)))
                        if let upgraded = p.upgradingRunIDs() { out.append((stmt.int64(0), upgraded)) }
                    }
                    return out
                }
                try database.withStatement("UPDATE \(table) SET source_run_ids = ?1, source_run_refs = ?2 WHERE rowid = ?3",
                                           operation: "upgrade run ids of \(table)") { stmt throws(DatabaseError) in
                    for (rowid, p) in rows {
                        stmt.reset()
                        try stmt.bind(1, jsonArray(p.runIDs))
                        try stmt.bind(2, jsonArray(p.runRefs))
                        try stmt.bind(3, rowid)
                        _ = try stmt.step()
                    }
                }
            }
            try database.execute("INSERT OR REPLACE INTO graph_metadata (key, value) VALUES ('memify_run_ids', 'uuid')")
        }
    }

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

    /// Upserts a prepared batch inside the caller's transaction.
    private static func writeRows(_ database: SQLiteDatabase, _ batch: GraphBatch, location: String) throws(DatabaseError) -> GraphWriteStats {
        try Self.markProvenanceIfEmpty(database)
        let existingNodes = try Self.readNodes(database, ids: batch.nodes.map(\.id))
        let outside = GraphMerge.endpointsOutsideBatch(batch)
        let present = Set(try Self.readNodes(database, ids: outside).keys)
        let missing = GraphMerge.missingEndpoints(batch, stored: present)
        if !missing.isEmpty { throw GraphMerge.missingNodeError(missing, location: location) }
        let existingEdges = try Self.readEdges(database, keys: batch.edges.map(\.key))
        let plan = GraphMerge.plan(batch, existingNodes: existingNodes, existingEdges: existingEdges)
        try Self.upsertNodes(database, plan.nodes)
        try Self.upsertEdges(database, plan.edges)
        return plan.stats
    }

    package func retract(sourceRefKey key: String) async throws -> GraphWriteStats {
        let database = self.database
        return try await executor.run {
            try database.transaction { () throws(DatabaseError) -> GraphWriteStats in
                var deleted: [String] = []
                return try Self.retractRows(database, key: key, deletedNodes: &deleted)
            }
        }
    }

    /// Retracts what `key` produced inside the caller's transaction; `deletedNodes` gets the ids
    /// of the nodes deleted.
    private static func retractRows(_ database: SQLiteDatabase, key: String,
                                    deletedNodes: inout [String]) throws(DatabaseError) -> GraphWriteStats {
        var stats = GraphWriteStats()
        let owned = "EXISTS (SELECT 1 FROM json_each(source_ref_keys) WHERE value = ?1)"
        // Rows only this source owns go; edges first, then nodes (their other edges cascade).
        stats.edgesDeleted = try Self.run(database, "DELETE FROM graph_edge WHERE source_ref_keys = json_array(?1)", [key])
        let edgesBefore = try Self.count(database, "SELECT count(*) FROM graph_edge")
        let deletedIDs = try database.withStatement("DELETE FROM graph_node WHERE source_ref_keys = json_array(?1) RETURNING id",
                                                    operation: "delete nodes of \(key)") { stmt throws(DatabaseError) -> [String] in
            try stmt.bind(1, key)
            var ids: [String] = []
            while try stmt.step() { if let id = stmt.text(0) { ids.append(id) } }
            return ids
        }
        stats.nodesDeleted = deletedIDs.count
        deletedNodes += deletedIDs
        stats.edgesDeleted += edgesBefore - (try Self.count(database, "SELECT count(*) FROM graph_edge"))
        // Rows other sources also own lose only this key.
        for (table, keyColumns) in [("graph_node", "id"), ("graph_edge", "source_id, target_id, relationship_name")] {
            let rows = try database.withStatement(
                "SELECT \(keyColumns), source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs FROM \(table) WHERE \(owned)",
                operation: "find rows of \(key)"
            ) { stmt throws(DatabaseError) -> [([String], Provenance)] in
                try stmt.bind(1, key)
                var out: [([String], Provenance)] = []
                let n = Int32(table == "graph_node" ? 1 : 3)
                while try stmt.step() {
                    let ids = (0..<n).map { stmt.text($0) ?? "" }
                    out.append((ids, Provenance(refKeys: jsonStrings(stmt.text(n)), datasetIDs: jsonStrings(stmt.text(n + 1)),
                                                runIDs: jsonStrings(stmt.text(n + 2)), runRefs: jsonStrings(stmt.text(n + 3)))))
                }
                return out
            }
            let whereKey = table == "graph_node" ? "id = ?5" : "source_id = ?5 AND target_id = ?6 AND relationship_name = ?7"
            for (ids, provenance) in rows {
                let p = provenance.removing(key: key)
                _ = try Self.run(database, "UPDATE \(table) SET source_ref_keys = ?1, source_dataset_ids = ?2, source_run_ids = ?3, source_run_refs = ?4, updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE \(whereKey)",
                                 [jsonArray(p.refKeys), jsonArray(p.datasetIDs), jsonArray(p.runIDs), jsonArray(p.runRefs)] + ids)
                if table == "graph_node" { stats.nodesWritten += 1 } else { stats.edgesWritten += 1 }
            }
        }
        return stats
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

    // MARK: - Statements

    /// cognee marks an empty graph as graph-native provenance on its first write (spec §5.4).
    private static func markProvenanceIfEmpty(_ db: SQLiteDatabase) throws(DatabaseError) {
        try db.execute("""
            INSERT OR IGNORE INTO graph_metadata (key, value)
              SELECT 'provenance_version', '1' WHERE NOT EXISTS (SELECT 1 FROM graph_node);
            INSERT OR IGNORE INTO graph_metadata (key, value)
              SELECT 'delete_mode', 'graph_native' WHERE NOT EXISTS (SELECT 1 FROM graph_node);
            """)
    }

    private static func readNodes(_ db: SQLiteDatabase, ids: [String]) throws(DatabaseError) -> [String: StoredNode] {
        var out: [String: StoredNode] = [:]
        guard !ids.isEmpty else { return out }
        try db.withStatement(
            "SELECT id, name, type, properties, source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs FROM graph_node WHERE id IN (SELECT value FROM json_each(?1))",
            operation: "read stored nodes"
        ) { stmt throws(DatabaseError) in
            try stmt.bind(1, jsonArray(ids))
            while try stmt.step() {
                let node = storedNode(stmt)
                out[node.node.id] = node
            }
        }
        return out
    }

    private static func readEdges(_ db: SQLiteDatabase, keys: [GraphEdge.Key]) throws(DatabaseError) -> [GraphEdge.Key: StoredEdge] {
        var out: [GraphEdge.Key: StoredEdge] = [:]
        guard !keys.isEmpty else { return out }
        let sources = Array(Set(keys.map(\.sourceID)))
        let wanted = Set(keys)
        try db.withStatement(
            "SELECT source_id, target_id, relationship_name, properties, source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs FROM graph_edge WHERE source_id IN (SELECT value FROM json_each(?1))",
            operation: "read stored edges"
        ) { stmt throws(DatabaseError) in
            try stmt.bind(1, jsonArray(sources))
            while try stmt.step() {
                let edge = storedEdge(stmt)
                if wanted.contains(edge.edge.key) { out[edge.edge.key] = edge }
            }
        }
        return out
    }

    private static func upsertNodes(_ db: SQLiteDatabase, _ rows: [(GraphNode, Provenance)]) throws(DatabaseError) {
        guard !rows.isEmpty else { return }
        try db.withStatement("""
            INSERT INTO graph_node (id, name, type, properties, source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, type = excluded.type, properties = excluded.properties,
              source_ref_keys = excluded.source_ref_keys, source_dataset_ids = excluded.source_dataset_ids,
              source_run_ids = excluded.source_run_ids, source_run_refs = excluded.source_run_refs,
              updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now')
            """, operation: "upsert nodes") { stmt throws(DatabaseError) in
            for (node, p) in rows {
                stmt.reset()
                try stmt.bind(1, node.id)
                try stmt.bind(2, node.name)
                try stmt.bind(3, node.type)
                try stmt.bind(4, JSONWriter.string(.object(node.properties), style: .compact))
                try stmt.bind(5, jsonArray(p.refKeys))
                try stmt.bind(6, jsonArray(p.datasetIDs))
                try stmt.bind(7, jsonArray(p.runIDs))
                try stmt.bind(8, jsonArray(p.runRefs))
                _ = try stmt.step()
            }
        }
    }

    private static func upsertEdges(_ db: SQLiteDatabase, _ rows: [(GraphEdge, Provenance)]) throws(DatabaseError) {
        guard !rows.isEmpty else { return }
        try db.withStatement("""
            INSERT INTO graph_edge (source_id, target_id, relationship_name, properties, source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
            ON CONFLICT (source_id, target_id, relationship_name) DO UPDATE SET properties = excluded.properties,
              source_ref_keys = excluded.source_ref_keys, source_dataset_ids = excluded.source_dataset_ids,
              source_run_ids = excluded.source_run_ids, source_run_refs = excluded.source_run_refs,
              updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now')
            """, operation: "upsert edges") { stmt throws(DatabaseError) in
            for (edge, p) in rows {
                stmt.reset()
                try stmt.bind(1, edge.sourceID)
                try stmt.bind(2, edge.targetID)
                try stmt.bind(3, edge.relationshipName)
                try stmt.bind(4, JSONWriter.string(.object(edge.properties), style: .compact))
                try stmt.bind(5, jsonArray(p.refKeys))
                try stmt.bind(6, jsonArray(p.datasetIDs))
                try stmt.bind(7, jsonArray(p.runIDs))
                try stmt.bind(8, jsonArray(p.runRefs))
                _ = try stmt.step()
            }
        }
    }

    private static func storedNode(_ stmt: SQLiteStatement) -> StoredNode {
        StoredNode(node: GraphNode(id: stmt.text(0) ?? "", name: stmt.text(1) ?? "", type: stmt.text(2) ?? "",
                                   properties: jsonObject(stmt.text(3))),
                   sourceRefKeys: jsonStrings(stmt.text(4)), sourceDatasetIDs: jsonStrings(stmt.text(5)),
                   sourceRunIDs: jsonStrings(stmt.text(6)), sourceRunRefs: jsonStrings(stmt.text(7)))
    }

    private static func storedEdge(_ stmt: SQLiteStatement) -> StoredEdge {
        StoredEdge(edge: GraphEdge(sourceID: stmt.text(0) ?? "", targetID: stmt.text(1) ?? "", relationshipName: stmt.text(2) ?? "",
                                   properties: jsonObject(stmt.text(3))),
                   sourceRefKeys: jsonStrings(stmt.text(4)), sourceDatasetIDs: jsonStrings(stmt.text(5)),
                   sourceRunIDs: jsonStrings(stmt.text(6)), sourceRunRefs: jsonStrings(stmt.text(7)))
    }

    private static func run(_ db: SQLiteDatabase, _ sql: String, _ args: [String]) throws(DatabaseError) -> Int {
        try db.withStatement(sql, operation: "update graph") { stmt throws(DatabaseError) -> Int in
            for (i, arg) in args.enumerated() { try stmt.bind(Int32(i + 1), arg) }
            _ = try stmt.step()
            return stmt.changes
        }
    }

    private static func count(_ db: SQLiteDatabase, _ sql: String) throws(DatabaseError) -> Int {
        try db.withStatement(sql, operation: "count rows") { stmt throws(DatabaseError) -> Int in
            _ = try stmt.step()
            return Int(stmt.int64(0))
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
