package import MemifyCore
import Foundation

/// One row of a cognee vector collection (docs/specs/cognee-vectors.md §1): the graph row's id,
/// the text cognee embeds for one of its index fields, the `IndexSchema` payload cognee stores
/// beside the vector, and the vector once embedded.
package struct VectorPoint: Sendable, Equatable {
    /// `<Type>_<field>`, e.g. `DocumentChunk_text`, `EdgeType_relationship_name`.
    package var collection: String
    /// The graph node's id (for `EdgeType_relationship_name`: `uuid5(OID, "EdgeType:" + norm(text))`).
    package var id: String
    /// What is embedded: the field's value, `strip()`ed.
    package var text: String
    /// The `IndexSchema` object in cognee's key order, `belongs_to_set` included.
    package var payload: JSONObject
    /// Filled in by the embedding step; exactly the collection's width.
    package var vector: [Float]

    package init(collection: String, id: String, text: String, payload: JSONObject, vector: [Float] = []) {
        self.collection = collection
        self.id = id
        self.text = text
        self.payload = payload
        self.vector = vector
    }

    /// The node-set names in the payload.
    package var belongsToSet: [String] {
        guard case .array(let items)? = payload["belongs_to_set"] else { return [] }
        return items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
    }
}

/// What a commit writes into the vector collections: the points of its rows, embedded, all of
/// one width. A commit without it (vectors off) writes no vector, but its retractions still
/// remove the vectors of the rows they delete.
package struct VectorBatch: Sendable {
    package var dimensions: Int
    /// The embedding model's identity (``TextEmbedding/identity``), for messages.
    package var identity: String
    package var points: [VectorPoint]

    package init(dimensions: Int, identity: String, points: [VectorPoint]) {
        self.dimensions = dimensions
        self.identity = identity
        self.points = points
    }
}

/// What a commit's retractions leave to remove from the collections: the ids of the nodes
/// deleted, and the texts of edges that lost a row (deleted, or rewritten with another text).
struct VectorRetraction {
    var nodeIDs: [String] = []
    var edgeTexts: Set<String> = []

    /// The `EdgeType` ids of ``edgeTexts`` that no text in `live` (those still on an edge)
    /// keeps: one row serves every text of the same normalised form.
    func orphanedEdgeTypeIDs(live: some Sequence<String>) -> [String] {
        let kept = Set(live.map { GraphIdentity.edgeType(VectorIndex.pythonStrip($0)) })
        return Set(edgeTexts.map { GraphIdentity.edgeType(VectorIndex.pythonStrip($0)) }).subtracting(kept).sorted()
    }
}

