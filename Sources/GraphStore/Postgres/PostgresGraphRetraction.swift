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
        try connection.perform(Self.lockGraph, operation: "lock the graph")
        let countEdges: SQLStatement = "SELECT count(*) FROM graph_edge WHERE \(key) = ANY(source_ref_keys)"
        let before = try connection.row(countEdges, operation: "count rows").int(0)
        // Rows only this source owns go (their edges cascade); shared rows lose the key.
        let deletedIDs = try connection.rows("DELETE FROM graph_node WHERE source_ref_keys = ARRAY[\(key)]::varchar[] RETURNING id",
                                             operation: "delete nodes of \(key)").map { (row) throws(DatabaseError) in try row.string(0) }
        deletedNodes += deletedIDs
        try connection.perform(
            "WITH d AS (DELETE FROM graph_edge WHERE source_ref_keys = ARRAY[\(key)]::varchar[] RETURNING 1) SELECT count(*) FROM d",
            operation: "delete edges of \(key)")
        stats.nodesDeleted = deletedIDs.count
        let remaining = try connection.row(countEdges, operation: "count rows").int(0)
        stats.edgesDeleted = before - remaining
        // Both names are constants, never data.
        for table in ["graph_node", "graph_edge"] {
            let keyColumns = table == "graph_node" ? "id" : "source_id, target_id, relationship_name"
            let rows = try connection.rows(
                "SELECT \(unsafeSQL: keyColumns), array_to_json(source_ref_keys)::text, array_to_json(source_dataset_ids)::text, array_to_json(source_run_ids)::text, array_to_json(source_run_refs)::text FROM \(unsafeSQL: table) WHERE \(key) = ANY(source_ref_keys)",
                operation: "find rows of \(key)")
            let n = table == "graph_node" ? 1 : 3
            for row in rows {
                let p = Provenance(refKeys: jsonStrings(try row.string(n)), datasetIDs: jsonStrings(try row.string(n + 1)),
                                   runIDs: jsonStrings(try row.string(n + 2)), runRefs: jsonStrings(try row.string(n + 3))).removing(key: key)
                var k: [String] = []
                for column in 0..<n { k.append(try row.string(column)) }
                let whereKey: SQLStatement = n == 1 ? "id = \(k[0])"
                    : "source_id = \(k[0]) AND target_id = \(k[1]) AND relationship_name = \(k[2])"
                try connection.perform(
                    "UPDATE \(unsafeSQL: table) SET source_ref_keys = \(p.refKeys)::varchar[], source_dataset_ids = \(p.datasetIDs)::varchar[], source_run_ids = \(p.runIDs)::varchar[], source_run_refs = \(p.runRefs)::varchar[], updated_at = now() WHERE \(whereKey)",
                    operation: "remove \(key) from \(table)")
                if table == "graph_node" { stats.nodesWritten += 1 } else { stats.edgesWritten += 1 }
            }
        }
        return stats
    }
}
