import MemifyCore
import Foundation

/// Read-only access to a persisted graph, for looking at what the worker wrote (`graph stats`,
/// `show`, `export`, `render`). Every answer comes from SQL counts or bounded pages, never from
/// reading the whole graph into memory, so it stays cheap on a large graph. Implementations open
/// their own connection read-only (an SQLite file is never created or migrated by a reader) and
/// run every blocking call on their own ``BlockingExecutor``.
package protocol GraphReader: Sendable {
    /// Where it reads, safe to log.
    var location: String { get }
    /// Row counts: nodes by type, edges by relationship, turns per session, vector collections.
    func counts() async throws -> GraphCounts
    /// The nodes with these ids that exist, in id order.
    func nodes(ids: [String]) async throws -> [StoredNode]
    /// Up to `limit` edges with `id` as source or target, and how many there are in all.
    func edges(touching id: String, limit: Int) async throws -> (edges: [StoredEdge], total: Int)
    /// The edges leaving any of `sources`, only those whose provenance holds `key` and of
    /// `relationship` when given.
    func edges(from sources: [String], withKey key: String?, relationship: String?) async throws -> [StoredEdge]
    /// The registered turns (`memify_turn`) of one user's session, in every dataset (or one), by turn time.
    func turns(userID: String, sessionID: String, datasetID: String?) async throws -> [GraphTurn]
    /// Nodes in id order after `after` (nil: from the first), at most `limit`: a whole graph is read page by page.
    func nodePage(after: String?, limit: Int) async throws -> [StoredNode]
    /// Edges in key order after `after`, at most `limit`.
    func edgePage(after: GraphEdge.Key?, limit: Int) async throws -> [StoredEdge]
}

/// A count under a name (a node type, a relationship, a collection).
package struct NamedCount: Sendable, Equatable {
    package var name: String
    package var count: Int
    package init(name: String, count: Int) {
        self.name = name
        self.count = count
    }
}

/// One session's registered turns.
package struct SessionCount: Sendable, Equatable {
    package var datasetID: String
    package var userID: String
    package var sessionID: String
    package var turns: Int
    /// The earliest and latest turn times (as the cache gave them).
    package var firstTurn: String
    package var lastTurn: String
}

/// One vector collection: its rows and its width (-1 when the declared type has none).
package struct VectorCount: Sendable, Equatable {
    package var collection: String
    package var rows: Int
    package var width: Int
}

/// What `graph stats` reports.
package struct GraphCounts: Sendable, Equatable {
    package var nodes = 0
    package var edges = 0
    /// By count, largest first, then by name.
    package var nodesByType: [NamedCount] = []
    package var edgesByRelationship: [NamedCount] = []
    /// Whether the graph has the worker's turn registry (a graph cognee alone wrote has not).
    package var hasTurnRegistry = false
    /// By user, then session, then dataset.
    package var sessions: [SessionCount] = []
    /// The collections that exist, by name.
    package var vectors: [VectorCount] = []

    package init() {}

    package var turns: Int { sessions.reduce(0) { $0 + $1.turns } }

    /// Turns and sessions per user, by user.
    package var users: [(userID: String, sessions: Int, turns: Int)] {
        var out: [(userID: String, sessions: Int, turns: Int)] = []
        for s in sessions {
            if let last = out.last, last.userID == s.userID {
                out[out.count - 1] = (s.userID, last.sessions + 1, last.turns + s.turns)
            } else {
                out.append((s.userID, 1, s.turns))
            }
        }
        return out
    }

    static func sorted(_ counts: [NamedCount]) -> [NamedCount] {
        counts.sorted { ($1.count, $0.name) < ($0.count, $1.name) }
    }
}

/// One registered turn with its dataset.
package struct GraphTurn: Sendable, Equatable {
    package var datasetID: String
    package var turn: RegisteredTurn
}

