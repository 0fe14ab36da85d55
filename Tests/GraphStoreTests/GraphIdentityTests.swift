import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import Testing

/// The literal ids of the graph spec §3 and §4, which cognee 1.6.5 wrote to PostgreSQL.
@Suite("cognee's id rules")
struct GraphIdentityTests {
    @Test("entity, type, timestamp and node-set ids", arguments: [
        (GraphIdentity.entity("Alice"), "afc75e41-4df3-5db9-907e-dcf55750efec"),
        (GraphIdentity.entity("ALICE"), "afc75e41-4df3-5db9-907e-dcf55750efec"),
        (GraphIdentity.entity("Paris"), "27d985ea-055a-54fb-bcc4-f29d9d892867"),
        (GraphIdentity.entityType("Person"), "99a82eec-bb35-5bb5-9ed2-e73fc7a756de"),
        (GraphIdentity.entityType("City"), "4f155b46-e814-58f6-97cf-55d2ac3a572d"),
        (GraphIdentity.timestamp("2010"), "908fb2e6-243c-58e8-9c1d-d45dfdcc5c99"),
        (GraphIdentity.nodeSet("user_sessions_from_cache"), "5770a473-02b5-5c6d-ab20-9a2923c631e1"),
        (GraphIdentity.edgeObject(source: "afc75e41-4df3-5db9-907e-dcf55750efec", relationship: "moved_to",
                                  target: "27d985ea-055a-54fb-bcc4-f29d9d892867"), "f9f17c0b-61eb-5674-bb9f-d49255c47461"),
        (GraphIdentity.edgeType("alice is a person."), "1140760d-02ad-5a7c-9f4e-6ddc37d599de"),
    ])
    func literals(_ computed: String, _ expected: String) {
        #expect(computed == expected)
    }

    @Test("the worked example: chunk, summary and document name of the sess-alice window")
    func workedExample() {
        let text = "Session ID: sess-alice\n\nQuestion: Where did Alice move?\n\nAnswer: Alice moved to Paris in 2010\n\n"
        #expect(text.utf8.count == 95)
        #expect(GraphIdentity.documentName(text) == "text_c088a51b95b9b8b5a8b8ff8e46356be2")
        #expect(Digest.hex(Digest.sha256(Array(text.utf8))).hasPrefix("67288231"))
        #expect(Digest.hex(Digest.sha256(Array(text.utf8))).hasSuffix("a49c"))
        let chunk = GraphIdentity.documentChunk(documentID: "edf1c76b-7b26-490c-9cc0-07beb9609ccf", text: text)
        #expect(chunk == "6841212e-f9f2-575b-a190-ab74a690c9d1")
        #expect(GraphIdentity.textSummary(chunkID: chunk) == "d01e1318-52bd-5f35-af89-0db64f27bed3")
    }

    @Test("names: the stored name keeps spaces, the id input does not")
    func names() {
        #expect(GraphIdentity.displayName("Marie Curie's") == "marie curies")
        #expect(GraphIdentity.norm("Marie Curie's") == "marie_curies")
        #expect(GraphIdentity.entity("Marie Curie") == GraphIdentity.uuid5("Entity:marie_curie"))
        #expect(GraphIdentity.relationshipName("Moved To") == "moved_to")
    }

    @Test("digests match Python's hashlib", arguments: [
        ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "d41d8cd98f00b204e9800998ecf8427e"),
        ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "900150983cd24fb0d6963f7d28e17f72"),
        (String(repeating: "a", count: 1000), "291e9a6c66994949b57ba5e650361e98fc36b1ba", "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3", "cabe45dcc9ae5b66ba86600cca6b8ba8"),
    ])
    func digests(_ input: String, _ sha1: String, _ sha256: String, _ md5: String) {
        #expect(Digest.hex(Digest.sha1(Array(input.utf8))) == sha1)
        #expect(Digest.hex(Digest.sha256(Array(input.utf8))) == sha256)
        #expect(Digest.hex(Digest.md5(Array(input.utf8))) == md5)
    }

    @Test("SHA-1 at every padding boundary (one or two tail blocks) matches Python's hashlib", arguments: [
        (55, "ddf57317ef34bfee3b6df83d359098930eb278bc"), (56, "a0d492bb0fc889d0eca3bc137066ab6f4f74f369"),
        (63, "c55856749bef509bdfe6bfebfc7bf4e793e82132"), (64, "bede92be29c3874e1b54ddc77988d606fc857a8e"),
        (65, "b05a80522b053d6dc7e0a517d0e70212c7dad11f"), (119, "504e27376a6e0f0dba8295b85cb25dc4dfa17d23"),
        (120, "82134b02fb3f702491be9bed581eeab59334acb2"), (128, "a09133e6730ffe899efb70204cb5646cd5dc24ee"),
    ])
    func sha1Boundaries(_ length: Int, _ expected: String) {
        let bytes = (0..<length).map { UInt8(($0 * 7 + 3) % 256) }
        #expect(Digest.hex(Digest.sha1(bytes)) == expected)
        #expect(Digest.hex(Digest.sha1(bytes.lazy.map { $0 })) == expected, "a collection without contiguous storage")
    }
}
