import MemifyCore
import Foundation

/// cognee's Turso vector collections in the embedded graph file (cognee-vectors.md §3.1): one
/// table per collection, `id TEXT PRIMARY KEY, payload TEXT, vector F32_BLOB(n)`, the vector a
/// BLOB of little-endian float32 and the payload `json.dumps` of the `IndexSchema`. cognee with
/// `VECTOR_DB_PROVIDER=turso` and `GRAPH_DATABASE_PROVIDER=turso` pointed at the file reads
/// both the graph and the vectors (never while the worker writes it: the engines do not share
/// SQLite's locks).
enum SQLiteVectors {
    static let edgeTextSQL = "COALESCE(NULLIF(trim(json_extract(properties, '$.edge_text')), ''), relationship_name)"

    /// Existing collections (by cognee's name; Turso stores names lowercased) and their widths.
    static func widths(_ database: SQLiteDatabase) throws(DatabaseError) -> [String: Int] {
        let byLowercase = Dictionary(uniqueKeysWithValues: VectorIndex.collections.map { ($0.lowercased(), $0) })
        return try database.withStatement("SELECT name, sql FROM sqlite_master WHERE type = 'table'",
                                          operation: "read the vector collections") { stmt throws(DatabaseError) -> [String: Int] in
            var out: [String: Int] = [:]
            while try stmt.step() {
                guard let name = stmt.text(0).flatMap({ byLowercase[$0.lowercased()] }) else { continue }
                out[name] = declaredWidth(stmt.text(1) ?? "") ?? -1
            }
            return out
        }
    }

    /// The `n` of the `vector F32_BLOB(n)` column in a `CREATE TABLE` statement.
    static func declaredWidth(_ sql: String) -> Int? {
        guard let range = sql.range(of: "F32_BLOB", options: .caseInsensitive) else { return nil }
        return VectorIndex.declaredWidth(String(sql[range.upperBound...]))
    }

    static func ensure(_ database: SQLiteDatabase, dimensions: Int, identity: String, location: String) throws(DatabaseError) {
        let existing = try widths(database)
        try VectorGuard.check(widths: existing, dimensions: dimensions, identity: identity, location: location)
        for collection in VectorIndex.collections where existing[collection] == nil {
            try database.execute("CREATE TABLE IF NOT EXISTS \"\(collection)\" (id TEXT PRIMARY KEY, payload TEXT, vector F32_BLOB(\(dimensions)))")
        }
    }

    /// Upserts as cognee's Turso adapter does: a stored row keeps its `belongs_to_set` names,
    /// then the new ones; the payload and vector are replaced (the vector is the configured
    /// model's for this text, so equal unless the model changed). Unchanged rows are skipped.
    static func upsert(_ database: SQLiteDatabase, _ points: [VectorPoint]) throws(DatabaseError) -> Int {
        var written = 0
        let byCollection = Dictionary(grouping: points, by: \.collection)
        for collection in byCollection.keys.sorted() {
            let table = "\"\(collection)\""
            let batch = byCollection[collection] ?? []
            // The stored rows of the batch's ids, in one statement.
            let stored = try database.withStatement("SELECT id, payload, vector FROM \(table) WHERE id IN (SELECT value FROM json_each(?1))",
                                                    operation: "read the stored vectors of \(collection)") {
                stmt throws(DatabaseError) -> [String: (payload: String?, vector: [UInt8])] in
                try stmt.bind(1, jsonArray(batch.map(\.id)))
                var rows: [String: (payload: String?, vector: [UInt8])] = [:]
                while try stmt.step() { rows[stmt.text(0) ?? ""] = (stmt.text(1), stmt.bytes(2)) }
                return rows
            }
            var rows: [(id: String, payload: String, vector: [UInt8])] = []
            for point in batch {
                var payload = point.payload
                let old = stored[point.id]
                if let text = old?.payload, case .object(let previous)? = try? JSONParser.parse(text),
                   case .array(let oldSets)? = previous["belongs_to_set"] {
                    let names = oldSets.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
                    payload["belongs_to_set"] = .array(VectorIndex.union(names, point.belongsToSet).map(JSONValue.string))
                }
                let text = JSONWriter.string(.object(payload), style: .python)
                let blob = VectorIndex.float32LittleEndian(point.vector)
                if let old, old.payload == text, old.vector == blob { continue }
                rows.append((point.id, text, blob))
            }
            guard !rows.isEmpty else { continue }
            try database.withStatement("""
                INSERT INTO \(table) (id, payload, vector) VALUES (?1, ?2, ?3)
                ON CONFLICT(id) DO UPDATE SET payload = excluded.payload, vector = excluded.vector
                """, operation: "upsert vectors into \(collection)") { stmt throws(DatabaseError) in
                for row in rows {
                    stmt.reset()
                    try stmt.bind(1, row.id)
                    try stmt.bind(2, row.payload)
                    try stmt.bindBlob(3, bytes: row.vector)
                    _ = try stmt.step()
                }
            }
            written += rows.count
        }
        return written
    }

    static func collect(_ database: SQLiteDatabase, key: String, into retraction: inout VectorRetraction) throws(DatabaseError) {
        try database.withStatement("""
            SELECT DISTINCT \(edgeTextSQL) FROM graph_edge WHERE EXISTS (SELECT 1 FROM json_each(source_ref_keys) WHERE value = ?1)
            """, operation: "read the edge texts of \(key)") { stmt throws(DatabaseError) in
            try stmt.bind(1, key)
            while try stmt.step() { if let text = stmt.text(0) { retraction.edgeTexts.insert(text) } }
        }
    }

    static func remove(_ database: SQLiteDatabase, _ retraction: VectorRetraction, collections: Set<String>) throws(DatabaseError) -> Int {
        var removed = 0
        func delete(_ ids: [String], from collection: String) throws(DatabaseError) {
            guard !ids.isEmpty else { return }
            try database.withStatement("DELETE FROM \"\(collection)\" WHERE id IN (SELECT value FROM json_each(?1))",
                                       operation: "delete vectors from \(collection)") { stmt throws(DatabaseError) in
                try stmt.bind(1, jsonArray(ids))
                _ = try stmt.step()
                removed += stmt.changes
            }
        }
        for collection in VectorIndex.nodeCollections where collections.contains(collection) {
            try delete(retraction.nodeIDs, from: collection)
        }
        if !retraction.edgeTexts.isEmpty, collections.contains(VectorIndex.edgeCollection) {
            let texts = Array(retraction.edgeTexts)
            let live = try database.withStatement("""
                SELECT DISTINCT t FROM (SELECT \(edgeTextSQL) AS t FROM graph_edge) WHERE t IN (SELECT value FROM json_each(?1))
                """, operation: "find edge texts still in use") { stmt throws(DatabaseError) -> [String] in
                try stmt.bind(1, jsonArray(texts))
                var out: [String] = []
                while try stmt.step() { if let t = stmt.text(0) { out.append(t) } }
                return out
            }
            try delete(retraction.orphanedEdgeTypeIDs(live: live), from: VectorIndex.edgeCollection)
        }
        return removed
    }
}
