package import MemifyCore
import Glibc
/// One row of `graph_node` (graph spec §5.3): `properties` is the JSON object cognee reads.
package struct GraphNode: Sendable, Equatable {
    package var id: String
    /// `""` for types without a name (DocumentChunk, TextSummary).
    package var name: String
    /// The class name: `Entity`, `EntityType`, `DocumentChunk`, …
    package var type: String
    package var properties: JSONObject
    /// The provenance keys this write adds (`source_ref:v1:…` or `source_ref:v2:…`, spec §5.4).
    package var sourceRefKeys: [String]

    package init(id: String, name: String, type: String, properties: JSONObject, sourceRefKey: String? = nil) {
        self.id = id
        self.name = name
        self.type = type
        self.properties = properties
        self.sourceRefKeys = sourceRefKey.map { [$0] } ?? []
    }
}

/// One row of `graph_edge`, keyed by (source, target, relationship).
package struct GraphEdge: Sendable, Equatable {
    package var sourceID: String
    package var targetID: String
    package var relationshipName: String
    package var properties: JSONObject
    /// The provenance keys this write adds.
    package var sourceRefKeys: [String]

    package init(sourceID: String, targetID: String, relationshipName: String, properties: JSONObject,
                sourceRefKey: String? = nil) {
        self.sourceID = sourceID
        self.targetID = targetID
        self.relationshipName = relationshipName
        self.properties = properties
        self.sourceRefKeys = sourceRefKey.map { [$0] } ?? []
    }

    package struct Key: Hashable, Sendable, Comparable {
        package var sourceID: String
        package var targetID: String
        package var relationshipName: String

        package static func < (a: Key, b: Key) -> Bool {
            (a.sourceID, a.targetID, a.relationshipName) < (b.sourceID, b.targetID, b.relationshipName)
        }
    }

    package var key: Key { Key(sourceID: sourceID, targetID: targetID, relationshipName: relationshipName) }
}

/// What one transaction writes: nodes first, then edges (the foreign keys need that order).
package struct GraphBatch: Sendable {
    package var nodes: [GraphNode]
    package var edges: [GraphEdge]
    /// The pipeline run, for `source_run_ids` / `source_run_refs`.
    package var runID: String?

    package init(nodes: [GraphNode] = [], edges: [GraphEdge] = [], runID: String? = nil) {
        self.nodes = nodes
        self.edges = edges
        self.runID = runID
    }

    /// The batch as it is written: NUL characters stripped (PostgreSQL cannot store them, and
    /// cognee strips them too), one row per key (the last properties win, the provenance keys of
    /// all duplicates are kept), sorted by key as cognee sorts.
    package func prepared() -> GraphBatch {
        // The last row with an id wins; keys are gathered and sorted once per id (a popular
        // entity can come once per turn of the batch).
        var nodesByID: [String: GraphNode] = [:]
        var nodeKeys: [String: [String]] = [:]
        for node in nodes {
            var n = node
            n.name = n.name.strippingNUL()
            n.type = n.type.strippingNUL()
            n.properties = n.properties.strippingNUL()
            nodeKeys[n.id, default: []].append(contentsOf: n.sourceRefKeys)
            // Several turns of one batch naming one shared node fold as across batches do.
            if let earlier = nodesByID[n.id], !CogneeDocumentBuilder.documentScopedTypes.contains(n.type) {
                n.properties = GraphMerge.mergeShared(stored: earlier.properties, new: n.properties)
            }
            nodesByID[n.id] = n
        }
        var edgesByKey: [GraphEdge.Key: GraphEdge] = [:]
        var edgeKeys: [GraphEdge.Key: [String]] = [:]
        for edge in edges {
            var e = edge
            e.relationshipName = e.relationshipName.strippingNUL()
            e.properties = e.properties.strippingNUL()
            edgeKeys[e.key, default: []].append(contentsOf: e.sourceRefKeys)
            if let earlier = edgesByKey[e.key] { GraphMerge.keepLaterEdgeTime(of: earlier.properties, in: &e.properties) }
            edgesByKey[e.key] = e
        }
        func unique(_ keys: [String]) -> [String] { keys.count <= 1 ? keys : Array(Set(keys)).sorted() }
        for (id, keys) in nodeKeys { nodesByID[id]?.sourceRefKeys = unique(keys) }
        for (key, keys) in edgeKeys { edgesByKey[key]?.sourceRefKeys = unique(keys) }
        return GraphBatch(nodes: nodesByID.values.sorted { $0.id < $1.id },
                          edges: edgesByKey.values.sorted { $0.key < $1.key }, runID: runID)
    }
}

