import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools

/// `graph stats` as text and as JSON.
enum GraphStatsReport {
    static func json(_ c: GraphCounts, location: String) -> JSONObject {
        func number(_ n: Int) -> JSONValue { .number(JSONNumber(n)) }
        func named(_ counts: [NamedCount]) -> JSONValue { .object(JSONObject(counts.map { ($0.name, number($0.count)) })) }
        var object = JSONObject([
            ("graph", .string(location)), ("nodes", number(c.nodes)), ("edges", number(c.edges)),
            ("nodes_by_type", named(c.nodesByType)), ("edges_by_relationship", named(c.edgesByRelationship)),
            ("turn_registry", .bool(c.hasTurnRegistry)), ("turns", number(c.turns)), ("sessions_count", number(c.sessions.count)),
        ])
        object["users"] = .array(c.users.map {
            .object(JSONObject([("user_id", .string($0.userID)), ("sessions", number($0.sessions)), ("turns", number($0.turns))]))
        })
        object["sessions"] = .array(c.sessions.map {
            .object(JSONObject([("dataset_id", .string($0.datasetID)), ("user_id", .string($0.userID)), ("session_id", .string($0.sessionID)),
                                ("turns", number($0.turns)), ("first_turn", .string($0.firstTurn)), ("last_turn", .string($0.lastTurn))]))
        })
        object["vectors"] = .array(c.vectors.map {
            .object(JSONObject([("collection", .string($0.collection)), ("rows", number($0.rows)), ("width", number($0.width))]))
        })
        return object
    }

    static func text(_ c: GraphCounts, location: String, maxSessions: Int) -> String {
        var out = "graph \(location): \(c.nodes) nodes, \(c.edges) edges\n"
        func table(_ title: String, _ counts: [NamedCount]) {
            guard !counts.isEmpty else { return }
            out += "\(title):\n"
            let width = counts.map(\.name.count).max() ?? 0
            for n in counts { out += "  " + n.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(n.count)\n" }
        }
        table("nodes by type", c.nodesByType)
        table("edges by relationship", c.edgesByRelationship)
        if !c.hasTurnRegistry {
            out += "turns: no turn registry (memify_turn) in this graph: the worker has not written it\n"
        } else {
            let users = c.users
            out += "turns: \(c.turns) in \(c.sessions.count) session\(c.sessions.count == 1 ? "" : "s") of \(users.count) user\(users.count == 1 ? "" : "s")\n"
            for u in users { out += "  user \(u.userID): \(u.sessions) session\(u.sessions == 1 ? "" : "s"), \(u.turns) turn\(u.turns == 1 ? "" : "s")\n" }
            for s in c.sessions.prefix(maxSessions) {
                out += "  session \(s.userID)/\(s.sessionID): \(s.turns) turn\(s.turns == 1 ? "" : "s"), \(s.firstTurn) … \(s.lastTurn) (dataset \(s.datasetID))\n"
            }
            if c.sessions.count > maxSessions { out += "  … \(c.sessions.count - maxSessions) more sessions (--max-sessions, or --json for all)\n" }
        }
        if c.vectors.isEmpty {
            out += "vectors: none (no vector collections in this graph)\n"
        } else {
            out += "vectors:\n"
            let width = c.vectors.map(\.collection.count).max() ?? 0
            for v in c.vectors {
                out += "  " + v.collection.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(v.rows) rows, width \(v.width)\n"
            }
        }
        out += "see a session's turns with `memify-worker graph show --session USER/SESSION`, draw it with `memify-worker graph render --output graph.html`\n"
        return out
    }
}

/// `graph show` as text and as JSON.
enum GraphShowReport {
    static func name(_ id: String, in view: TurnView) -> String {
        guard let node = view.nodesByID[id]?.node else { return id }
        return GraphJSON.label(of: node)
    }

    /// An entity's type (its `is_a` target), or the node type of what a chunk contains besides entities (a `Timestamp`).
    static func entityType(_ node: StoredNode, in view: TurnView) -> String? {
        view.entityTypes[node.node.id] ?? (node.node.type == "Entity" ? nil : node.node.type)
    }

