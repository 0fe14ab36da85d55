import MemifyCore

/// Writing a batch: the stored rows read back, merged, and new rows `COPY`d straight in while
/// changed ones go through staging and `ON CONFLICT`.
extension PostgresGraphWriter {
    /// Upserts a prepared batch inside the caller's transaction.
    static func writeRows(_ connection: PostgresConnection, _ batch: GraphBatch, location: String) throws -> GraphWriteStats {
        try connection.perform("""
            \(Self.lockGraph);
            \(unsafeSQL: Self.stageDDL)
            INSERT INTO graph_metadata (key, value) SELECT 'provenance_version', '1'
              WHERE NOT EXISTS (SELECT 1 FROM graph_node) ON CONFLICT (key) DO NOTHING;
            INSERT INTO graph_metadata (key, value) SELECT 'delete_mode', 'graph_native'
              WHERE NOT EXISTS (SELECT 1 FROM graph_node) ON CONFLICT (key) DO NOTHING;
            """, operation: "lock the graph at \(location)")
        let existingNodes = try Self.readNodes(connection, ids: batch.nodes.map(\.id))
        let outside = GraphMerge.endpointsOutsideBatch(batch)
        var present: Set<String> = []
        if !outside.isEmpty {
            let rows = try connection.rows("SELECT id FROM graph_node WHERE id = ANY(\(outside)::varchar[])",
                                           operation: "check edge endpoints")
            present = Set(try rows.map { (row) throws(DatabaseError) in try row.string(0) })
        }
        let missing = GraphMerge.missingEndpoints(batch, stored: present)
        if !missing.isEmpty { throw GraphMerge.missingNodeError(missing, location: location) }
        // An edge exists only while both its endpoints do (REFERENCES … ON DELETE CASCADE,
        // as in cognee's schema): the edges of a node new in this batch are new, and are
        // not looked up (most of a turn's edges start at its new chunk, document or summary).
        let newNodeIDs = Set(batch.nodes.lazy.map(\.id).filter { existingNodes[$0] == nil })
        let edgesToRead = batch.edges.filter { !newNodeIDs.contains($0.sourceID) && !newNodeIDs.contains($0.targetID) }
        let existingEdges = try Self.readEdges(connection, keys: edgesToRead.map(\.key))
        let plan = GraphMerge.plan(batch, existingNodes: existingNodes, existingEdges: existingEdges)
        // New rows go straight in with COPY: under the graph lock no other writer can add
        // them meanwhile. Changed rows go through staging and ON CONFLICT.
        let newNodes = zip(plan.nodes, plan.newNodes).filter(\.1).map(\.0)
        let changedNodes = zip(plan.nodes, plan.newNodes).filter { !$0.1 }.map(\.0)
        let newEdges = zip(plan.edges, plan.newEdges).filter(\.1).map(\.0)
        let changedEdges = zip(plan.edges, plan.newEdges).filter { !$0.1 }.map(\.0)
        try Self.copyNodes(connection, newNodes, into: "graph_node")
        try Self.upsertNodes(connection, changedNodes)
        try Self.copyEdges(connection, newEdges, into: "graph_edge")
        try Self.upsertEdges(connection, changedEdges)
        return plan.stats
    }

    private static func readNodes(_ connection: PostgresConnection, ids: [String]) throws(DatabaseError) -> [String: StoredNode] {
        guard !ids.isEmpty else { return [:] }
        let rows = try connection.rows(
            "SELECT id, name, type, properties::text, array_to_json(source_ref_keys)::text, array_to_json(source_dataset_ids)::text, array_to_json(source_run_ids)::text, array_to_json(source_run_refs)::text FROM graph_node WHERE id = ANY(\(ids)::varchar[])",
            operation: "read stored nodes")
        var out: [String: StoredNode] = [:]
        for row in rows {
            let node = try storedNode(row)
            out[node.node.id] = node
        }
        return out
    }

    private static func readEdges(_ connection: PostgresConnection, keys: [GraphEdge.Key]) throws(DatabaseError) -> [GraphEdge.Key: StoredEdge] {
        guard !keys.isEmpty else { return [:] }
        let rows = try connection.rows("""
            SELECT e.source_id, e.target_id, e.relationship_name, e.properties::text, array_to_json(e.source_ref_keys)::text,
                   array_to_json(e.source_dataset_ids)::text, array_to_json(e.source_run_ids)::text, array_to_json(e.source_run_refs)::text
            FROM graph_edge e JOIN unnest(\(keys.map(\.sourceID))::varchar[], \(keys.map(\.targetID))::varchar[],
                                          \(keys.map(\.relationshipName))::varchar[]) AS k(s, t, r)
              ON e.source_id = k.s AND e.target_id = k.t AND e.relationship_name = k.r
            """, operation: "read stored edges")
        var out: [GraphEdge.Key: StoredEdge] = [:]
        for row in rows {
            let edge = try storedEdge(row)
            out[edge.edge.key] = edge
        }
        return out
    }

    private static func copyNodes(_ connection: PostgresConnection, _ rows: [(GraphNode, Provenance)], into table: String) throws(DatabaseError) {
        try copyRows(connection, rows, into: table, columns: "id, name, type", what: "nodes") { ($0.id, $0.name, $0.type, $0.properties) }
    }

