import MemifyCore
/// cognee's pgvector collections beside the graph tables (cognee-vectors.md §2): one table per
/// collection, `id uuid PRIMARY KEY, payload json, vector vector(n)`, in the graph's schema (the
/// dataset's database or schema when cognee's access control places graphs per dataset, so
/// vectors sit where cognee's pgvector handler looks for them). Written inside the graph's
/// transaction, so a batch's vectors commit or roll back with its rows.
enum PostgresVectors {
    static let edgeTextSQL = "COALESCE(NULLIF(btrim(properties->>'edge_text'), ''), relationship_name)"

    /// Existing collections and their widths (`vector(16)` → 16), in `schema`.
    static func widths(_ connection: PostgresConnection, schema: String) throws(DatabaseError) -> [String: Int] {
        let rows = try connection.query("""
            SELECT c.relname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
              JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND a.attname = 'vector' AND NOT a.attisdropped AND c.relkind = 'r' AND c.relname = ANY($2::text[])
            """, [schema, PostgresGraphWriter.arrayLiteral(VectorIndex.collections)], operation: "read the vector collections' widths")
        var out: [String: Int] = [:]
        for row in rows {
            if let name = row[0], let type = row[1] { out[name] = VectorIndex.declaredWidth(type) ?? -1 }
        }
        return out
    }

