import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import TestSupport
import Testing

/// `graph stats|show|export|render`, run as the built binary on a graph the worker wrote from
/// the example cache, checked against the graph's own rows (a full snapshot, which the commands
/// themselves never take).
enum GraphLook {
    static let example = "fs:" + TestEnvironment.repositoryDirectory + "/examples/cognee-cache"

    static func temporaryDirectory(_ name: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memify-\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Runs the worker on the example cache into `graph` (command-line graph options).
    static func persistExample(graph: [String], directory: String) throws {
        let run = try WorkerProcess.run(["run", "--cache", example, "--state", directory + "/state.db", "--no-progress"] + graph)
        #expect(run.status == 0, "\(run.stderr)")
    }

    static func json(_ outcome: WorkerProcess.Outcome) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(outcome.stdout)) as? [String: Any], "\(outcome.stdoutText) \(outcome.stderr)")
    }

    /// `graph stats --json` equals the snapshot's counts.
    static func checkStats(graph: [String], writer: any GraphWriter) async throws {
        let snapshot = try await writer.snapshot()
        let stats = try WorkerProcess.run(["graph", "stats", "--json"] + graph)
        #expect(stats.status == 0, "\(stats.stderr)")
        let object = try json(stats)
        #expect(object["nodes"] as? Int == snapshot.nodes.count)
        #expect(object["edges"] as? Int == snapshot.edges.count)
        let byType = Dictionary(grouping: snapshot.nodes, by: \.node.type).mapValues(\.count)
        #expect(object["nodes_by_type"] as? [String: Int] == byType)
        let byRelationship = Dictionary(grouping: snapshot.edges, by: \.edge.relationshipName).mapValues(\.count)
        #expect(object["edges_by_relationship"] as? [String: Int] == byRelationship)
        // The example cache: 3 users, 12 sessions of 4 turns; one chunk per turn.
        #expect(object["turns"] as? Int == 48)
        #expect(object["sessions_count"] as? Int == 12)
        #expect((object["users"] as? [Any])?.count == 3)
        #expect(object["turns"] as? Int == byType["DocumentChunk"])
        let text = try WorkerProcess.run(["graph", "stats"] + graph)
        #expect(text.status == 0)
        #expect(text.stdoutText.contains("\(snapshot.nodes.count) nodes, \(snapshot.edges.count) edges"), "\(text.stdoutText)")
        #expect(text.stdoutText.contains("turns: 48 in 12 sessions of 3 users"), "\(text.stdoutText)")
    }

    /// `graph show --session`: every turn with its chunk text, summary, entities and relations;
    /// `graph show --node`: the node and its edges.
    static func checkShow(graph: [String], writer: any GraphWriter) async throws {
        let stats = try json(try WorkerProcess.run(["graph", "stats", "--json"] + graph))
        let session = try #require((stats["sessions"] as? [[String: Any]])?.first)
        let name = "\(session["user_id"] as? String ?? "")/\(session["session_id"] as? String ?? "")"
        let shown = try WorkerProcess.run(["graph", "show", "--session", name, "--json"] + graph)
        #expect(shown.status == 0, "\(shown.stderr)")
        let turns = try #require(try json(shown)["turns"] as? [[String: Any]])
        #expect(turns.count == session["turns"] as? Int)
        let snapshot = try await writer.snapshot()
        let chunks = Dictionary(snapshot.nodes.filter { $0.node.type == "DocumentChunk" }.map { ($0.node.id, $0.node) }, uniquingKeysWith: { a, _ in a })
        for turn in turns {
            let chunk = try #require(chunks[turn["chunk_id"] as? String ?? ""], "\(turn)")
            #expect(chunk.properties["text"] == .string(turn["text"] as? String ?? ""))
            #expect((turn["text"] as? String ?? "").contains("Question:"))
            #expect((turn["summaries"] as? [String])?.count == 1)
            let entities = turn["entities"] as? [[String: Any]] ?? []
            let contained = snapshot.edges.filter { $0.edge.sourceID == chunk.id && $0.edge.relationshipName == "contains" }
            #expect(entities.count == contained.count)
        }
        #expect(turns.contains { !($0["relations"] as? [Any] ?? []).isEmpty })
        let text = try WorkerProcess.run(["graph", "show", "--session", name] + graph)
        #expect(text.stdoutText.contains("Question:") && text.stdoutText.contains("relations ("), "\(text.stdoutText)")

        let entity = try #require(snapshot.nodes.first { $0.node.type == "Entity" })
        let node = try WorkerProcess.run(["graph", "show", "--node", entity.node.id, "--json"] + graph)
        #expect(node.status == 0, "\(node.stderr)")
        let degree = snapshot.edges.filter { $0.edge.sourceID == entity.node.id || $0.edge.targetID == entity.node.id }.count
        #expect(try json(node)["edges_total"] as? Int == degree)

        let unknown = try WorkerProcess.run(["graph", "show", "--session", "nobody/nothing"] + graph)
        #expect(unknown.status == 64 && unknown.stderr.contains("holds no turn of this session"), "\(unknown.stderr)")
        let neither = try WorkerProcess.run(["graph", "show"] + graph)
        #expect(neither.status == 64 && neither.stderr.contains("--session USER/SESSION or --node ID"), "\(neither.stderr)")
    }

    /// `graph export --format json|dot` carry every row (the GraphML export is read by the Python tests).
    static func checkExports(graph: [String], writer: any GraphWriter, directory: String) async throws {
        let snapshot = try await writer.snapshot()
        let exported = try WorkerProcess.run(["graph", "export", "--format", "json"] + graph)
        #expect(exported.status == 0, "\(exported.stderr)")
        let object = try json(exported)
        #expect((object["nodes"] as? [Any])?.count == snapshot.nodes.count)
        #expect((object["edges"] as? [Any])?.count == snapshot.edges.count)
        let dot = try WorkerProcess.run(["graph", "export", "--format", "dot", "--output", directory + "/g.dot"] + graph)
        #expect(dot.status == 0, "\(dot.stderr)")
        let dotText = try String(contentsOfFile: directory + "/g.dot", encoding: .utf8)
        #expect(dotText.hasPrefix("digraph memify {") && dotText.hasSuffix("}\n"))
        #expect(dotText.components(separatedBy: "\" -> \"").count - 1 == snapshot.edges.count)
    }
}