/// Which collections a graph's rows go into, and with what, as cognee's `index_data_points` and
/// `index_graph_edges` decide (cognee-vectors.md §1.1–§1.3).
package enum VectorIndex {
    /// The collections session windows fill; the tables a compatible writer creates.
    package static let collections = ["DocumentChunk_text", "TextSummary_text", "Entity_name", "EntityType_name",
                                     "TextDocument_name", edgeCollection]
    /// Indexed node types' collections: a deleted node's vectors are looked for in these.
    package static let nodeCollections = Array(collections.dropLast())
    package static let edgeCollection = "EdgeType_relationship_name"

    /// The points cognee indexes for these rows: one per (node, index field) whose value is not
    /// null, and one per distinct edge text. Deduplicated by (collection, id), the last payload
    /// winning and node-set names unioned, as cognee's adapters fold a batch.
    package static func points(for batch: GraphBatch) -> [VectorPoint] {
        var points: [VectorPoint] = []
        var position: [String: Int] = [:]
        func add(_ point: VectorPoint) {
            var point = point
            point.text = point.text.strippingNUL()
            point.payload = point.payload.strippingNUL()
            let key = point.collection + "\u{0}" + point.id
            if let i = position[key] {
                let sets = union(points[i].belongsToSet, point.belongsToSet)
                points[i] = point
                points[i].payload["belongs_to_set"] = .array(sets.map(JSONValue.string))
            } else {
                position[key] = points.count
                points.append(point)
            }
        }
        // cognee's ids are UUIDs (the collections' `id uuid`): a row with another id is not indexed.
        for node in batch.nodes where GraphIdentity.isUUID(node.id) {
            guard case .object(let metadata)? = node.properties["metadata"],
                  case .array(let fields)? = metadata["index_fields"] else { continue }
            for case .string(let field) in fields {
                let value: String
                if field == "name" {
                    value = node.name
                } else if case .string(let text)? = node.properties[field] {
                    value = text
                } else {
                    continue
                }
                add(nodePoint(node, field: field, text: pythonStrip(value)))
            }
        }
        // Many edges share a text (every `belongs_to_set` of one node set…): each text once.
        var edgeTexts: Set<String> = []
        for edge in batch.edges {
            let text = pythonStrip(edgeText(edge.properties, relationshipName: edge.relationshipName))
            guard edgeTexts.insert(text).inserted else { continue }
            let id = GraphIdentity.edgeType(text)
            add(VectorPoint(collection: edgeCollection, id: id, text: text,
                            payload: payload(id: id, millis: 0, belongsToSet: [], importance: nil, text: text)))
        }
        return points
    }

    /// The text an edge is searched by (`get_edge_retrieval_text`): its `edge_text` when not
    /// blank, else its relationship name.
    package static func edgeText(_ properties: JSONObject, relationshipName: String) -> String {
        if case .string(let text)? = properties["edge_text"], !text.isBlank { return text }
        return relationshipName
    }

    private static func nodePoint(_ node: GraphNode, field: String, text: String) -> VectorPoint {
        let p = node.properties
        var sets: [String] = []
        if case .array(let items)? = p["belongs_to_set"] {
            for case .string(let name) in items { sets.append(name) }
        }
        // Rows of one document carry its turn's time; rows many documents share carry none, so
        // that a payload does not depend on which turn wrote it last.
        var millis: Int64 = 0
        if CogneeDocumentBuilder.documentScopedTypes.contains(node.type), case .number(let n)? = p["created_at"] {
            millis = Int64(n.literal) ?? 0
        }
        var extra: [(Field, JSONValue)] = []
        switch node.type {
        case "DocumentChunk":
            extra = [(.documentID, p["document_id"] ?? .null), (.documentName, p["document_name"] ?? .null),
                     (.chunkIndex, p["chunk_index"] ?? .null), (.externalMetadata, p["external_metadata"] ?? .null)]
        case "TextSummary":
            extra = [(.sourceChunkID, p["source_chunk_id"] ?? .null)]
        case "TextDocument":
            extra = [(.externalMetadata, p["external_metadata"] ?? .null)]
        default:
            break
        }
        return VectorPoint(collection: "\(node.type)_\(field)", id: node.id, text: text,
                           payload: payload(id: node.id, millis: millis, belongsToSet: sets, importance: p["importance_weight"], text: text,
                                            extra: extra))
    }

    /// `IndexSchema(...).model_dump()` as cognee serializes it (§1.3), keys in its order.
    static let payloadKeys = ["id", "created_at", "updated_at", "ontology_valid", "ontology_uri", "version", "topological_rank", "metadata",
                              "type", "belongs_to_set", "source_pipeline", "source_task", "source_node_set", "source_user",
                              "source_content_hash", "feedback_weight", "importance_weight", "text", "document_id", "document_name",
                              "chunk_index", "source_chunk_id", "external_metadata"]
    /// Positions in ``payloadKeys`` of the fields that vary.
    enum Field: Int {
        case id = 0, createdAt = 1, updatedAt = 2, belongsToSet = 9, importance = 16, text = 17, documentID = 18, documentName = 19
        case chunkIndex = 20, sourceChunkID = 21, externalMetadata = 22
    }
    private static let payloadTemplate: [JSONValue] = {
        let half = JSONValue.number(JSONNumber(literal: "0.5", isInteger: false))
        return [.null, .null, .null, .bool(false), .null, .number(JSONNumber(1)), .number(JSONNumber(0)),
                .object(JSONObject([("index_fields", .array([.string("text")]))])), .string("IndexSchema"), .array([]), .null, .null,
                .null, .null, .null, half, half, .null, .null, .null, .null, .null, .null]
    }()

    /// The payload of one point: the template with its varying fields set (built for every
    /// point of every batch, so without the keyed lookups of a general object).
    static func payload(id: String, millis: Int64, belongsToSet: [String], importance: JSONValue?, text: String,
                        extra: [(Field, JSONValue)] = []) -> JSONObject {
        var values = payloadTemplate
        let time = JSONValue.number(JSONNumber(literal: String(millis), isInteger: true))
        values[Field.id.rawValue] = .string(id)
        values[Field.createdAt.rawValue] = time
        values[Field.updatedAt.rawValue] = time
        values[Field.belongsToSet.rawValue] = .array(belongsToSet.map(JSONValue.string))
        if let importance { values[Field.importance.rawValue] = importance }
        values[Field.text.rawValue] = .string(text)
        for (field, value) in extra { values[field.rawValue] = value }
        return JSONObject(distinctKeys: payloadKeys, values: values)
    }

    /// Python's `str.strip()`: whitespace off both ends, as `str.isspace` counts it (Unicode
    /// White_Space and the separators U+001C…U+001F).
    package static func pythonStrip(_ text: String) -> String {
        func space(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace || (0x1C...0x1F).contains(s.value) }
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !space($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !space($0) })!
        if first == scalars.startIndex && scalars.index(after: last) == scalars.endIndex { return text }
        return String(scalars[first...last])
    }

    /// `a` then what `b` adds, in order (how cognee's Turso adapter merges `belongs_to_set`).
    static func union(_ a: [String], _ b: [String]) -> [String] {
        var out = a
        for item in b where !out.contains(item) { out.append(item) }
        return out
    }

    /// A vector as Turso's `F32_BLOB` (and the embedding cache's blobs): little-endian float32,
    /// nothing else.
    package static func float32LittleEndian(_ vector: [Float]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(vector.count * 4)
        for x in vector {
            let bits = x.bitPattern.littleEndian
            out.append(UInt8(truncatingIfNeeded: bits))
            out.append(UInt8(truncatingIfNeeded: bits >> 8))
            out.append(UInt8(truncatingIfNeeded: bits >> 16))
            out.append(UInt8(truncatingIfNeeded: bits >> 24))
        }
        return out
    }

    /// The width in a column type as cognee declares it: `vector(16)` (pgvector) or
    /// `F32_BLOB(16)` / `F32_BLOB (16)` (Turso).
    static func declaredWidth(_ type: String) -> Int? {
        guard let open = type.firstIndex(of: "("), let close = type[open...].firstIndex(of: ")") else { return nil }
        return Int(type[type.index(after: open)..<close].trimmingCharacters(in: .whitespaces))
    }
}

/// The widths of a graph's existing vector collections disagree with the configured model's.
package enum VectorGuard {
    /// Throws a usage error naming every collection whose width is not `dimensions`.
    package static func check(widths: [String: Int], dimensions: Int, identity: String, location: String) throws(DatabaseError) {
        let wrong = widths.filter { $0.value != dimensions }
        guard !wrong.isEmpty else { return }
        let list = Dictionary(grouping: wrong, by: \.value).sorted { $0.key < $1.key }.map { width, collections in
            "\(collections.map(\.key).sorted().joined(separator: ", ")) \(collections.count == 1 ? "holds" : "hold") \(width)-dimensional vectors"
        }.joined(separator: "; ")
        throw DatabaseError(.invalidArgument, operation: "check the vector collections at \(location)",
                              message: "\(list), but the embedding model \(identity) makes \(dimensions): configure the model the collections were made with (EMBEDDING_MODEL, EMBEDDING_DIMENSIONS), or drop the collections to re-embed everything with the new one")
    }
}
