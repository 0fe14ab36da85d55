import MemifyCore

/// Retraction: what one source ref key produced goes, shared rows only lose the key.
extension SQLiteGraphWriter {
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
    static func retractRows(_ database: SQLiteDatabase, key: String,
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