/// Provenance keys (graph spec §5.4).
package enum SourceRef {
    /// Document scope: the document node, NodeSet tags, the document → NodeSet edge.
    package static func document(datasetID: String, dataID: String) -> String {
        "source_ref:v1:\(datasetID):\(dataID)"
    }

    /// Chunk scope: everything a chunk produced.
    package static func chunk(datasetID: String, dataID: String, chunkID: String) -> String {
        "source_ref:v2:\(datasetID):\(dataID):\(chunkID)"
    }

    /// The dataset id inside a key, or nil if it is not one of ours.
    package static func datasetID(of key: String) -> String? {
        // source_ref:<version>:<dataset>:<rest>, scanned as bytes (called for every key of every row).
        let bytes = key.utf8
        guard bytes.starts(with: "source_ref:".utf8) else { return nil }
        // The dataset lies between the second and third colons; the first ends "source_ref:".
        let prefix = 11
        guard let second = bytes.dropFirst(prefix).firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let start = bytes.index(after: second)
        guard let third = bytes[start...].firstIndex(of: UInt8(ascii: ":")) else { return nil }
        return String(key[start..<third])
    }

    package static func runRef(runID: String, key: String) -> String { runRefPrefix + runID + ":" + key }
    static let runRefPrefix = "source_run_ref:v1:"
}

/// How many rows a write or a retraction touched.
package struct GraphWriteStats: Sendable, Equatable {
    package var nodesWritten = 0
    package var edgesWritten = 0
    /// Rows identical to what was stored, dropped before the upsert.
    package var nodesUnchanged = 0
    package var edgesUnchanged = 0
    package var nodesDeleted = 0
    package var edgesDeleted = 0
    /// The texts stored edges had before this write gave them others (their `EdgeType`
    /// vectors go once no edge has them).
    package var replacedEdgeTexts: [String] = []

    package init() {}

    package var rowsWritten: Int { nodesWritten + edgesWritten }
}

/// A stored row as read back (for tests, `status`, and interop checks).
package struct StoredNode: Sendable, Equatable {
    package var node: GraphNode
    package var sourceRefKeys: [String]
    package var sourceDatasetIDs: [String]
    package var sourceRunIDs: [String]
    package var sourceRunRefs: [String]
}

package struct StoredEdge: Sendable, Equatable {
    package var edge: GraphEdge
    package var sourceRefKeys: [String]
    package var sourceDatasetIDs: [String]
    package var sourceRunIDs: [String]
    package var sourceRunRefs: [String]
}

/// The whole graph, sorted, for comparisons.
package struct GraphSnapshot: Sendable, Equatable {
    package var nodes: [StoredNode]
    package var edges: [StoredEdge]
    package var metadata: [String: String]
}