@Suite("graph commands on the embedded graph", .serialized)
struct GraphCommandSQLiteTests {
    static let directory: String = (try? GraphLook.temporaryDirectory("graph-look")) ?? "/tmp"
    static var graph: [String] { ["--graph", "sqlite:" + directory + "/graph.db"] }

    /// The example cache persisted once for every test of the suite.
    static func prepared() async throws -> any GraphWriter {
        if !FileManager.default.fileExists(atPath: directory + "/graph.db") {
            try GraphLook.persistExample(graph: graph, directory: directory)
        }
        return try await SQLiteGraphWriter.open(path: directory + "/graph.db")
    }

    @Test("stats: counts by type, by relationship, per user and session equal the graph's", .timeLimit(.minutes(10)))
    func stats() async throws {
        try await GraphLook.checkStats(graph: Self.graph, writer: try await Self.prepared())
    }

    @Test("show: a session's turns and a node", .timeLimit(.minutes(10)))
    func show() async throws {
        try await GraphLook.checkShow(graph: Self.graph, writer: try await Self.prepared())
    }

    @Test("export: JSON and DOT with every row; to --output", .timeLimit(.minutes(10)))
    func exports() async throws {
        try await GraphLook.checkExports(graph: Self.graph, writer: try await Self.prepared(), directory: Self.directory)
    }

