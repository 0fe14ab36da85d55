import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import Testing

/// The worked example of the graph spec §4 ("Alice moved to Paris in 2010"), without the
/// Timestamp node (which the extractor, not the builder, decides on).
@Suite("cognee's node and edge shapes for one document")
struct CogneeDocumentBuilderTests {
    static let text = "Session ID: sess-alice\n\nQuestion: Where did Alice move?\n\nAnswer: Alice moved to Paris in 2010\n\n"
    static let builder = CogneeDocumentBuilder(
        datasetID: "f7b28d3e-b465-5c84-bbd5-93c5529d6536", documentID: "edf1c76b-7b26-490c-9cc0-07beb9609ccf", text: text,
        timestampMillis: 1_795_546_584_000, effectiveDate: "2026-11-24T18:41:36.807946+00:00")
    static let extracted = ExtractedGraph(
        entities: [.init(name: "Alice", type: "Person", description: "Alice, who moved to Paris in 2010"),
                   .init(name: "Paris", type: "City", description: "Capital of France")],
        relations: [.init(source: "Alice", target: "Paris", name: "moved to", description: "Alice moved to Paris in 2010.")],
        summary: "This chunk is about:\n- People: Alice\n- Places: Paris\n\nFacts:\n- Alice moved to Paris in 2010.")

    @Test("the spec's ids, names and types")
    func nodes() throws {
        let batch = Self.builder.build(Self.extracted)
        let byID = Dictionary(uniqueKeysWithValues: batch.nodes.map { ($0.id, $0) })
        #expect(batch.nodes.count == 8)
        #expect(byID["5770a473-02b5-5c6d-ab20-9a2923c631e1"]?.type == "NodeSet")
        #expect(byID["edf1c76b-7b26-490c-9cc0-07beb9609ccf"]?.name == "text_c088a51b95b9b8b5a8b8ff8e46356be2")
        let chunk = try #require(byID["6841212e-f9f2-575b-a190-ab74a690c9d1"])
        #expect(chunk.type == "DocumentChunk" && chunk.name == "")
        #expect(chunk.properties["text"] == .string(Self.text))
        #expect(chunk.properties["document_id"] == .string("edf1c76b-7b26-490c-9cc0-07beb9609ccf"))
        #expect(byID["d01e1318-52bd-5f35-af89-0db64f27bed3"]?.type == "TextSummary")
        let alice = try #require(byID["afc75e41-4df3-5db9-907e-dcf55750efec"])
        #expect(alice.name == "alice" && alice.type == "Entity")
        #expect(alice.properties["relations"] == nil, "an entity holding edges has no relations property")
        #expect(byID["27d985ea-055a-54fb-bcc4-f29d9d892867"]?.properties["relations"] == .array([]))
        #expect(byID["99a82eec-bb35-5bb5-9ed2-e73fc7a756de"]?.name == "person")
        #expect(byID["4f155b46-e814-58f6-97cf-55d2ac3a572d"]?.properties["description"] == .string("city"))
        #expect(alice.properties["created_at"] == .number(JSONNumber(literal: "1795546584000", isInteger: true)))
        #expect(alice.sourceRefKeys == [Self.builder.chunkKey])
        #expect(byID["edf1c76b-7b26-490c-9cc0-07beb9609ccf"]?.sourceRefKeys == ["source_ref:v1:f7b28d3e-b465-5c84-bbd5-93c5529d6536:edf1c76b-7b26-490c-9cc0-07beb9609ccf"])
    }

    @Test("the spec's edges and edge texts, fallbacks included")
    func edges() throws {
        let batch = Self.builder.build(Self.extracted)
        #expect(batch.edges.count == 12)
        func text(_ relationship: String, from source: String? = nil) -> String? {
            guard case .string(let t)? = batch.edges.first(where: { $0.relationshipName == relationship && (source == nil || $0.sourceID == source) })?.properties["edge_text"] else { return nil }
            return t
        }
        #expect(text("is_part_of") == "Session ID: sess-alice Question: Where did Alice move? Answer: Alice moved to Pa is part of text_c088a51b95b9b8b5a8b8ff8e46356be2.")
        #expect(text("is_a", from: GraphIdentity.entity("Alice")) == "alice is a person.")
        #expect(text("moved_to") == "Alice moved to Paris in 2010.")
        #expect(text("contains") == "Document chunk mentions alice: Alice, who moved to Paris in 2010")
        #expect(text("belongs_to_set", from: GraphIdentity.entity("Alice")) == "alice belongs to set user_sessions_from_cache.")
        #expect(text("made_from")?.hasPrefix("This chunk is about: - People: Alice - Places: Paris Facts: - Alice moved to Par made from Session ID:") == true)
        let movedTo = try #require(batch.edges.first { $0.relationshipName == "moved_to" })
        #expect(movedTo.properties["edge_object_id"] == .string("f9f17c0b-61eb-5674-bb9f-d49255c47461"))
        #expect(movedTo.properties["updated_at"] == .string("2026-11-24 18:56:24"))
    }

    @Test("the same turn always gives the same rows")
    func deterministic() {
        #expect(Self.builder.build(Self.extracted).prepared().nodes == Self.builder.build(Self.extracted).prepared().nodes)
    }
}
