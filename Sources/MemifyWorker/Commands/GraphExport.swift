import ArgumentParser
import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import Glibc

enum GraphExportFormat: String, ExpressibleByArgument, CaseIterable { case json, graphml, dot }

/// Buffered bytes to standard output or to a file that replaces its path only once complete
/// (written beside it, then renamed: a failed export never leaves half a file under the name).
final class ByteSink {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private(set) var failed: Int32 = 0

    private init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
    }

    static func standardOutput() -> ByteSink { ByteSink(fd: 1) }

    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    func write(bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    func flush() {
        var offset = 0
        while offset < buffer.count {
            let n = buffer[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { failed = errno; break }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Runs `body` with a sink on `path` (nil: standard output).
    static func writing<R>(to path: String?, _ body: (ByteSink) async throws -> R) async throws -> R {
        guard let path else {
            let sink = ByteSink(fd: 1)
            let result = try await body(sink)
            sink.flush()
            return result
        }
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw DatabaseError(.invalidArgument, operation: "write \(path)", message: "cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        let sink = ByteSink(fd: fd)
        do {
            let result = try await body(sink)
            sink.flush()
            if sink.failed != 0 || fsync(fd) != 0 {
                let code = sink.failed != 0 ? sink.failed : errno
                throw DatabaseError(.invalidArgument, operation: "write \(path)", message: String(cString: strerror(code)))
            }
            close(fd)
            guard rename(temporary, path) == 0 else {
                throw DatabaseError(.invalidArgument, operation: "write \(path)", message: "cannot rename \(temporary): \(String(cString: strerror(errno)))")
            }
            return result
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
    }
}

/// Writes a whole graph in one format, reading it in pages of `pageSize` rows: memory stays
/// bounded by a page whatever the graph's size.
struct GraphExporter {
    var format: GraphExportFormat
    var sink: ByteSink
    var pageSize = 2_000

    /// Returns the numbers of nodes and edges written.
    func export(_ reader: any GraphReader) async throws -> (Int, Int) {
        var nodes = 0, edges = 0
        switch format {
        case .json: sink.write("{\"nodes\":[")
        case .graphml:
            sink.write("""
                <?xml version="1.0" encoding="UTF-8"?>
                <graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
                xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">
                  <key id="d_name" for="node" attr.name="name" attr.type="string"/>
                  <key id="d_type" for="node" attr.name="type" attr.type="string"/>
                  <key id="d_text" for="node" attr.name="text" attr.type="string"/>
                  <key id="d_properties" for="node" attr.name="properties" attr.type="string"/>
                  <key id="e_relationship" for="edge" attr.name="relationship_name" attr.type="string"/>
                  <key id="e_properties" for="edge" attr.name="properties" attr.type="string"/>
                  <graph id="memify" edgedefault="directed">

                """)
        case .dot: sink.write("digraph memify {\n  graph [overlap=false];\n  node [shape=ellipse, style=filled, fontsize=10];\n  edge [fontsize=8];\n")
        }
        var after: String?
        while true {
            try Task.checkCancellation()
            let page = try await reader.nodePage(after: after, limit: pageSize)
            for node in page {
                write(node: node, first: nodes == 0)
                nodes += 1
            }
            guard page.count == pageSize, let last = page.last else { break }
            after = last.node.id
        }
        if format == .json { sink.write("],\"edges\":[") }
        var afterEdge: GraphEdge.Key?
        while true {
            try Task.checkCancellation()
            let page = try await reader.edgePage(after: afterEdge, limit: pageSize)
            for edge in page {
                write(edge: edge, index: edges)
                edges += 1
            }
            guard page.count == pageSize, let last = page.last else { break }
            afterEdge = last.edge.key
        }
        switch format {
        case .json: sink.write("]}\n")
        case .graphml: sink.write("  </graph>\n</graphml>\n")
        case .dot: sink.write("}\n")
        }
        return (nodes, edges)
    }

    private func write(node stored: StoredNode, first: Bool) {
        let node = stored.node
        switch format {
        case .json:
            sink.write((first ? "" : ",") + JSONWriter.string(GraphJSON.node(stored), style: .compact))
        case .graphml:
            var line = "    <node id=\"\(XMLText.escape(node.id))\">"
            line += "<data key=\"d_name\">\(XMLText.escape(node.name))</data><data key=\"d_type\">\(XMLText.escape(node.type))</data>"
            let text = GraphJSON.text(of: node)
            if !text.isEmpty { line += "<data key=\"d_text\">\(XMLText.escape(text))</data>" }
            line += "<data key=\"d_properties\">\(XMLText.escape(JSONWriter.string(.object(node.properties), style: .compact)))</data></node>\n"
            sink.write(line)
        case .dot:
            sink.write("  \(DOTText.quote(node.id)) [label=\(DOTText.quote(GraphJSON.label(of: node))), fillcolor=\(DOTText.quote(GraphPalette.color(node.type))), tooltip=\(DOTText.quote(node.type))];\n")
        }
    }

    private func write(edge stored: StoredEdge, index: Int) {
        let edge = stored.edge
        switch format {
        case .json:
            sink.write((index == 0 ? "" : ",") + JSONWriter.string(GraphJSON.edge(stored), style: .compact))
        case .graphml:
            sink.write("    <edge id=\"e\(index)\" source=\"\(XMLText.escape(edge.sourceID))\" target=\"\(XMLText.escape(edge.targetID))\">"
                       + "<data key=\"e_relationship\">\(XMLText.escape(edge.relationshipName))</data>"
                       + "<data key=\"e_properties\">\(XMLText.escape(JSONWriter.string(.object(edge.properties), style: .compact)))</data></edge>\n")
        case .dot:
            sink.write("  \(DOTText.quote(edge.sourceID)) -> \(DOTText.quote(edge.targetID)) [label=\(DOTText.quote(edge.relationshipName))];\n")
        }
    }
}

/// Rows as JSON values, and the short texts the exports and the page show.
enum GraphJSON {
    static func node(_ stored: StoredNode) -> JSONValue {
        .object(JSONObject([("id", .string(stored.node.id)), ("name", .string(stored.node.name)), ("type", .string(stored.node.type)),
                            ("properties", .object(stored.node.properties))]))
    }

    static func edge(_ stored: StoredEdge) -> JSONValue {
        .object(JSONObject([("source", .string(stored.edge.sourceID)), ("target", .string(stored.edge.targetID)),
                            ("relationship_name", .string(stored.edge.relationshipName)), ("properties", .object(stored.edge.properties))]))
    }

    /// A chunk's or a summary's text, an entity's description; "" for the others.
    static func text(of node: GraphNode) -> String {
        for key in ["text", "description"] {
            if case .string(let text)? = node.properties[key] { return text }
        }
        return ""
    }

    /// The name, or for nameless nodes (chunks, summaries) the start of their text.
    static func label(of node: GraphNode, length: Int = 40) -> String {
        if !node.name.isEmpty { return node.name }
        let text = text(of: node).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        if text.isEmpty { return node.type }
        return text.count > length ? String(text.prefix(length)) + "…" : text
    }
}

/// XML 1.0 character data and attribute values: the five specials escaped, and characters XML
/// cannot carry at all (C0 controls but tab, newline, return; lone surrogates never occur in a
/// Swift String; U+FFFE/U+FFFF) replaced by U+FFFD.
enum XMLText {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n": out.unicodeScalars.append(scalar)
            case "\r": out += "&#13;"
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

/// Graphviz double-quoted strings.
enum DOTText {
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": break
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// One colour per node type, the same in the DOT export and the HTML page.
enum GraphPalette {
    static let known: [String: String] = [
        "Entity": "#4e79a7", "EntityType": "#f28e2b", "DocumentChunk": "#59a14f", "TextSummary": "#edc948",
        "TextDocument": "#b07aa1", "NodeSet": "#9c755f",
    ]
    static let others = ["#e15759", "#76b7b2", "#ff9da7", "#bab0ac", "#8cd17d", "#d37295", "#a0cbe8", "#ffbe7d"]

    static func color(_ type: String) -> String {
        if let color = known[type] { return color }
        var hash: UInt32 = 2_166_136_261
        for byte in type.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return others[Int(hash % UInt32(others.count))]
    }
}