    @Test("export --format graphml read by networkx's GraphML reader: equal counts", .timeLimit(.minutes(10)),
          .enabled(if: Python.has("networkx"), "python3 with networkx (pip install networkx)"))
    func graphMLNetworkx() async throws {
        let snapshot = try await Self.prepared().snapshot()
        let path = Self.directory + "/nx.graphml"
        #expect(try WorkerProcess.run(["graph", "export", "--format", "graphml", "--output", path] + Self.graph).status == 0)
        let out = try Python.run("""
            import sys, networkx as nx
            g = nx.read_graphml(sys.argv[1])
            types = {}
            for _, d in g.nodes(data=True): types[d["type"]] = types.get(d["type"], 0) + 1
            print(g.number_of_nodes(), g.number_of_edges(), types.get("DocumentChunk", 0))
            """, path)
        let chunks = snapshot.nodes.filter { $0.node.type == "DocumentChunk" }.count
        #expect(out == "\(snapshot.nodes.count) \(snapshot.edges.count) \(chunks)")
    }

    @Test("export --format graphml parsed by Python's xml.etree: equal counts, the chunk texts intact", .timeLimit(.minutes(10)),
          .enabled(if: Python.has("xml.etree.ElementTree"), "python3"))
    func graphMLEtree() async throws {
        let snapshot = try await Self.prepared().snapshot()
        let path = Self.directory + "/etree.graphml"
        #expect(try WorkerProcess.run(["graph", "export", "--format", "graphml", "--output", path] + Self.graph).status == 0)
        let out = try Python.run("""
            import sys, xml.etree.ElementTree as ET
            ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
            root = ET.parse(sys.argv[1]).getroot()
            graph = root.find("g:graph", ns)
            texts = [d.text for d in graph.iterfind("g:node/g:data[@key='d_text']", ns)]
            print(len(graph.findall("g:node", ns)), len(graph.findall("g:edge", ns)), sum(1 for t in texts if t and "Question:" in t))
            """, path)
        let chunks = snapshot.nodes.filter { $0.node.type == "DocumentChunk" }.count
        #expect(out == "\(snapshot.nodes.count) \(snapshot.edges.count) \(chunks)")
    }

    @Test("render: one self-contained page (no network) with the graph's counts and the chunks' text",
          .timeLimit(.minutes(10)))
    func render() async throws {
        let snapshot = try await Self.prepared().snapshot()
        let page = Self.directory + "/graph.html"
        let rendered = try WorkerProcess.run(["graph", "render", "--output", page] + Self.graph)
        #expect(rendered.status == 0, "\(rendered.stderr)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        // Self-contained: no external script, style, image or fetch.
        for needle in ["<script src", "<link", "http://", "https://", "fetch(", "XMLHttpRequest", "import("] {
            #expect(!html.contains(needle), "the page holds \(needle)")
        }
        #expect(html.contains("\"total\":{\"nodes\":\(snapshot.nodes.count),\"edges\":\(snapshot.edges.count)}"))
        // A chunk's text (with its question) is in the page for the click panel; no '<' of the data unescaped.
        #expect(html.contains("Question:"))
        let data = try #require(html.components(separatedBy: "type=\"application/json\">").last?.components(separatedBy: "</script>").first)
        #expect(!data.contains("<"))
    }

    @Test("render in headless Chromium: the screenshot shows coloured nodes, the page's script reports the graph's counts",
          .timeLimit(.minutes(10)), .enabled(if: Chromium.path != nil, "Debian's chromium (apt-get install chromium)"))
    func renderInChromium() async throws {
        let snapshot = try await Self.prepared().snapshot()
        let page = Self.directory + "/chromium.html"
        #expect(try WorkerProcess.run(["graph", "render", "--output", page] + Self.graph).status == 0)
        let chromium = try #require(Chromium.path)
        let dom = try Chromium.run(chromium, ["--dump-dom", "file://" + page])
        #expect(dom.contains("<title>memify graph: \(snapshot.nodes.count) nodes, \(snapshot.edges.count) edges</title>"), "\(dom.prefix(400))")
        #expect(dom.contains("data-nodes=\"\(snapshot.nodes.count)\" data-edges=\"\(snapshot.edges.count)\""))
        let shot = Self.directory + "/shot.png"
        _ = try Chromium.run(chromium, ["--screenshot=" + shot, "--window-size=1000,700", "file://" + page])
        // Pixels that are neither the page's background nor white nor grey: the coloured nodes.
        let coloured = try Python.run(Python.pngColouredPixels, shot)
        #expect((Int(coloured) ?? 0) > 2_000, "coloured pixels: \(coloured)")
    }

