import MemifyCore

/// Retraction: what one source ref key produced goes, shared rows only lose the key.
extension PostgresGraphWriter {
    package func retract(sourceRefKey key: String) async throws -> GraphWriteStats {
        let connection = self.connection
        let location = self.location
        return try await executor.run {
            try Self.inTransaction(connection, operation: "retract \(key) from \(location)") { () throws -> GraphWriteStats in
                var deleted: [String] = []
                return try Self.retractRows(connection, key: key, deletedNodes: &deleted)
            }
        }
    }

    /// Retracts what `key` produced inside the caller's transaction.
    /// `deletedNodes` gets the ids of the nodes deleted.
    static func retractRows(_ connection: PostgresConnection, key: String, deletedNodes: inout [String]) throws -> GraphWriteStats {
        var stats = GraphWriteStats()
        try connection.execute("SELECT pg_advisory_xact_lock(\(Self.graphLockID))", operation: "lock the graph")
        let before = try Self.count(connection, "SELECT count(*) FROM graph_edge WHERE $1 = ANY(source_ref_keys)", key)
        // Rows only this source owns go (their edges cascade); shared rows lose the key.
        let deletedIDs = try connection.query("DELETE FROM graph_node WHERE source_ref_keys = ARRAY[$1]::varchar[] RETURNING id",
                                              [key], operation: "delete nodes of \(key)").compactMap { $0[0] }
        deletedNodes += deletedIDs
        let deletedEdges = try connection.query(
            "WITH d AS (DELETE FROM graph_edge WHERE source_ref_keys = ARRAY[$1]::varchar[] RETURNING 1) SELECT count(*) FROM d",
            [key], operation: "delete edges of \(key)")
        stats.nodesDeleted = deletedIDs.count
        let remaining = try Self.count(connection, "SELECT count(*) FROM graph_edge WHERE $1 = ANY(source_ref_keys)", key)
        stats.edgesDeleted = before - remaining
        _ = deletedEdges
        for table in ["graph_node", "graph_edge"] {
            let keyColumns = table == "graph_node" ? "id" : "source_id, target_id, relationship_name"
            let rows = try connection.query(
                "SELECT \(keyColumns), array_to_json(source_ref_keys)::text, array_to_json(source_dataset_ids)::text, array_to_json(source_run_ids)::text, array_to_json(source_run_refs)::text FROM \(table) WHERE $1 = ANY(source_ref_keys)",
                [key], operation: "find rows of \(key)")
            let n = table == "graph_node" ? 1 : 3
            let whereKey = table == "graph_node" ? "id = $5" : "source_id = $5 AND target_id = $6 AND relationship_name = $7"
            for row in rows {
                let p = Provenance(refKeys: jsonStrings(row[n]), datasetIDs: jsonStrings(row[n + 1]),
                                   runIDs: jsonStrings(row[n + 2]), runRefs: jsonStrings(row[n + 3])).removing(key: key)
                try connection.query(
                    "UPDATE \(table) SET source_ref_keys = $1::varchar[], source_dataset_ids = $2::varchar[], source_run_ids = $3::varchar[], source_run_refs = $4::varchar[], updated_at = now() WHERE \(whereKey)",
                    [Self.arrayLiteral(p.refKeys), Self.arrayLiteral(p.datasetIDs), Self.arrayLiteral(p.runIDs),
                     Self.arrayLiteral(p.runRefs)] + row[0..<n].map { $0 },
                    operation: "remove \(key) from \(table)")
                if table == "graph_node" { stats.nodesWritten += 1 } else { stats.edgesWritten += 1 }
            }
        }
        return stats
    }

    private static func count(_ connection: PostgresConnection, _ sql: String, _ key: String) throws(DatabaseError) -> Int {
        Int(try connection.query(sql, [key], operation: "count rows").first?[0] ?? "0") ?? 0
    }
}