    /// Makes sure pgvector is installed and the collections exist at `dimensions`; returns the
    /// schema-qualified `vector` type to cast to. Throws a usage error when pgvector is missing
    /// or a collection has another width.
    static func ensure(_ connection: PostgresConnection, schema: String, dimensions: Int, identity: String,
                       location: String) throws(DatabaseError) -> String {
        var namespace = try extensionSchema(connection)
        if namespace == nil {
            let available = try connection.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'",
                                                 operation: "look for pgvector at \(location)")
            guard !available.isEmpty else {
                throw DatabaseError(.invalidArgument, operation: "create the vector collections at \(location)",
                                      message: "this PostgreSQL has no pgvector extension (`vector`): install pgvector on the server, or run without an embedding endpoint (graph only)")
            }
            // In a savepoint: another session creating it at the same moment makes this one fail
            // on the catalog's unique index, and then the extension is there all the same.
            try connection.execute("SAVEPOINT memify_vector_extension", operation: "create the pgvector extension")
            do {
                try connection.execute("CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public; RELEASE SAVEPOINT memify_vector_extension",
                                       operation: "create the pgvector extension at \(location)")
            } catch {
                try connection.execute("ROLLBACK TO SAVEPOINT memify_vector_extension", operation: "create the pgvector extension")
                if try extensionSchema(connection) == nil {
                    throw DatabaseError(.invalidArgument, operation: "create the pgvector extension at \(location)",
                                          message: "\(error.message); a superuser can run `CREATE EXTENSION vector` in this database once")
                }
            }
            namespace = try extensionSchema(connection)
        }
        let type = PostgresGraphWriter.quoteIdentifier(namespace ?? "public") + ".vector"
        let existing = try widths(connection, schema: schema)
        try VectorGuard.check(widths: existing, dimensions: dimensions, identity: identity, location: location)
        for collection in VectorIndex.collections where existing[collection] == nil {
            let table = PostgresGraphWriter.quoteIdentifier(collection)
            try connection.execute("""
                CREATE TABLE IF NOT EXISTS \(table) (id uuid NOT NULL, payload json, vector \(type)(\(dimensions)),
                  CONSTRAINT \(PostgresGraphWriter.quoteIdentifier(collection + "_pkey")) PRIMARY KEY (id))
                """, operation: "create the vector collection \(collection) at \(location)")
        }
        return type
    }

    private static func extensionSchema(_ connection: PostgresConnection) throws(DatabaseError) -> String? {
        try connection.query("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'",
                             operation: "look for the pgvector extension").first?[0] ?? nil
    }

    /// Upserts the points as cognee's `create_data_points` does (§2.2): the payload replaced but
    /// for `belongs_to_set`, the union of stored and new names; the vector replaced too (a
    /// vector of the configured model for this text, so equal to what it held unless the model
    /// changed). Points whose id is new go straight into their collection with a binary COPY
    /// (under the graph lock, as the graph's new rows do); stored ones go through a staging
    /// table and `ON CONFLICT`, and are left alone when nothing would change. Binary: vectors
    /// travel as float4s, neither printed here nor parsed by the server.
    static func upsert(_ connection: PostgresConnection, _ points: [VectorPoint], vectorType: String) throws(DatabaseError) -> Int {
        guard !points.isEmpty else { return 0 }
        let byCollection = Dictionary(grouping: points, by: \.collection)
        let collections = byCollection.keys.sorted()
        // Which ids are stored: one round trip for every collection of the batch.
        var parameters: [String?] = []
        var selects: [String] = []
        for (i, collection) in collections.enumerated() {
            parameters.append(PostgresGraphWriter.arrayLiteral(byCollection[collection, default: []].map(\.id)))
            selects.append("SELECT \(i), id::text FROM \(PostgresGraphWriter.quoteIdentifier(collection)) WHERE id = ANY($\(i + 1)::uuid[])")
        }
        var stored: Set<String> = []
        for row in try connection.query(selects.joined(separator: " UNION ALL "), parameters, operation: "read the stored vector ids") {
            if let i = row[0].flatMap({ Int($0) }), let id = row[1] { stored.insert(collections[i] + "\u{0}" + id) }
        }
        var written = 0
        var existing: [VectorPoint] = []
        for collection in collections {
            let fresh = byCollection[collection, default: []].filter {
                if stored.contains(collection + "\u{0}" + $0.id) { existing.append($0); return false }
                return true
            }
            guard !fresh.isEmpty else { continue }
            try copy(connection, fresh, into: PostgresGraphWriter.quoteIdentifier(collection), columns: "id, payload, vector",
                     withCollection: false)
            written += fresh.count
        }
        guard !existing.isEmpty else { return written }
        try connection.execute("""
            CREATE TEMP TABLE IF NOT EXISTS memify_stage_vector (collection VARCHAR, id uuid, payload json, vector \(vectorType))
              ON COMMIT DELETE ROWS
            """, operation: "stage vectors")
        try copy(connection, existing, into: "memify_stage_vector", columns: "collection, id, payload, vector", withCollection: true)
        for collection in Set(existing.map(\.collection)).sorted() {
            let table = PostgresGraphWriter.quoteIdentifier(collection)
            let merged = """
                jsonb_set(EXCLUDED.payload::jsonb, '{belongs_to_set}', (SELECT COALESCE(jsonb_agg(DISTINCT val), '[]'::jsonb)
                  FROM jsonb_array_elements_text(COALESCE(\(table).payload::jsonb->'belongs_to_set', '[]'::jsonb)
                    || COALESCE(EXCLUDED.payload::jsonb->'belongs_to_set', '[]'::jsonb)) AS val))
                """
            // Points arrive unique per collection (VectorIndex.points folds a batch).
            let rows = try connection.query("""
                WITH w AS (
                  INSERT INTO \(table) (id, payload, vector) SELECT id, payload, vector FROM memify_stage_vector WHERE collection = $1
                  ON CONFLICT (id) DO UPDATE SET payload = (\(merged))::json, vector = EXCLUDED.vector
                  WHERE \(table).vector::text IS DISTINCT FROM EXCLUDED.vector::text OR \(table).payload::jsonb IS DISTINCT FROM \(merged)
                  RETURNING 1)
                SELECT count(*) FROM w
                """, [collection], operation: "upsert vectors into \(collection)")
            written += Int(rows.first?[0] ?? "0") ?? 0
        }
        return written
    }

    /// A binary `COPY` of points: (collection,) id, payload, vector.
    private static func copy(_ connection: PostgresConnection, _ points: [VectorPoint], into table: String, columns: String,
                             withCollection: Bool) throws(DatabaseError) {
        try connection.copyIn("COPY \(table) (\(columns)) FROM STDIN WITH (FORMAT binary)",
                              operation: "copy \(points.count) vectors into \(table)") { stream in
            stream.data.append(contentsOf: binaryHeader)
            var json: [UInt8] = []
            for point in points {
                appendInt16(withCollection ? 4 : 3, to: &stream.data)
                if withCollection {
                    var collection = point.collection
                    collection.withUTF8 { appendField($0, to: &stream.data) }
                }
                appendInt32(16, to: &stream.data)
                stream.data.append(contentsOf: GraphIdentity.uuidBytes(point.id))
                json.removeAll(keepingCapacity: true)
                JSONWriter.write(.object(point.payload), style: .compact, into: &json)
                json.withUnsafeBufferPointer { appendField($0, to: &stream.data) }
                // pgvector's binary form: int16 width, int16 0, then each float4 big-endian.
                appendInt32(Int32(4 + 4 * point.vector.count), to: &stream.data)
                appendInt16(Int16(point.vector.count), to: &stream.data)
                appendInt16(0, to: &stream.data)
                for x in point.vector { appendInt32(Int32(bitPattern: x.bitPattern), to: &stream.data) }
                stream.flush()
            }
            appendInt16(-1, to: &stream.data)
        }
    }

    /// `PGCOPY\n\377\r\n\0`, no flags, no header extension.
    private static let binaryHeader: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + [0, 0, 0, 0] + [0, 0, 0, 0]

    private static func appendInt16(_ v: Int16, to data: inout [UInt8]) {
        let u = UInt16(bitPattern: v)
        data.append(UInt8(truncatingIfNeeded: u >> 8))
        data.append(UInt8(truncatingIfNeeded: u))
    }

    private static func appendInt32(_ v: Int32, to data: inout [UInt8]) {
        let u = UInt32(bitPattern: v)
        data.append(UInt8(truncatingIfNeeded: u >> 24))
        data.append(UInt8(truncatingIfNeeded: u >> 16))
        data.append(UInt8(truncatingIfNeeded: u >> 8))
        data.append(UInt8(truncatingIfNeeded: u))
    }

    private static func appendField(_ bytes: UnsafeBufferPointer<UInt8>, to data: inout [UInt8]) {
        appendInt32(Int32(bytes.count), to: &data)
        data.append(contentsOf: bytes)
    }

    /// Before the rows of `key` are retracted: the texts of its edges.
    static func collect(_ connection: PostgresConnection, key: String, into retraction: inout VectorRetraction) throws(DatabaseError) {
        let rows = try connection.query("SELECT DISTINCT \(edgeTextSQL) FROM graph_edge WHERE $1 = ANY(source_ref_keys)", [key],
                                        operation: "read the edge texts of \(key)")
        for row in rows { if let text = row[0] { retraction.edgeTexts.insert(text) } }
    }

    /// After the retractions: the vectors of deleted nodes go, and an `EdgeType` vector goes when
    /// no edge left in the graph has its text (edges of cognee's own included).
    static func remove(_ connection: PostgresConnection, _ retraction: VectorRetraction, collections: Set<String>) throws(DatabaseError) -> Int {
        var removed = 0
        let ids = retraction.nodeIDs.filter(GraphIdentity.isUUID)
        if !ids.isEmpty {
            for collection in VectorIndex.nodeCollections where collections.contains(collection) {
                let rows = try connection.query("""
                    WITH d AS (DELETE FROM \(PostgresGraphWriter.quoteIdentifier(collection)) WHERE id = ANY($1::uuid[]) RETURNING 1) SELECT count(*) FROM d
                    """, [PostgresGraphWriter.arrayLiteral(ids)], operation: "delete the vectors of \(ids.count) retracted nodes from \(collection)")
                removed += Int(rows.first?[0] ?? "0") ?? 0
            }
        }
        if !retraction.edgeTexts.isEmpty, collections.contains(VectorIndex.edgeCollection) {
            let texts = Array(retraction.edgeTexts)
            let live = try connection.query("""
                SELECT DISTINCT t FROM (SELECT \(edgeTextSQL) AS t FROM graph_edge) e WHERE t = ANY($1::text[])
                """, [PostgresGraphWriter.arrayLiteral(texts)], operation: "find edge texts still in use")
            let gone = retraction.orphanedEdgeTypeIDs(live: live.compactMap { $0[0] })
            if !gone.isEmpty {
                let rows = try connection.query("""
                    WITH d AS (DELETE FROM \(PostgresGraphWriter.quoteIdentifier(VectorIndex.edgeCollection)) WHERE id = ANY($1::uuid[]) RETURNING 1)
                    SELECT count(*) FROM d
                    """, [PostgresGraphWriter.arrayLiteral(gone)], operation: "delete the vectors of edge texts no edge has")
                removed += Int(rows.first?[0] ?? "0") ?? 0
            }
        }
        return removed
    }
}