    static func text(_ views: [TurnView], user: String, session: String) -> String {
        var out = "session \(user)/\(session): \(views.count) turn\(views.count == 1 ? "" : "s")\n"
        for view in views {
            let t = view.turn.turn
            out += "\nturn \(t.turnID) at \(t.turnTime) (dataset \(view.turn.datasetID), document \(t.documentID))\n"
            if let chunk = view.chunk {
                out += "  chunk \(chunk.node.id):\n"
                for line in view.chunkText.split(separator: "\n", omittingEmptySubsequences: false) { out += "    \(line)\n" }
            } else {
                out += "  chunk: not in the graph (retracted, or the graph was changed by hand)\n"
            }
            for summary in view.summaries { out += "  summary: \(TurnView.text(of: summary))\n" }
            if view.entities.isEmpty {
                out += "  entities: none\n"
            } else {
                out += "  entities (\(view.entities.count)):\n"
                for e in view.entities {
                    let type = entityType(e, in: view).map { " [\($0)]" } ?? ""
                    let description = GraphJSON.text(of: e.node)
                    out += "    \(e.node.name)\(type)\(description.isEmpty ? "" : ": \(description)")\n"
                }
            }
            if !view.relations.isEmpty {
                out += "  relations (\(view.relations.count)):\n"
                for r in view.relations {
                    out += "    \(name(r.edge.sourceID, in: view)) --\(r.edge.relationshipName)--> \(name(r.edge.targetID, in: view))\n"
                }
            }
        }
        return out
    }

    static func json(_ views: [TurnView], user: String, session: String) -> JSONValue {
        .object(JSONObject([("user_id", .string(user)), ("session_id", .string(session)), ("turns", .array(views.map { view in
            let t = view.turn.turn
            return .object(JSONObject([
                ("dataset_id", .string(view.turn.datasetID)), ("turn_id", .string(t.turnID)), ("turn_time", .string(t.turnTime)),
                ("document_id", .string(t.documentID)), ("chunk_id", view.chunk.map { .string($0.node.id) } ?? .null),
                ("text", .string(view.chunkText)), ("summaries", .array(view.summaries.map { .string(TurnView.text(of: $0)) })),
                ("entities", .array(view.entities.map { e in
                    .object(JSONObject([("id", .string(e.node.id)), ("name", .string(e.node.name)),
                                        ("type", entityType(e, in: view).map(JSONValue.string) ?? .null),
                                        ("description", .string(GraphJSON.text(of: e.node)))]))
                })),
                ("relations", .array(view.relations.map { r in
                    .object(JSONObject([("source", .string(r.edge.sourceID)), ("source_name", .string(name(r.edge.sourceID, in: view))),
                                        ("relationship_name", .string(r.edge.relationshipName)),
                                        ("target", .string(r.edge.targetID)), ("target_name", .string(name(r.edge.targetID, in: view)))]))
                })),
            ]))
        }))]))
    }

    static func text(node stored: StoredNode, edges: [StoredEdge], total: Int, neighbours: [String: GraphNode]) -> String {
        let node = stored.node
        var out = "node \(node.id)\n  type: \(node.type)\n  name: \(node.name)\n"
        for (key, value) in node.properties.pairs {
            let text: String
            if case .string(let s) = value { text = s } else { text = JSONWriter.string(value, style: .compact) }
            out += "  \(key): \(text.replacingOccurrences(of: "\n", with: "\n    "))\n"
        }
        if !stored.sourceRefKeys.isEmpty { out += "  provenance: \(stored.sourceRefKeys.joined(separator: ", "))\n" }
        out += "edges (\(total)\(edges.count < total ? ", \(edges.count) shown: --max-edges" : "")):\n"
        func label(_ id: String) -> String { neighbours[id].map { "\(GraphJSON.label(of: $0)) (\($0.type) \(id))" } ?? id }
        for e in edges {
            if e.edge.sourceID == node.id {
                out += "  --\(e.edge.relationshipName)--> \(e.edge.targetID == node.id ? "itself" : label(e.edge.targetID))\n"
            } else {
                out += "  <--\(e.edge.relationshipName)-- \(label(e.edge.sourceID))\n"
            }
        }
        return out
    }

    static func json(node stored: StoredNode, edges: [StoredEdge], total: Int) -> JSONValue {
        .object(JSONObject([("node", GraphJSON.node(stored)), ("source_ref_keys", .array(stored.sourceRefKeys.map(JSONValue.string))),
                            ("edges_total", .number(JSONNumber(total))), ("edges", .array(edges.map(GraphJSON.edge)))]))
    }
}
