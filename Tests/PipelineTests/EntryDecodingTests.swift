@testable import MemifyCore
@testable import GraphStore
@testable import SessionCache
@testable import Extraction
@testable import Pipeline
@testable import MemifyTools
import Foundation
import Testing

/// The differential test: every case of `Fixtures/entry-cases.json` carries cognee 1.6.5's own
/// verdict (scripts/gen-entry-cases.py ran cognee's SessionQAEntry over it). We must accept
/// exactly what cognee accepts, with the same values, and reject what it rejects.
@Suite("Entry decoding agrees with cognee 1.6.5")
struct EntryDecodingTests {
    struct Case: Decodable {
        var raw_b64: String
        var ok: Bool
        var entry: String?
        var error_type: String?
        var lone_surrogate: Bool?
    }

    struct CaseFile: Decodable {
        var cases: [Case]
    }

    static func loadCases() throws -> [Case] {
        let url = try #require(Bundle.module.url(forResource: "entry-cases", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(CaseFile.self, from: Data(contentsOf: url)).cases
    }

    @Test("every generated case matches cognee's verdict and values")
    func differential() throws {
        let cases = try Self.loadCases()
        #expect(cases.count > 800)
        var accepted = 0
        for (i, c) in cases.enumerated() {
            let raw = [UInt8](try #require(Data(base64Encoded: c.raw_b64)))
            let result = SessionQAEntry.decode(raw)
            if c.lone_surrogate == true {
                // cognee keeps an unpaired surrogate; it has no UTF-8 form, so we refuse it clearly.
                guard case .failure(let error) = result else {
                    Issue.record("case \(i): a lone surrogate was accepted")
                    continue
                }
                #expect(error.reason.contains("surrogate"), "case \(i): \(error.reason)")
                continue
            }
            switch (c.ok, result) {
            case (true, .success(let entry)):
                accepted += 1
                let expected = try JSONParser.parse(Array(try #require(c.entry).utf8))
                #expect(entry.jsonValue == expected, "case \(i): values differ from cognee's")
            case (false, .failure(let error)):
                #expect(!error.reason.isEmpty)
                if c.error_type == "ValidationError" { #expect(error.kind == .validation, "case \(i): \(error.reason)") }
                if c.error_type == "TypeError" { #expect(error.kind == .notAnObject, "case \(i): \(error.reason)") }
                if c.error_type == "JSONDecodeError" || c.error_type == "UnicodeDecodeError" {
                    #expect(error.kind == .invalidJSON, "case \(i): \(error.reason)")
                }
            case (true, .failure(let error)):
                Issue.record("case \(i): cognee accepts it, we reject it: \(error.reason) — \(String(decoding: raw.prefix(200), as: UTF8.self))")
            case (false, .success):
                Issue.record("case \(i): cognee rejects it (\(c.error_type ?? "?")), we accept it — \(String(decoding: raw.prefix(200), as: UTF8.self))")
            }
        }
        #expect(accepted > 150)
    }

    @Test("the canonical fast path reads what the full parser reads, wherever it applies (the plain cases, a feedback score included)")
    func canonicalFastPath() throws {
        let cases = try Self.loadCases()
        var fast = 0
        for (i, c) in cases.enumerated() {
            let raw = [UInt8](try #require(Data(base64Encoded: c.raw_b64)))
            guard let entry = raw.withUnsafeBufferPointer({ SessionQAEntry.decodeCanonical($0) }) else { continue }
            fast += 1
            let full = try JSONParser.parse(raw)
            #expect(SessionQAEntry.validate(full) == .success(entry), "case \(i): the fast path disagrees with the full parser")
        }
        // What cognee writes (json.dumps of a plain entry) takes the fast path.
        let written = SessionQAEntry(time: "2026-11-24T06:00:36.041000+00:00", question: "q \"quoted\" \u{e9}\n", context: "",
                                     answer: "a\u{1F600}", qaID: "id", feedbackText: nil)
        let bytes = Array(JSONWriter.string(written.jsonValue, style: .python).utf8)
        #expect(bytes.withUnsafeBufferPointer { SessionQAEntry.decodeCanonical($0) } == written)
        #expect(fast > 50, "only \(fast) cases took the fast path")

        // A feedback score cognee wrote (an int 1...5) stays on the fast path; anything else
        // about it (a string, out of range, a float, a leading zero, another field a number)
        // goes to the full path, which decides as before.
        var scored = written
        scored.feedbackScore = 5
        let scoredBytes = Array(JSONWriter.string(scored.jsonValue, style: .python).utf8)
        #expect(scoredBytes.withUnsafeBufferPointer { SessionQAEntry.decodeCanonical($0) } == scored)
        let text = String(decoding: scoredBytes, as: UTF8.self)
        for (variant, accepted) in [(#""feedback_score": "5""#, true), (#""feedback_score": 9"#, false),
                                    (#""feedback_score": 5.0"#, true), (#""feedback_score": 05"#, false),
                                    (#""feedback_score": -1"#, false), (#""feedback_score": 5e0"#, true)] {
            let changed = Array(text.replacingOccurrences(of: #""feedback_score": 5"#, with: variant).utf8)
            #expect(changed.withUnsafeBufferPointer { SessionQAEntry.decodeCanonical($0) } == nil, "\(variant)")
            let full = SessionQAEntry.decode(changed)
            #expect((try? full.get()) != nil ? accepted : !accepted, "\(variant): \(full)")
            if accepted { #expect(try full.get().feedbackScore == 5) }
        }
        let numberedQA = Array(text.replacingOccurrences(of: #""qa_id": "id""#, with: #""qa_id": 7"#).utf8)
        #expect(numberedQA.withUnsafeBufferPointer { SessionQAEntry.decodeCanonical($0) } == nil)
        #expect((try? SessionQAEntry.decode(numberedQA).get()) == nil)
    }

    @Test("a session's entries share one text buffer and stay independent values; a full arena moves on to a new buffer")
    func sharedTextStorage() throws {
        let cases = try Self.loadCases()
        let raws = try cases.map { [UInt8](try #require(Data(base64Encoded: $0.raw_b64))) }
        // All of them as one session: canonical, full-path and bad elements mixed.
        var read = SessionRead(key: SessionKey(userID: "u", sessionID: "s"), location: "memory")
        read.decode(elements: raws)
        // And again through an arena far too small, which must allocate as it goes.
        var small = SessionRead(key: SessionKey(userID: "u", sessionID: "s"), location: "memory")
        var arena = EntryTextArena(capacity: 1)
        for (i, raw) in raws.enumerated() { raw.withUnsafeBufferPointer { small.decode(index: i, bytes: $0, text: &arena) } }
        var good = 0
        for (i, raw) in raws.enumerated() {
            let alone = try? SessionQAEntry.decode(raw).get()
            let shared = read.elements.first { $0.index == i }?.entry
            #expect(shared == alone, "element \(i)")
            #expect(small.elements.first { $0.index == i }?.entry == alone, "element \(i), small arena")
            if let alone, let shared {
                good += 1
                #expect(shared.jsonValue == alone.jsonValue, "element \(i)")
            }
        }
        #expect(good > 150 && read.errors.count > 100, "\(good) good, \(read.errors.count) bad")
        #expect(read.elements.count + read.errors.count == raws.count)

        // A changed entry is a new value; its neighbours in the buffer are untouched.
        var changed = read.elements[1].entry
        let before = read.elements.map(\.entry.jsonValue)
        changed.question = "changed"
        changed.qaID = nil
        #expect(changed.question == "changed" && changed.qaID == nil)
        #expect(changed.time == read.elements[1].entry.time && changed.answer == read.elements[1].entry.answer)
        #expect(read.elements.map(\.entry.jsonValue) == before)
    }

    @Test("a validation error names every failing field")
    func namesFields() throws {
        let raw = #"{"time": 1, "question": "q", "context": "", "answer": "a", "feedback_score": 9}"#
        guard case .failure(let error) = SessionQAEntry.decode(Array(raw.utf8)) else {
            Issue.record("accepted")
            return
        }
        #expect(error.reason.contains("2 validation errors"))
        #expect(error.reason.contains("time: should be a string, got int"))
        #expect(error.reason.contains("feedback_score: must be between 1 and 5, got 9"))
    }

    @Test("cognee's normalizations: empty containers become null, node_ids before edge_ids")
    func normalizations() throws {
        let raw = #"{"time": "t", "question": "q", "context": "c", "answer": "a", "feedback_score": "4", "used_graph_element_ids": {"edge_ids": ["e"], "node_ids": []}, "memify_metadata": {}, "used_session_context_ids": []}"#
        let entry = try SessionQAEntry.decode(Array(raw.utf8)).get()
        #expect(entry.feedbackScore == 4)
        #expect(entry.memifyMetadata == nil)
        #expect(entry.usedSessionContextIDs == nil)
        #expect(entry.usedGraphElementIDs == .init(nodeIDs: [], edgeIDs: ["e"]))
        #expect(JSONWriter.string(entry.jsonValue, style: .compact).contains(#""used_graph_element_ids":{"node_ids":[],"edge_ids":["e"]}"#))
    }
}

@Suite("JSON writer")
struct JSONWriterTests {
    @Test("escaped texts are canonical and read as written: every escape json.dumps writes, at every offset around the copy's vectors")
    func escapedTextsFastPath() throws {
        let alphabet: [String] = ["a", "b", " ", "~", "\"", "\\", "/", "\n", "\t", "\r", "\u{8}", "\u{c}", "\u{0}", "\u{1f}",
                                  "\u{7f}", "é", "✓", "日", "🧠", "\u{2028}"]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        func text() -> String {
            // Mostly plain runs of every length, so escapes land at every offset of a 16, 32, 64-byte vector.
            var out = ""
            for _ in 0..<next(6) {
                out += String(repeating: "x", count: next(70))
                out += alphabet[next(alphabet.count)]
            }
            return out
        }
        for i in 0..<400 {
            let entry = SessionQAEntry(time: "2026-11-24T06:00:36.041000+00:00", question: text(), context: text(), answer: text(),
                                       qaID: i % 3 == 0 ? nil : text(), feedbackText: i % 2 == 0 ? nil : text(),
                                       feedbackScore: i % 5 == 0 ? 1 + i % 5 : nil)
            // As cognee writes it (ASCII, every other character escaped): the fast path reads it.
            let python = Array(JSONWriter.string(entry.jsonValue, style: .python).utf8)
            #expect(python.withUnsafeBufferPointer { SessionQAEntry.decodeCanonical($0) } == entry, "entry \(i), python style")
            // Raw UTF-8 (not what cognee writes): still read the same, by whichever path.
            let compact = Array(JSONWriter.string(entry.jsonValue, style: .compact).utf8)
            #expect(try SessionQAEntry.decode(compact).get() == entry, "entry \(i), raw UTF-8")
        }
        // Lone surrogates and bad escapes leave the fast path; the full parser judges them as before.
        let plain = String(decoding: JSONWriter.string(SessionQAEntry(time: "t", question: "QQ", context: "", answer: "a").jsonValue,
                                                      style: .python).utf8, as: UTF8.self)
        for (escape, accepted) in [(#"\ud800"#, false), (#"\udc00x"#, false), (#"\ud800\u0041"#, false), (#"\ud83e\udd14"#, true),
                                   (#"\x41"#, false), (#"\u00e"#, false), (#"\u00E9"#, true)] {
            let bytes = Array(plain.replacingOccurrences(of: "QQ", with: "Q\(escape)Q").utf8)
            let fast = bytes.withUnsafeBufferPointer { SessionQAEntry.decodeCanonical($0) }
            let full = SessionQAEntry.decode(bytes)
            #expect((fast != nil) == accepted, "\(escape)")
            #expect(((try? full.get()) != nil) == accepted, "\(escape): \(full)")
            if let fast { #expect(try full.get() == fast, "\(escape)") }
        }
    }

    @Test("python style reproduces cognee's stored bytes (spec §3.1 literal)")
    func pythonStyleLiteral() throws {
        let stored = #"{"time": "2026-11-24T18:39:19.770379+00:00", "question": "\u00dcn\u00efcode \u2713?", "context": "", "answer": "yes", "qa_id": "22222222-2222-4222-8222-222222222222", "feedback_text": null, "feedback_score": null, "used_graph_element_ids": null, "memify_metadata": null, "used_session_context_ids": null}"#
        let entry = try SessionQAEntry.decode(Array(stored.utf8)).get()
        #expect(entry.question == "Ünïcode ✓?")
        #expect(String(decoding: entry.cogneeJSON, as: UTF8.self) == stored)
    }

    @Test("astral characters become surrogate pairs; control characters short or \\u00XX escapes")
    func escapes() {
        let s = JSONWriter.string(.string("🤔\u{0}\u{1f}\n\t\"\\/\u{7f}é"), style: .python)
        #expect(s == #""\ud83e\udd14\u0000\u001f\n\t\"\\/\u007f\u00e9""#)
        let c = JSONWriter.string(.string("🤔\u{0}\n\u{7f}é"), style: .compact)
        #expect(c == "\"🤔\\u0000\\n\u{7f}é\"")
    }

    @Test("what the writer writes, the parser reads back", arguments: [
        "", "plain", "ü", "🧠 emoji", "\u{0}nul", "quote\"back\\slash", "\u{2028}\u{2029}", "日本語", String(repeating: "x", count: 5000),
    ])
    func roundTrip(_ text: String) throws {
        for style in [JSONWriter.Style.python, .compact] {
            let value = JSONValue.array([.string(text), .number(JSONNumber(42)), .null, .bool(true)])
            #expect(try JSONParser.parse(JSONWriter.string(value, style: style)) == value)
        }
    }
}

@Suite("JSON parser")
struct JSONParserTests {
    @Test("errors carry Python's wording and the byte offset")
    func errorOffsets() {
        #expect(throws: JSONParseError(message: "Expecting value", offset: 0)) { try JSONParser.parse("") }
        #expect(throws: JSONParseError(message: "Extra data", offset: 3)) { try JSONParser.parse("{} {}") }
        #expect(throws: JSONParseError(message: "Unterminated string starting", offset: 9)) {
            try JSONParser.parse(#"{"time": "2026"#)
        }
        #expect(throws: JSONParseError(message: "Invalid control character", offset: 2)) { try JSONParser.parse("\"a\tb\"") }
    }

    @Test("big integers keep every digit; -0 is 0")
    func numbers() throws {
        #expect(try JSONParser.parse("123456789012345678901234567890") == .number(JSONNumber(literal: "123456789012345678901234567890", isInteger: true)))
        #expect(try JSONParser.parse("-0") == .number(JSONNumber(0)))
        #expect(try JSONParser.parse("1.5e3") == .number(JSONNumber(literal: "1.5e3", isInteger: false)))
    }

    @Test("nesting is bounded instead of overflowing the stack")
    func depth() {
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
    }
}