/// What one turn produced, read back through its registry row: its chunk (the turn's text),
/// the chunk's summary and document, the entities it contains and the relations among them
/// that carry the turn's provenance key.
package struct TurnView: Sendable {
    package var turn: GraphTurn
    package var chunk: StoredNode?
    package var document: StoredNode?
    package var summaries: [StoredNode]
    package var entities: [StoredNode]
    /// Entity → entity edges with the turn's chunk key (`is_a` excluded).
    package var relations: [StoredEdge]
    /// Every node named by the view, by id (for names of relation ends and entity types).
    package var nodesByID: [String: StoredNode]
    /// Each entity's type name (the `EntityType` its `is_a` edge points at), by entity id.
    package var entityTypes: [String: String] = [:]

    package var chunkText: String {
        if case .string(let text)? = chunk?.node.properties["text"] { return text }
        return ""
    }

    package static func text(of node: StoredNode) -> String {
        if case .string(let text)? = node.node.properties["text"] { return text }
        return ""
    }
}

extension GraphReader {
    /// The chunk id inside a chunk provenance key (`source_ref:v2:<dataset>:<data>:<chunk>`).
    static func chunkID(ofKey key: String) -> String? {
        guard key.hasPrefix("source_ref:v2:"), let last = key.split(separator: ":").last else { return nil }
        return String(last)
    }

    /// What one turn produced (see ``TurnView``); a handful of indexed reads.
    package func view(of turn: GraphTurn) async throws -> TurnView {
        let key = turn.turn.chunkKey
        guard let chunkID = Self.chunkID(ofKey: key) else {
            return TurnView(turn: turn, chunk: nil, document: nil, summaries: [], entities: [], relations: [], nodesByID: [:])
        }
        let around = try await edges(touching: chunkID, limit: 10_000).edges
        let entityIDs = around.filter { $0.edge.sourceID == chunkID && $0.edge.relationshipName == "contains" }.map(\.edge.targetID)
        let summaryIDs = around.filter { $0.edge.targetID == chunkID && $0.edge.relationshipName == "made_from" }.map(\.edge.sourceID)
        let documentIDs = around.filter { $0.edge.sourceID == chunkID && $0.edge.relationshipName == "is_part_of" }.map(\.edge.targetID)
        let fromEntities = entityIDs.isEmpty ? [] : try await edges(from: entityIDs, withKey: key, relationship: nil)
        let entitySet = Set(entityIDs)
        let relations = fromEntities.filter { entitySet.contains($0.edge.targetID) && $0.edge.relationshipName != "is_a" }
        // An entity's type edge keeps the provenance of whichever turn first named it: not filtered by this turn's key.
        let typeEdges = entityIDs.isEmpty ? [] : try await edges(from: entityIDs, withKey: nil, relationship: "is_a")
        let typeIDs = typeEdges.map(\.edge.targetID)
        var ids = Set([chunkID]).union(entityIDs).union(summaryIDs).union(documentIDs).union(typeIDs)
        ids.insert(turn.turn.documentID)
        let nodes = try await self.nodes(ids: ids.sorted())
        let byID = Dictionary(nodes.map { ($0.node.id, $0) }, uniquingKeysWith: { a, _ in a })
        var view = TurnView(turn: turn, chunk: byID[chunkID], document: byID[documentIDs.first ?? turn.turn.documentID],
                            summaries: summaryIDs.compactMap { byID[$0] }, entities: entityIDs.compactMap { byID[$0] },
                            relations: relations, nodesByID: byID)
        for edge in typeEdges {
            view.entityTypes[edge.edge.sourceID] = byID[edge.edge.targetID]?.node.name
        }
        return view
    }
}

extension GraphTarget {
    /// Opens a read-only reader of this graph (the placement applies to PostgreSQL only). An
    /// SQLite graph that does not exist is an error naming its path, never a new empty file.
    package func openReader(placement: GraphPlacement = .shared()) async throws -> any GraphReader {
        switch self {
        case .postgres(let conninfo): return try await PostgresGraphReader.connect(conninfo: conninfo, placement: placement)
        case .sqlite(let path): return try await SQLiteGraphReader.open(path: path)
        }
    }
}