/// A graph backend: PostgreSQL (production) or the embedded SQLite graph (the default).
package protocol GraphWriter: Sendable {
    /// Where it writes, safe to log.
    var location: String { get }
    /// Creates or upgrades the schema; idempotent.
    func migrate() async throws
    /// Upserts one batch in one transaction, nodes before edges.
    func write(_ batch: GraphBatch) async throws -> GraphWriteStats
    /// Removes what `sourceRefKey` produced: rows only it owns are deleted (with their edges),
    /// rows other sources also own lose only this key.
    func retract(sourceRefKey: String) async throws -> GraphWriteStats
    /// Every row, sorted by key.
    func snapshot() async throws -> GraphSnapshot
    /// A random id the graph keeps in `graph_metadata` (`memify_graph_id`), made on first ask:
    /// checkpoints are bound to it, so a state database never vouches for another graph (or
    /// for this one after it was dropped and created again).
    func identity() async throws -> String
    /// The chunks stored for each document (the sources of its `is_part_of` edges), for the
    /// documents that have any.
    func chunks(ofDocuments documentIDs: [String]) async throws -> [String: [String]]
    /// Writes a batch's rows, retracts what it replaces or deletes, keeps the turn registry
    /// (`memify_turn`) and bumps the writing state's counter (`memify_commit`), all in ONE
    /// transaction: whatever happens to the checkpoints afterwards, the graph knows what it holds.
    func commit(_ commit: GraphCommit) async throws -> GraphCommitResult
    /// How many batches the state `stateID` has committed (`memify_commit`); 0 for none. One
    /// indexed read: every run asks it once, to learn whether its checkpoints are behind the graph.
    func commitSequence(stateID: String) async throws -> Int64
    /// Whether `memify_turn` holds any turn of the dataset.
    func hasRegisteredTurns(datasetID: String) async throws -> Bool
    /// The registered turns of these sessions of the dataset.
    func registeredTurns(datasetID: String, sessions: [(userID: String, sessionID: String)]) async throws -> [RegisteredTurn]
    /// The vector collections the graph has (cognee-vectors.md §1.2), with their widths.
    func vectorWidths() async throws -> [String: Int]
    /// Makes the vector collections ready for vectors of `dimensions` (pgvector installed, the
    /// tables there): a run with vectors on calls it before it embeds anything, so a missing
    /// pgvector or a collection of another width (a usage error naming both) costs nothing.
    func prepareVectors(dimensions: Int, identity: String) async throws
    /// Connects again after the connection was lost (a server restart, a dropped backend), so an
    /// idempotent read can be tried once more. Nothing for an embedded graph.
    func reconnect() async throws
}

extension GraphWriter {
    package func reconnect() async throws {}
}

/// The sorted, de-duplicated union of two lists (how provenance arrays are kept).
func sortedUnion(_ a: [String], _ b: [String]) -> [String] {
    if b.isEmpty { return a }
    if a.isEmpty, b.count == 1 { return b }
    if b.count == 1, a.contains(b[0]) { return a }
    return Array(Set(a).union(b)).sorted()
}

extension String {
    var containsNUL: Bool { containsByte(0) }

    /// Whether the UTF-8 bytes hold `byte`, by `memchr` (vectorized) on the contiguous bytes.
    func containsByte(_ byte: UInt8) -> Bool {
        utf8.withContiguousStorageIfAvailable { bytes in
            guard let base = bytes.baseAddress else { return false }
            return memchr(base, Int32(byte), bytes.count) != nil
        } ?? utf8.contains(byte)
    }

    func strippingNUL() -> String {
        guard containsNUL else { return self }
        return String(String.UnicodeScalarView(unicodeScalars.filter { $0.value != 0 }))
    }
}

extension JSONValue {
    func strippingNUL() -> JSONValue {
        switch self {
        case .string(let s): return .string(s.strippingNUL())
        case .array(let items): return .array(items.map { $0.strippingNUL() })
        case .object(let object): return .object(object.strippingNUL())
        default: return self
        }
    }
}

extension JSONValue {
    var containsNUL: Bool {
        switch self {
        case .string(let s): return s.containsNUL
        case .array(let items): return items.contains { $0.containsNUL }
        case .object(let object): return object.pairs.contains { $0.containsNUL || $1.containsNUL }
        default: return false
        }
    }
}

extension JSONObject {
    func strippingNUL() -> JSONObject {
        // Nearly always nothing to strip: check before rebuilding.
        guard pairs.contains(where: { $0.containsNUL || $1.containsNUL }) else { return self }
        return JSONObject(pairs.map { ($0.strippingNUL(), $1.strippingNUL()) })
    }
}
