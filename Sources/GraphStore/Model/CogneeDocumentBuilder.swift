package import MemifyCore
import Foundation

/// What an extractor found in one chunk, in cognee's `KnowledgeGraph` shape.
package struct ExtractedGraph: Sendable, Equatable {
    package struct Entity: Sendable, Equatable {
        package var name: String
        package var type: String
        /// The node's description (shared by every chunk naming the entity).
        package var description: String
        /// What this chunk says of it, for the chunk's `contains` edge; the description if nil.
        package var mention: String?
        package init(name: String, type: String, description: String, mention: String? = nil) {
            self.name = name
            self.type = type
            self.description = description
            self.mention = mention
        }
    }

    package struct Relation: Sendable, Equatable {
        package var source: String
        package var target: String
        /// Free text (`moved to`); normalised to snake_case when written.
        package var name: String
        package var description: String?
        package init(source: String, target: String, name: String, description: String? = nil) {
            self.source = source
            self.target = target
            self.name = name
            self.description = description
        }
    }

    package var entities: [Entity]
    package var relations: [Relation]
    package var summary: String

    package init(entities: [Entity] = [], relations: [Relation] = [], summary: String = "") {
        self.entities = entities
        self.relations = relations
        self.summary = summary
    }
}

/// Builds the nodes and edges cognee writes for one document of one chunk (graph spec §2, §8):
/// NodeSet, TextDocument, DocumentChunk, TextSummary, Entity, EntityType, with `is_part_of`,
/// `contains`, `made_from`, `is_a`, `belongs_to_set` and relationship edges, cognee's property
/// shapes, edge texts and fallbacks, and provenance keys (v1 for the document scope, v2 for the
/// chunk scope). Everything is a function of the inputs: the same turn gives the same rows.
package struct CogneeDocumentBuilder: Sendable {
    package var datasetID: String
    package var documentID: String
    package var text: String { didSet { textMD5 = Digest.hex(Digest.md5(Array(text.utf8))) } }
    /// md5 of the text, hex (`source_content_hash`, and the `text_<md5>` document name): computed
    /// once, not per node.
    package private(set) var textMD5: String
    package var nodeSets: [String]
    /// Epoch milliseconds for `created_at`/`updated_at` (the turn's time, so re-runs are identical).
    package var timestampMillis: Int64
    /// `external_metadata.effective_date` (the turn's time, ISO).
    package var effectiveDate: String?
    package var sourceUser: String?
    /// More `external_metadata` keys (the worker's turn identity and feedback).
    package var extraExternalMetadata = JSONObject()

    package init(datasetID: String, documentID: String, text: String, nodeSets: [String] = ["user_sessions_from_cache"],
                timestampMillis: Int64, effectiveDate: String? = nil, sourceUser: String? = nil) {
        self.datasetID = datasetID
        self.documentID = documentID
        self.text = text
        textMD5 = Digest.hex(Digest.md5(Array(text.utf8)))
        self.nodeSets = nodeSets
        self.timestampMillis = timestampMillis
        self.effectiveDate = effectiveDate
        self.sourceUser = sourceUser
    }

    package var documentName: String { "text_" + textMD5 }
    package var chunkID: String { GraphIdentity.documentChunk(documentID: documentID, text: text) }
    package var documentKey: String { SourceRef.document(datasetID: datasetID, dataID: documentID) }
    package var chunkKey: String { SourceRef.chunk(datasetID: datasetID, dataID: documentID, chunkID: chunkID) }

    package func build(_ extracted: ExtractedGraph) -> GraphBatch {
        let chunkLabel = label(text)
        // Computed once: each is a hash of the whole text, and every row of the chunk carries the key.
        let chunkID = self.chunkID
        let chunkKey = SourceRef.chunk(datasetID: datasetID, dataID: documentID, chunkID: chunkID)
        var nodes: [GraphNode] = []
        var edges: [GraphEdge] = []
        let sets = nodeSets.map(JSONValue.string)
        let summaryID = GraphIdentity.textSummary(chunkID: chunkID)
        var externalMetadata = JSONObject()
        if let effectiveDate { externalMetadata["effective_date"] = .string(effectiveDate) }
        externalMetadata["node_set"] = .array(sets)
        for (key, value) in extraExternalMetadata.pairs { externalMetadata[key] = value }

        for set in nodeSets {
            // A NodeSet is shared by every document of the dataset. Stamped with each document's
            // key it would carry one key per turn ever persisted, rewritten on every batch
            // (quadratic). It is its own source instead: no turn's retraction removes it, and
            // the edges that tie documents to it carry the documents' keys.
            let id = GraphIdentity.nodeSet(set)
            nodes.append(node(id, set, "NodeSet", rank: 1, indexFields: [], identityFields: ["name"],
                              belongsToSet: nil, [:], key: SourceRef.document(datasetID: datasetID, dataID: id)))
        }
        nodes.append(node(documentID, documentName, "TextDocument", rank: 1, indexFields: ["name"], belongsToSet: sets, [
            // An absolute file:// URI, as cognee writes its own: cognee's file helpers parse it
            // (a missing file is then a plain FileNotFoundError), where a memify:// scheme was
            // taken for a relative path and failed in a confusing way. No file is written: the
            // text lives in the chunk.
            "raw_data_location": .string("file:///memify-worker/\(datasetID)/\(documentName).txt"),
            "external_metadata": .string(Self.pythonIndented(externalMetadata)),
            "mime_type": .string("text/plain"),
        ], key: documentKey))
        let words = Self.wordCount(text)
        nodes.append(node(chunkID, "", "DocumentChunk", rank: 2, indexFields: ["text"], belongsToSet: sets, [
            "text": .string(text), "chunk_size": .number(JSONNumber(words)), "chunk_index": .number(JSONNumber(0)),
            "cut_type": .string("sentence_cut"), "content_hash": .string(Digest.hex(Digest.sha256(Array(text.utf8)))),
            "max_chunk_tokens": .number(JSONNumber(4096)), "chunker_id": .string("text_chunker_v1"),
            "document_id": .string(documentID), "document_name": .string(documentName),
            "external_metadata": .string(JSONWriter.string(.object(externalMetadata), style: .python)),
            "truth_alignment": .null, "truth_epoch": .null,
        ], key: chunkKey))
        nodes.append(node(summaryID, "", "TextSummary", rank: 3, indexFields: ["text"], belongsToSet: sets, [
            "text": .string(extracted.summary), "source_chunk_id": .string(chunkID), "summarized_in": .null,
            "global_context_bucket_id": .null,
        ], key: chunkKey))

        edges.append(edge(chunkID, "is_part_of", documentID, text: nil,
                          labels: (chunkLabel, documentName), key: chunkKey))
        edges.append(edge(summaryID, "made_from", chunkID, text: nil, labels: (label(extracted.summary), chunkLabel), key: chunkKey))
        for (id, labelText, key) in [(documentID, documentName, documentKey), (chunkID, chunkLabel, chunkKey),
                                     (summaryID, label(extracted.summary), chunkKey)] {
            for set in nodeSets {
                edges.append(edge(id, "belongs_to_set", GraphIdentity.nodeSet(set), text: nil, labels: (labelText, set), key: key))
            }
        }

        // Entities: the first one with a given normalised name wins, as in cognee. A node typed
        // `timestamp` whose name parses becomes a Timestamp (graph spec §1.6 step 4).
        var seen: Set<String> = []
        var endpoints: [String: (id: String, label: String, isTime: Bool)] = [:]
        var withRelations: Set<String> = []
        for entity in extracted.entities where !entity.name.isBlank {
            if entity.type.lowercased() == "timestamp", let time = TimestampValue(parsing: entity.name.isTrimmed ? entity.name : entity.name.trimmingCharacters(in: .whitespaces)) {
                let id = GraphIdentity.timestamp(time.text)
                if endpoints[GraphIdentity.norm(entity.name)] == nil { endpoints[GraphIdentity.norm(entity.name)] = (id, time.text, true) }
                guard seen.insert(id).inserted else { continue }
                nodes.append(timestampNode(id, time, key: chunkKey))
                edges.append(mention(chunkID, chunkLabel, id, time.text, entity.mention ?? entity.description, key: chunkKey))
                continue
            }
            let id = GraphIdentity.entity(entity.name)
            let name = GraphIdentity.displayName(entity.name)
            if endpoints[GraphIdentity.norm(entity.name)] == nil { endpoints[GraphIdentity.norm(entity.name)] = (id, name, false) }
        }
        // Edges drawn from a time are reversed (keeping their name); edges between two times go.
        var relationEdges: [(source: String, name: String, target: String, text: String?, labels: (String, String))] = []
        for relation in extracted.relations {
            guard var source = endpoints[GraphIdentity.norm(relation.source)],
                  var target = endpoints[GraphIdentity.norm(relation.target)], !(source.isTime && target.isTime) else { continue }
            if source.isTime { swap(&source, &target) }
            let description = relation.description.map { $0.isTrimmed ? $0 : $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
            relationEdges.append((source.id, GraphIdentity.relationshipName(relation.name), target.id,
                                  description.isEmpty ? nil : description, (source.label, target.label)))
            withRelations.insert(source.id)
        }
        for entity in extracted.entities where !entity.name.isBlank {
            guard let endpoint = endpoints[GraphIdentity.norm(entity.name)], !endpoint.isTime else { continue }
            let id = endpoint.id
            guard seen.insert(id).inserted else { continue }
            let name = endpoint.label
            var properties: [String: JSONValue] = ["description": .string(entity.description), "truth_alignment": .null,
                                                   "truth_subspace_signature": .null, "truth_epoch": .null,
                                                   "conflicts_reviewed_at": .null]
            if !withRelations.contains(id) { properties["relations"] = .array([]) }
            nodes.append(node(id, name, "Entity", rank: 0, indexFields: ["name"], belongsToSet: sets, properties, key: chunkKey))
            edges.append(mention(chunkID, chunkLabel, id, name, entity.mention ?? entity.description, key: chunkKey))
            for set in nodeSets {
                edges.append(edge(id, "belongs_to_set", GraphIdentity.nodeSet(set), text: nil, labels: (name, set), key: chunkKey))
            }
            let type = GraphIdentity.displayName(entity.type)
            if !type.isEmpty {
                let typeID = GraphIdentity.entityType(entity.type)
                if seen.insert(typeID).inserted {
                    nodes.append(node(typeID, type, "EntityType", rank: 0, indexFields: ["name"], belongsToSet: nil,
                                      ["description": .string(type), "relations": .array([])], key: chunkKey))
                }
                edges.append(edge(id, "is_a", typeID, text: nil, labels: (name, type), key: chunkKey))
            }
        }
        for relation in relationEdges {
            edges.append(edge(relation.source, relation.name, relation.target, text: relation.text, labels: relation.labels, key: chunkKey))
        }
        return GraphBatch(nodes: nodes, edges: edges)
    }

    // MARK: - Shapes

    /// Words as `str.split()` counts them: runs of non-whitespace. Scans UTF-8 bytes; only
    /// non-ASCII scalars are looked up in Unicode's whitespace property.
    static func wordCount(_ text: String) -> Int {
        var count = 0
        var inWord = false
        for scalar in text.unicodeScalars {
            let space: Bool
            switch scalar.value {
            case 0x20, 0x09...0x0D, 0x1C...0x1F: space = true
            case 0..<0x80: space = false
            default: space = scalar.properties.isWhitespace
            }
            if space { inWord = false } else if !inWord { inWord = true; count += 1 }
        }
        return count
    }

    /// The node types that belong to one document; every other type is shared between documents.
    static let documentScopedTypes: Set<String> = ["TextDocument", "DocumentChunk", "TextSummary"]

    private func node(_ id: String, _ name: String, _ type: String, rank: Int, indexFields: [String], identityFields: [String]? = nil,
                      belongsToSet: [JSONValue]?, _ own: [String: JSONValue], key: String) -> GraphNode {
        var metadata = JSONObject([("index_fields", .array(indexFields.map(JSONValue.string)))])
        let shared = !Self.documentScopedTypes.contains(type)
        if let identityFields { metadata["identity_fields"] = .array(identityFields.map(JSONValue.string)) }
        var pairs: [(String, JSONValue)] = [
            ("created_at", .number(JSONNumber(literal: String(timestampMillis), isInteger: true))),
            ("updated_at", .number(JSONNumber(literal: String(timestampMillis), isInteger: true))),
            ("ontology_valid", .bool(false)), ("ontology_uri", .null), ("version", .number(JSONNumber(1))),
            ("topological_rank", .number(JSONNumber(rank))), ("metadata", .object(metadata)),
            ("belongs_to_set", belongsToSet.map(JSONValue.array) ?? .null),
            ("source_pipeline", .string("memify_worker")), ("source_task", .string("persist_sessions")),
            ("source_node_set", .string(nodeSets.joined(separator: ", "))),
            // Nodes shared by many documents (NodeSet, Entity, EntityType, Timestamp) do not carry
            // one document's stamps: whichever turn wrote them last would decide, and a rebuild
            // in another order would give another graph.
            ("source_user", shared ? .null : sourceUser.map(JSONValue.string) ?? .null),
            ("source_content_hash", shared ? .null : .string(textMD5)),
            ("feedback_weight", .number(JSONNumber(literal: "0.5", isInteger: false))),
            ("importance_weight", .number(JSONNumber(literal: "0.5", isInteger: false))),
        ]
        // Built in one go (a JSONObject looks keys up linearly): the base fields, then the
        // type's own, sorted; an own field replaces a base one of the same name.
        if pairs.contains(where: { own[$0.0] != nil }) { pairs.removeAll { own[$0.0] != nil } }
        pairs += own.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return GraphNode(id: id, name: name, type: type, properties: JSONObject(pairs), sourceRefKey: key)
    }

    /// The chunk's `contains` edge to an entity or a time, with cognee's mention text.
    private func mention(_ chunkID: String, _ chunkLabel: String, _ id: String, _ name: String, _ description: String,
                         key: String) -> GraphEdge {
        return edge(chunkID, "contains", id, text: description.isBlank ? nil : "Document chunk mentions \(name): \(description)",
                    labels: (chunkLabel, name), key: key)
    }

    /// A `Timestamp` node (graph spec §2.2): a leaf shared by every document naming that time.
    private func timestampNode(_ id: String, _ time: TimestampValue, key: String) -> GraphNode {
        func n(_ v: Int) -> JSONValue { .number(JSONNumber(v)) }
        func ms(_ v: Int64) -> JSONValue { .number(JSONNumber(literal: String(v), isInteger: true)) }
        return node(id, time.text, "Timestamp", rank: 0, indexFields: [], belongsToSet: nil, [
            "timestamp_str": .string(time.text), "precision": .string(time.precision.rawValue),
            "time_at": ms(time.timeAt), "time_until": ms(time.timeUntil), "year": n(time.year), "month": n(time.month),
            "day": n(time.day), "hour": n(time.hour), "minute": n(time.minute), "second": n(time.second),
        ], key: key)
    }

    private func edge(_ source: String, _ relationship: String, _ target: String, text: String?,
                      labels: (String, String), key: String) -> GraphEdge {
        let edgeText = text ?? "\(labels.0) \(relationship.replacingAll("_", with: " ")) \(labels.1)."
        return GraphEdge(sourceID: source, targetID: target, relationshipName: relationship, properties: JSONObject([
            ("source_node_id", .string(source)), ("target_node_id", .string(target)),
            ("relationship_name", .string(relationship)), ("relationship_type", .string(relationship)),
            ("edge_text", .string(edgeText)),
            ("edge_object_id", .string(GraphIdentity.edgeObject(source: source, relationship: relationship, target: target))),
            ("feedback_weight", .number(JSONNumber(literal: "0.5", isInteger: false))),
            ("updated_at", .string(Self.edgeTime(timestampMillis))),
        ]), sourceRefKey: key)
    }

    /// cognee's edge-text label: whitespace collapsed, first 80 characters.
    func label(_ text: String) -> String {
        // Collapse only as much of the text as the label needs: a longer prefix whose collapsed
        // form already has more than 80 characters starts with the same 80 as the whole text's.
        var take = 160
        while true {
            let head = text.prefix(take)
            let collapsed = head.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
            if head.endIndex == text.endIndex || collapsed.count > 80 { return String(collapsed.prefix(80)) }
            take *= 4
        }
    }

    /// `"%Y-%m-%d %H:%M:%S"` UTC, as edge `updated_at`.
    static func edgeTime(_ millis: Int64) -> String {
        var seconds = millis / 1000
        let (days, secs) = seconds.quotientAndRemainder(dividingBy: 86_400)
        seconds = secs
        let date = CivilDate(daysSinceEpoch: days)
        func pad(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(date.year)-\(pad(date.month))-\(pad(date.day)) \(pad(seconds / 3600)):\(pad(seconds % 3600 / 60)):\(pad(seconds % 60))"
    }

    /// `json.dumps(value, indent=4)` for a flat object of strings and string lists.
    static func pythonIndented(_ object: JSONObject) -> String {
        var out = "{"
        for (i, (key, value)) in object.pairs.enumerated() {
            out += (i == 0 ? "\n" : ",\n") + "    " + JSONWriter.string(.string(key), style: .python) + ": "
            if case .array(let items) = value {
                out += items.isEmpty ? "[]" : "[\n" + items.map { "        " + JSONWriter.string($0, style: .python) }.joined(separator: ",\n") + "\n    ]"
            } else {
                out += JSONWriter.string(value, style: .python)
            }
        }
        return out + (object.isEmpty ? "}" : "\n}")
    }
}

extension String {
    /// Empty or only whitespace (the check without building a trimmed copy).
    var isBlank: Bool { unicodeScalars.allSatisfy { $0.properties.isWhitespace } }
    /// No whitespace at either end.
    var isTrimmed: Bool {
        guard let first = unicodeScalars.first, let last = unicodeScalars.last else { return true }
        return !first.properties.isWhitespace && !last.properties.isWhitespace
    }
}