    @Test("a missing graph or one without tables: exit 64 naming it, nothing created")
    func missing() throws {
        let path = Self.directory + "/absent/nothing.db"
        let outcome = try WorkerProcess.run(["graph", "stats", "--graph", "sqlite:" + path, "--create"])
        #expect(outcome.status == 64 && outcome.stderr.contains("there is no graph at \(path)"), "\(outcome.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}

@Suite("graph commands on PostgreSQL", .serialized,
       .enabled(if: TestEnvironment.postgresURL != nil, "set MEMIFY_TEST_POSTGRES_URL (scripts/test starts a PostgreSQL)"))
struct GraphCommandPostgresTests {
    @Test("stats, show and export equal the graph's rows", .timeLimit(.minutes(10)))
    func all() async throws {
        let url = try #require(TestEnvironment.postgresURL)
        let schema = "gl_" + UUID().uuidString.prefix(8).lowercased()
        let directory = try GraphLook.temporaryDirectory("graph-look-pg")
        let graph = ["--graph", url, "--schema", schema]
        try GraphLook.persistExample(graph: graph, directory: directory)
        let writer = try await PostgresGraphWriter.connect(conninfo: url, placement: .shared(schema: schema))
        defer { Task { try? await writer.execute("DROP SCHEMA \"\(schema)\" CASCADE") } }
        try await GraphLook.checkStats(graph: graph, writer: writer)
        try await GraphLook.checkShow(graph: graph, writer: writer)
        try await GraphLook.checkExports(graph: graph, writer: writer, directory: directory)
        let absent = try WorkerProcess.run(["graph", "stats", "--graph", url, "--schema", schema + "_none"])
        #expect(absent.status == 64 && absent.stderr.contains("holds no graph tables"), "\(absent.stderr)")
        try await writer.execute("DROP SCHEMA \"\(schema)\" CASCADE")
    }
}

/// python3 for the readers the tests check exports with.
enum Python {
    static func has(_ module: String) -> Bool {
        (try? run("import \(module)")) != nil
    }

    /// Runs a script with arguments; its trimmed standard output, or an error on a non-zero exit.
    @discardableResult
    static func run(_ script: String, _ arguments: String...) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw FixtureError("python3 exited \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Counts a PNG's saturated pixels (max - min channel > 40), decoding 8-bit RGB/RGBA with zlib
    /// alone (no Pillow needed).
    static let pngColouredPixels = """
        import sys, zlib, struct
        data = open(sys.argv[1], "rb").read()
        assert data[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
        pos, idat = 8, b""
        while pos < len(data):
            n, kind = struct.unpack(">I4s", data[pos:pos + 8]); body = data[pos + 8:pos + 8 + n]; pos += 12 + n
            if kind == b"IHDR": w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            elif kind == b"IDAT": idat += body
        assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
        bpp = 3 if ctype == 2 else 4
        raw = zlib.decompress(idat); stride = w * bpp; prev = bytearray(stride); count = 0; i = 0
        for y in range(h):
            f = raw[i]; line = bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0; b = prev[x]; c = prev[x - bpp] if x >= bpp else 0
                if f == 1: line[x] = (line[x] + a) & 255
                elif f == 2: line[x] = (line[x] + b) & 255
                elif f == 3: line[x] = (line[x] + ((a + b) >> 1)) & 255
                elif f == 4:
                    p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            for x in range(0, stride, bpp):
                r, g, bl = line[x], line[x + 1], line[x + 2]
                if max(r, g, bl) - min(r, g, bl) > 40: count += 1
            prev = line
        print(count)
        """
}

/// Debian's `chromium`, headless.
enum Chromium {
    static var path: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("memify-chromium-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + profile, "--virtual-time-budget=3000"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
