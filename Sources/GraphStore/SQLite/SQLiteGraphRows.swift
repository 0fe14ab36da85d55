import MemifyCore

/// Writing a batch: the stored rows read back, merged, and upserted.
extension SQLiteGraphWriter {
    /// Upserts a prepared batch inside the caller's transaction.
    static func writeRows(_ database: SQLiteDatabase, _ batch: GraphBatch, location: String) throws(DatabaseError) -> GraphWriteStats {
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

    static func storedNode(_ stmt: SQLiteStatement) -> StoredNode {
        StoredNode(node: GraphNode(id: stmt.text(0) ?? "", name: stmt.text(1) ?? "", type: stmt.text(2) ?? "",
                                   properties: jsonObject(stmt.text(3))),
                   sourceRefKeys: jsonStrings(stmt.text(4)), sourceDatasetIDs: jsonStrings(stmt.text(5)),
                   sourceRunIDs: jsonStrings(stmt.text(6)), sourceRunRefs: jsonStrings(stmt.text(7)))
    }

    static func storedEdge(_ stmt: SQLiteStatement) -> StoredEdge {
        StoredEdge(edge: GraphEdge(sourceID: stmt.text(0) ?? "", targetID: stmt.text(1) ?? "", relationshipName: stmt.text(2) ?? "",
                                   properties: jsonObject(stmt.text(3))),
                   sourceRefKeys: jsonStrings(stmt.text(4)), sourceDatasetIDs: jsonStrings(stmt.text(5)),
                   sourceRunIDs: jsonStrings(stmt.text(6)), sourceRunRefs: jsonStrings(stmt.text(7)))
    }
}
