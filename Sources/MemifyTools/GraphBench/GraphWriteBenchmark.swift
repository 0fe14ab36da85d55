import MemifyCore
package import GraphStore
import SessionCache
import Extraction
import Pipeline
import Foundation

/// Measures the PostgreSQL graph writer against a raw `COPY` of the same rows into empty tables
/// of the same schema, in the same run (scripts/bench-graph).
package enum GraphWriteBenchmark {
    package struct Measurement: Sendable {
        package var mode: String
        package var rows: Int
        package var seconds: Double
        package var rowsPerSecond: Double { Double(rows) / seconds }
    }

    /// A deterministic synthetic graph: entity-like nodes with ~300-byte properties, and edges
    /// from each node to earlier ones (so every edge's nodes exist by the time it is written).
    package static func batches(nodes: Int, edges: Int, batchSize: Int) -> [GraphBatch] {
        stride(from: 0, to: nodes, by: batchSize).map { batch(from: $0, nodes: nodes, edges: edges, batchSize: batchSize) }
    }

    /// The batch of nodes `start..<start + batchSize` (and their edges) of that graph, made on its own.
    package static func batch(from start: Int, nodes: Int, edges: Int, batchSize: Int) -> GraphBatch {
        // Node i > 0 has `edges / (nodes - 1)` edges, one more for the first `edges % (nodes - 1)`:
        // `edges` in all (node 0 has no earlier node to point at).
        let sources = max(1, nodes - 1)
        let end = min(nodes, start + batchSize)
        var batch = GraphBatch(runID: "bench-run")
        for i in start..<end {
            let key = SourceRef.chunk(datasetID: "00000000-0000-4000-8000-000000000000", dataID: "doc-\(i / 10)", chunkID: "chunk-\(i / 10)")
            batch.nodes.append(GraphNode(
                id: GraphIdentity.entity("entity \(i)"), name: "entity \(i)", type: "Entity",
                properties: JSONObject([
                    ("description", .string("Entity number \(i), mentioned in a synthetic benchmark conversation about graphs")),
                    ("belongs_to_set", .array([.string("user_sessions_from_cache")])),
                    ("metadata", .object(JSONObject([("index_fields", .array([.string("name")]))]))),
                    ("created_at", .number(JSONNumber(1_795_546_584_000 + i))),
                    ("updated_at", .number(JSONNumber(1_795_546_584_000 + i))),
                    ("version", .number(JSONNumber(1))), ("topological_rank", .number(JSONNumber(0))),
                    ("ontology_valid", .bool(false)),
                    ("feedback_weight", .number(JSONNumber(literal: "0.5", isInteger: false))),
                    ("importance_weight", .number(JSONNumber(literal: "0.5", isInteger: false))),
                ]), sourceRefKey: key))
            let edgesPerNode = edges / sources + ((i - 1) < edges % sources ? 1 : 0)
            for k in 0..<edgesPerNode where i > 0 {
                let target = (i - 1 - (k * 7) % max(1, i)) % max(1, i)
                let source = GraphIdentity.entity("entity \(i)"), targetID = GraphIdentity.entity("entity \(target)")
                // Distinct per k, so dense graphs (many edges per node) have no duplicate keys.
                let relationship = ["related_to", "mentions", "works_with", "located_in"][k % 4] + (k >= 4 ? "_\(k / 4)" : "")
                batch.edges.append(GraphEdge(
                    sourceID: source, targetID: targetID, relationshipName: relationship,
                    properties: JSONObject([
                        ("source_node_id", .string(source)), ("target_node_id", .string(targetID)),
                        ("relationship_name", .string(relationship)), ("relationship_type", .string(relationship)),
                        ("edge_text", .string("entity \(i) \(relationship.replacingAll("_", with: " ")) entity \(target).")),
                        ("edge_object_id", .string(GraphIdentity.edgeObject(source: source, relationship: relationship, target: targetID))),
                        ("feedback_weight", .number(JSONNumber(literal: "0.5", isInteger: false))),
                        ("updated_at", .string("2026-11-24 18:41:40")),
                    ]), sourceRefKey: key))
            }
        }
        return batch
    }

    /// The raw limit: the same rows, COPYed into empty tables of the same schema. Rows are made
    /// and turned into COPY text a chunk at a time (about `chunkRows`), outside the clock, so
    /// tens of millions of rows fit in memory; only the COPYs are timed.
    package static func rawCopy(conninfo: String, schema: String, nodes: Int, edges: Int, batchSize: Int,
                               chunkRows: Int = 500_000) async throws -> Measurement {
        let raw = BlockingExecutor(label: "memify.bench.copy")
        let rawConnection = try await raw.run { () throws -> PostgresConnection in
            let connection = try PostgresConnection(conninfo: conninfo)
            try connection.execute("DROP SCHEMA IF EXISTS \(PostgresGraphWriter.quoteIdentifier(schema)) CASCADE", operation: "benchmark")
            return connection
        }
        try await PostgresGraphWriter.connect(conninfo: conninfo, placement: .shared(schema: schema)).migrate()
        try await raw.run {
            try rawConnection.execute("SET search_path TO \(PostgresGraphWriter.quoteIdentifier(schema))", operation: "benchmark")
        }
        var rows = 0
        var seconds = 0.0
        var next = 0
        while next < nodes {
            var nodeData: [UInt8] = [], edgeData: [UInt8] = []
            var chunk = 0
            while next < nodes, chunk < chunkRows {
                let batch = batch(from: next, nodes: nodes, edges: edges, batchSize: batchSize)
                next += batchSize
                func append(_ fields: [String], to data: inout [UInt8]) {
                    for field in fields {
                        CopyText.append(field, to: &data)
                        data.append(0x09)
                    }
                    data[data.count - 1] = 0x0A
                }
                for node in batch.nodes {
                    append([node.id, node.name, node.type, JSONWriter.string(.object(node.properties), style: .compact),
                            PostgresGraphWriter.arrayLiteral(node.sourceRefKeys)], to: &nodeData)
                }
                for edge in batch.edges {
                    append([edge.sourceID, edge.targetID, edge.relationshipName, JSONWriter.string(.object(edge.properties), style: .compact),
                            PostgresGraphWriter.arrayLiteral(edge.sourceRefKeys)], to: &edgeData)
                }
                chunk += batch.nodes.count + batch.edges.count
            }
            let start = monotonic()
            try await raw.run { [nodeData, edgeData] in
                try rawConnection.copyIn("COPY graph_node (id, name, type, properties, source_ref_keys) FROM STDIN", data: nodeData,
                                         operation: "benchmark COPY")
                try rawConnection.copyIn("COPY graph_edge (source_id, target_id, relationship_name, properties, source_ref_keys) FROM STDIN",
                                         data: edgeData, operation: "benchmark COPY")
            }
            seconds += monotonic() - start
            rows += chunk
        }
        return Measurement(mode: "raw_copy", rows: rows, seconds: seconds)
    }

    /// The worker: one transaction per batch into a fresh schema, then the same batches again.
    package static func worker(conninfo: String, schema: String, batches: [GraphBatch]) async throws -> (Measurement, Measurement) {
        let writer = try await PostgresGraphWriter.connect(conninfo: conninfo, placement: .shared(schema: schema))
        try await writer.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
        try await writer.migrate()
        let rows = batches.reduce(0) { $0 + $1.nodes.count + $1.edges.count }
        var start = monotonic()
        var written = 0
        for batch in batches { written += try await writer.write(batch).rowsWritten }
        let fresh = Measurement(mode: "worker_fresh", rows: rows, seconds: monotonic() - start)
        guard written == rows else {
            throw DatabaseError(.invalidArgument, operation: "benchmark", message: "wrote \(written) of \(rows) rows")
        }
        start = monotonic()
        var rewritten = 0
        for batch in batches { rewritten += try await writer.write(batch).rowsWritten }
        let again = Measurement(mode: "worker_reupsert", rows: rows, seconds: monotonic() - start)
        guard rewritten == 0 else {
            throw DatabaseError(.invalidArgument, operation: "benchmark", message: "the re-upsert rewrote \(rewritten) unchanged rows")
        }
        return (fresh, again)
    }

    static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
