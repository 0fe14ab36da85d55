import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import TestSupport
import Testing

/// cognee 1.6.5 itself reads the graph the worker wrote: its graph engine returns our nodes and
/// edges, and its CHUNKS_LEXICAL retriever finds a persisted turn by a phrase in its answer.
/// Needs a PostgreSQL and a python with cognee 1.6.5 (`MEMIFY_COGNEE_PYTHON`; `.ci/run` makes one).
@Suite("cognee 1.6.5 reads our graph",
       .enabled(if: TestEnvironment.postgresURL != nil && ProcessInfo.processInfo.environment["MEMIFY_COGNEE_PYTHON"] != nil,
                "set MEMIFY_TEST_POSTGRES_URL and MEMIFY_COGNEE_PYTHON (scripts/cognee-venv)"))
struct CogneeInteropTests {
    @Test("graph reads and CHUNKS_LEXICAL search see the worker's rows", .timeLimit(.minutes(10)))
    func cogneeReadsOurGraph() async throws {
        let base = try #require(TestEnvironment.postgresURL)
        let database = "memify_interop_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try await PostgresGraphWriter.connect(conninfo: base)
        try await admin.execute("CREATE DATABASE \(database)")
        let url = base.replacingOccurrences(of: "/memify_test", with: "/\(database)")
        let writer = try await PostgresGraphWriter.connect(conninfo: url)
        try await writer.migrate()

        // Two persisted turns, shaped as the pipeline shapes them (graph spec §4).
        let dataset = GraphIdentity.dataset(name: "main_dataset", ownerID: "0790003e-bc6e-4b83-bf57-1ebee0eb2d43")
        let turns = [
            // What the builtin extractor makes of it: entities, a Timestamp node, moved_to.
            ("sess-alice", "Where did Alice move?", "Alice moved to Paris in 2010",
             BuiltinExtractor.analyze(question: "Where did Alice move?", answer: "Alice moved to Paris in 2010")),
            ("sess-bob", "Where does Bob live?", "Bob lives in Berlin near the Tiergarten",
             ExtractedGraph(entities: [.init(name: "Bob", type: "Person", description: "Bob, who lives in Berlin"),
                                       .init(name: "Berlin", type: "City", description: "Capital of Germany")],
                            relations: [.init(source: "Bob", target: "Berlin", name: "lives in")], summary: "Bob lives in Berlin.")),
        ]
        var expectations: [String: Any] = [:]
        var nodes: [[String: String]] = []
        var edges: [[String]] = []
        for (i, (session, question, answer, extracted)) in turns.enumerated() {
            let text = "Session ID: \(session)\n\nQuestion: \(question)\n\nAnswer: \(answer)\n\n"
            let builder = CogneeDocumentBuilder(datasetID: dataset, documentID: GraphIdentity.uuid5("memify-test-doc-\(i)"),
                                                text: text, timestampMillis: 1_795_546_584_000, effectiveDate: "2026-11-24T18:56:24+00:00")
            let batch = builder.build(extracted)
            if i == 0 {
                #expect(batch.nodes.contains { $0.type == "Timestamp" && $0.id == "908fb2e6-243c-58e8-9c1d-d45dfdcc5c99" })
                #expect(batch.edges.contains { $0.relationshipName == "moved_to" && $0.sourceID == "afc75e41-4df3-5db9-907e-dcf55750efec" })
            }
            _ = try await writer.write(batch)
            nodes += batch.nodes.map { ["id": $0.id, "type": $0.type, "name": $0.name] }
            edges += batch.edges.map { [$0.sourceID, $0.targetID, $0.relationshipName] }
            if i == 1 { expectations["chunk_id"] = builder.chunkID }
        }
        expectations["nodes"] = nodes
        expectations["edges"] = edges
        expectations["phrase"] = "Tiergarten Berlin"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("memify-interop-\(database).json")
        try JSONSerialization.data(withJSONObject: expectations).write(to: file)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(ProcessInfo.processInfo.environment["MEMIFY_COGNEE_PYTHON"]))
        process.arguments = [TestEnvironment.repositoryDirectory + "/scripts/cognee-interop.py", url, file.path]
        let out = Pipe()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("memify-interop-\(database).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let report = String(decoding: data, as: UTF8.self)
        let stderrTail = String((try? String(contentsOf: log, encoding: .utf8))?.suffix(3000) ?? "")
        #expect(process.terminationStatus == 0, "cognee's reading: \(report)\n\(stderrTail)")
        #expect(report.contains("\"problems\": []"), "\(report)")
        try? await admin.execute("DROP DATABASE IF EXISTS \(database)")
    }
}