    /// `COPY`s rows of three text columns, their JSON properties and the four provenance arrays,
    /// streamed as they are formatted.
    private static func copyRows<Row>(_ connection: PostgresConnection, _ rows: [(Row, Provenance)], into table: String, columns: String,
                                      what: String, _ fields: (Row) -> (String, String, String, JSONObject)) throws(DatabaseError) {
        guard !rows.isEmpty else { return }
        try connection.copyIn("COPY \(table) (\(columns), properties, source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs) FROM STDIN",
                              operation: "copy \(rows.count) \(what) into \(table)") { stream in
            var json: [UInt8] = []
            for (row, p) in rows {
                let (first, second, third, properties) = fields(row)
                CopyText.append(first, to: &stream.data); stream.data.append(0x09)
                CopyText.append(second, to: &stream.data); stream.data.append(0x09)
                CopyText.append(third, to: &stream.data); stream.data.append(0x09)
                json.removeAll(keepingCapacity: true)
                JSONWriter.write(.object(properties), style: .compact, into: &json)
                CopyText.append(bytes: json, to: &stream.data); stream.data.append(0x09)
                appendArrays(p, to: &stream.data)
                stream.flush()
            }
        }
    }

    private static func upsertNodes(_ connection: PostgresConnection, _ rows: [(GraphNode, Provenance)]) throws(DatabaseError) {
        guard !rows.isEmpty else { return }
        try copyNodes(connection, rows, into: "memify_stage_node")
        try connection.perform("""
            INSERT INTO graph_node (id, name, type, properties, source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs, created_at, updated_at)
            SELECT id, name, type, properties, source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs, now(), now()
            FROM memify_stage_node ORDER BY id
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, type = EXCLUDED.type, properties = EXCLUDED.properties,
              source_ref_keys = EXCLUDED.source_ref_keys, source_dataset_ids = EXCLUDED.source_dataset_ids,
              source_run_ids = EXCLUDED.source_run_ids, source_run_refs = EXCLUDED.source_run_refs, updated_at = now()
            """, operation: "upsert \(rows.count) nodes")
    }

    private static func copyEdges(_ connection: PostgresConnection, _ rows: [(GraphEdge, Provenance)], into table: String) throws(DatabaseError) {
        try copyRows(connection, rows, into: table, columns: "source_id, target_id, relationship_name", what: "edges") {
            ($0.sourceID, $0.targetID, $0.relationshipName, $0.properties)
        }
    }

    private static func upsertEdges(_ connection: PostgresConnection, _ rows: [(GraphEdge, Provenance)]) throws(DatabaseError) {
        guard !rows.isEmpty else { return }
        try copyEdges(connection, rows, into: "memify_stage_edge")
        try connection.perform("""
            INSERT INTO graph_edge (source_id, target_id, relationship_name, properties, source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs, created_at, updated_at)
            SELECT source_id, target_id, relationship_name, properties, source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs, now(), now()
            FROM memify_stage_edge ORDER BY source_id, target_id, relationship_name
            ON CONFLICT (source_id, target_id, relationship_name) DO UPDATE SET properties = EXCLUDED.properties,
              source_ref_keys = EXCLUDED.source_ref_keys, source_dataset_ids = EXCLUDED.source_dataset_ids,
              source_run_ids = EXCLUDED.source_run_ids, source_run_refs = EXCLUDED.source_run_refs, updated_at = now()
            """, operation: "upsert \(rows.count) edges")
    }

    private static func appendArrays(_ p: Provenance, to data: inout [UInt8]) {
        CopyText.appendArray(p.refKeys, to: &data); data.append(0x09)
        CopyText.appendArray(p.datasetIDs, to: &data); data.append(0x09)
        CopyText.appendArray(p.runIDs, to: &data); data.append(0x09)
        CopyText.appendArray(p.runRefs, to: &data); data.append(0x0A)
    }

    /// A `graph_node` row as selected (id, name, type, properties, the four provenance arrays as
    /// JSON). cognee's schema lets `name`, `type` and `properties` be NULL (its own rows may
    /// leave them out): they read as empty, as the SQLite graph reads them. The id and the
    /// arrays (`NOT NULL DEFAULT '{}'`) must be there.
    static func storedNode(_ row: PostgresRow) throws(DatabaseError) -> StoredNode {
        StoredNode(node: GraphNode(id: try row.string(0), name: try row.optionalString(1) ?? "", type: try row.optionalString(2) ?? "",
                                   properties: jsonObject(try row.optionalString(3))),
                   sourceRefKeys: jsonStrings(try row.string(4)), sourceDatasetIDs: jsonStrings(try row.string(5)),
                   sourceRunIDs: jsonStrings(try row.string(6)), sourceRunRefs: jsonStrings(try row.string(7)))
    }

    /// A `graph_edge` row as selected (the key, properties, the four provenance arrays as JSON).
    /// Only `properties` may be NULL in cognee's schema (read as no properties).
    static func storedEdge(_ row: PostgresRow) throws(DatabaseError) -> StoredEdge {
        StoredEdge(edge: GraphEdge(sourceID: try row.string(0), targetID: try row.string(1), relationshipName: try row.string(2),
                                   properties: jsonObject(try row.optionalString(3))),
                   sourceRefKeys: jsonStrings(try row.string(4)), sourceDatasetIDs: jsonStrings(try row.string(5)),
                   sourceRunIDs: jsonStrings(try row.string(6)), sourceRunRefs: jsonStrings(try row.string(7)))
    }

    /// A `memify_turn` row as selected from `user_id` on (every column `NOT NULL`), from
    /// column `first`.
    static func registeredTurn(_ row: PostgresRow, from first: Int = 0) throws(DatabaseError) -> RegisteredTurn {
        var stored: [String] = []
        for column in first..<first + 8 { stored.append(try row.string(column)) }
        return RegisteredTurn(stored: stored)
    }
}
