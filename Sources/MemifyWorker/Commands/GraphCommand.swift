import ArgumentParser
import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools

/// `graph`: look at what was persisted: counts, one session's turns or one node, an export, a drawing.
/// Everything reads through a read-only ``GraphReader`` (SQL counts and pages, never the whole
/// graph in memory), so it is safe beside a running `run` and cheap on a large graph.
struct GraphCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Look at the persisted graph: counts, a session's turns or a node, an export (JSON, GraphML, DOT), an HTML drawing.",
        subcommands: [Stats.self, Show.self, Export.self, Render.self], defaultSubcommand: Stats.self)

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stats", abstract: "Nodes by type, edges by relationship, turns per user and session, vector collections (the default).")

        @OptionGroup var graph: GraphOptions

        @Flag(help: "One JSON object.")
        var json = false

        @Option(help: "Sessions listed in the text output (all of them in --json).")
        var maxSessions = 20

        func validate() throws {
            if maxSessions < 0 { throw ValidationError("--max-sessions must be at least 0, got \(maxSessions)") }
        }

        func run() async throws {
            try await withExitStatus {
                let reader = try await graph.target().openReader(placement: graph.graphPlacement)
                let counts = try await reader.counts()
                if json {
                    print(JSONWriter.string(.object(GraphStatsReport.json(counts, location: reader.location)), style: .compact))
                } else {
                    print(GraphStatsReport.text(counts, location: reader.location, maxSessions: maxSessions), terminator: "")
                }
                return .done
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "What each turn of a session produced (its chunk, summary, entities, relations), or one node and its edges.")

        @OptionGroup var graph: GraphOptions

        @Option(help: "USER/SESSION (split at the first /; with --user, the session id as it is).")
        var session: String?

        @Option(help: "The user id, when it holds a /.")
        var user: String?

        @Option(help: "A node id.")
        var node: String?

        @Option(help: "Edges listed for --node.")
        var maxEdges = 100

        @Flag(help: "JSON instead of text.")
        var json = false

        func validate() throws {
            if (session == nil) == (node == nil) { throw ValidationError("graph show needs one of --session USER/SESSION or --node ID") }
            if let session, user == nil, !session.contains("/") {
                throw ValidationError("--session '\(session)' is not USER/SESSION; pass --session USER/SESSION, or --user USER --session SESSION")
            }
            if user != nil, session == nil { throw ValidationError("--user goes with --session") }
            if maxEdges < 0 { throw ValidationError("--max-edges must be at least 0, got \(maxEdges)") }
        }

        var userAndSession: (user: String, session: String)? {
            guard let session else { return nil }
            if let user { return (user, session) }
            let slash = session.firstIndex(of: "/")!
            return (String(session[..<slash]), String(session[session.index(after: slash)...]))
        }

        func run() async throws {
            try await withExitStatus {
                let reader = try await graph.target().openReader(placement: graph.graphPlacement)
                let out = StandardOutput()
                defer { out.flush() }
                if let (user, session) = userAndSession {
                    let turns = try await reader.turns(userID: user, sessionID: session, datasetID: graph.resolvedDatasetID)
                    guard !turns.isEmpty else {
                        throw DatabaseError(.invalidArgument, operation: "show session \(user)/\(session)",
                                              message: "the graph at \(reader.location) holds no turn of this session (see `memify-worker graph stats` for the sessions it has)")
                    }
                    var views: [TurnView] = []
                    for turn in turns { views.append(try await reader.view(of: turn)) }
                    if json {
                        out.write(JSONWriter.string(GraphShowReport.json(views, user: user, session: session), style: .compact) + "\n")
                    } else {
                        out.write(GraphShowReport.text(views, user: user, session: session))
                    }
                } else if let id = node {
                    guard let stored = try await reader.nodes(ids: [id]).first else {
                        throw DatabaseError(.invalidArgument, operation: "show node \(id)", message: "the graph at \(reader.location) has no node with this id")
                    }
                    let (edges, total) = try await reader.edges(touching: id, limit: maxEdges)
                    let ends = Set(edges.flatMap { [$0.edge.sourceID, $0.edge.targetID] }).subtracting([id])
                    let names = Dictionary(try await reader.nodes(ids: ends.sorted()).map { ($0.node.id, $0.node) }, uniquingKeysWith: { a, _ in a })
                    if json {
                        out.write(JSONWriter.string(GraphShowReport.json(node: stored, edges: edges, total: total), style: .compact) + "\n")
                    } else {
                        out.write(GraphShowReport.text(node: stored, edges: edges, total: total, neighbours: names))
                    }
                }
                return .done
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export", abstract: "The whole graph as JSON, GraphML or DOT, streamed page by page.")

        @OptionGroup var graph: GraphOptions

        @Option(help: "json, graphml or dot.")
        var format: GraphExportFormat = .json

        @Option(help: "Write to this file (replaced once complete) instead of standard output.")
        var output: String?

        func run() async throws {
            try await withExitStatus {
                let reader = try await graph.target().openReader(placement: graph.graphPlacement)
                let (nodes, edges) = try await ByteSink.writing(to: output) { sink in
                    try await GraphExporter(format: format, sink: sink).export(reader)
                }
                if let output { StandardError.write("memify-worker: wrote \(nodes) nodes and \(edges) edges to \(output)\n") }
                return .done
            }
        }
    }

    struct Render: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "render",
            abstract: "One self-contained HTML page drawing the graph (no network): nodes coloured by type, searchable by name, a chunk's text on click.")

        @OptionGroup var graph: GraphOptions

        @Option(help: "The HTML file to write.")
        var output = "graph.html"

        @Option(help: "Draw at most this many nodes (the first by id, with the edges among them); the page says when it is cut.")
        var maxNodes = 5000

        @Option(help: "The page's title.")
        var title = "memify graph"

        func validate() throws {
            if maxNodes < 1 { throw ValidationError("--max-nodes must be at least 1, got \(maxNodes)") }
        }

        func run() async throws {
            try await withExitStatus {
                let reader = try await graph.target().openReader(placement: graph.graphPlacement)
                let counts = try await reader.counts()
                let (nodes, edges) = try await ByteSink.writing(to: output) { sink in
                    try await GraphRenderPage(title: title, maxNodes: maxNodes, totalNodes: counts.nodes, totalEdges: counts.edges)
                        .write(reader, to: sink)
                }
                var note = "memify-worker: drew \(nodes) nodes and \(edges) edges into \(output)"
                if nodes < counts.nodes { note += " (of \(counts.nodes) nodes and \(counts.edges) edges: raise --max-nodes to draw more)" }
                StandardError.write(note + "\n")
                return .done
            }
        }
    }
}
