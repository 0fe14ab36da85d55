package import MemifyCore
/// One question/answer turn as cognee 1.6.5 stores it (`SessionQAEntry`, spec §3.1), holding the
/// values cognee's own `get_session` returns after validation: empty containers normalized to
/// nil, `used_graph_element_ids` rebuilt as `node_ids` then `edge_ids`, unknown keys dropped.
package struct SessionQAEntry: Sendable, Equatable {
    package struct UsedGraphElementIDs: Sendable, Equatable {
        package var nodeIDs: [String]?
        package var edgeIDs: [String]?

        package init(nodeIDs: [String]? = nil, edgeIDs: [String]? = nil) {
            self.nodeIDs = nodeIDs
            self.edgeIDs = edgeIDs
        }
    }

    /// The field names in cognee's serialization order.
    package static let fieldNames = [
        "time", "question", "context", "answer", "qa_id", "feedback_text", "feedback_score",
        "used_graph_element_ids", "memify_metadata", "used_session_context_ids",
    ]

    package var time: String {
        get { text(0) }
        set { self = replacing(time: newValue) }
    }
    package var question: String {
        get { text(1) }
        set { self = replacing(question: newValue) }
    }
    package var context: String {
        get { text(2) }
        set { self = replacing(context: newValue) }
    }
    package var answer: String {
        get { text(3) }
        set { self = replacing(answer: newValue) }
    }
    package var qaID: String? {
        get { absent & Self.qaIDAbsent != 0 ? nil : text(4) }
        set { self = replacing(qaID: .some(newValue)) }
    }
    package var feedbackText: String? {
        get { absent & Self.feedbackTextAbsent != 0 ? nil : text(5) }
        set { self = replacing(feedbackText: .some(newValue)) }
    }
    /// 1...5 when set. cognee's pydantic model coerces `true`, `3.0` and `"3"` to an int.
    package var feedbackScore: Int?
    package var usedGraphElementIDs: UsedGraphElementIDs? {
        get { rare?.usedGraphElementIDs }
        set { self = replacing(usedGraphElementIDs: .some(newValue)) }
    }
    /// Values are bools, ints, strings or lists of strings (1.6.5).
    package var memifyMetadata: JSONObject? {
        get { rare?.memifyMetadata }
        set { self = replacing(memifyMetadata: .some(newValue)) }
    }
    package var usedSessionContextIDs: [String]? {
        get { rare?.usedSessionContextIDs }
        set { self = replacing(usedSessionContextIDs: .some(newValue)) }
    }

    /// This entry with the given fields changed (a setter's work: the texts are stored together).
    private func replacing(time: String? = nil, question: String? = nil, context: String? = nil, answer: String? = nil,
                           qaID: String?? = nil, feedbackText: String?? = nil, usedGraphElementIDs: UsedGraphElementIDs?? = nil,
                           memifyMetadata: JSONObject?? = nil, usedSessionContextIDs: [String]?? = nil) -> SessionQAEntry {
        SessionQAEntry(time: time ?? self.time, question: question ?? self.question, context: context ?? self.context,
                       answer: answer ?? self.answer, qaID: qaID ?? self.qaID, feedbackText: feedbackText ?? self.feedbackText,
                       feedbackScore: feedbackScore, usedGraphElementIDs: usedGraphElementIDs ?? self.usedGraphElementIDs,
                       memifyMetadata: memifyMetadata ?? self.memifyMetadata,
                       usedSessionContextIDs: usedSessionContextIDs ?? self.usedSessionContextIDs)
    }

    // Storage. A reader holds many entries for a moment and most of their texts are never read
    // one by one (an unchanged turn is skipped, a dump writes them out), so an entry keeps its
    // six texts as UTF-8, one after another, in an ``EntryText`` buffer that the entries of one
    // read share: one allocation a session, not four to six an entry. Each text becomes a
    // `String` when asked for.

    /// Holds the UTF-8 of time, question, context, answer, qa_id and feedback_text, in that order.
    private let storage: EntryText
    /// `bounds[0]` is where the time starts in `storage`, `bounds[i + 1]` where text `i` ends
    /// (each starts where the one before ends).
    private let bounds: SIMD8<UInt32>
    /// ``qaIDAbsent`` and ``feedbackTextAbsent``: which of the two optional texts are nil.
    private let absent: UInt8
    /// The three fields cognee itself leaves null in almost every entry.
    private let rare: Rare?

    private static let qaIDAbsent: UInt8 = 1 << 4
    private static let feedbackTextAbsent: UInt8 = 1 << 5

    private final class Rare: Sendable {
        let usedGraphElementIDs: UsedGraphElementIDs?
        let memifyMetadata: JSONObject?
        let usedSessionContextIDs: [String]?

        init(_ usedGraphElementIDs: UsedGraphElementIDs?, _ memifyMetadata: JSONObject?, _ usedSessionContextIDs: [String]?) {
            self.usedGraphElementIDs = usedGraphElementIDs
            self.memifyMetadata = memifyMetadata
            self.usedSessionContextIDs = usedSessionContextIDs
        }
    }

    package init(time: String, question: String, context: String, answer: String, qaID: String? = nil,
                feedbackText: String? = nil, feedbackScore: Int? = nil,
                usedGraphElementIDs: UsedGraphElementIDs? = nil, memifyMetadata: JSONObject? = nil,
                usedSessionContextIDs: [String]? = nil) {
        let texts = [time, question, context, answer, qaID ?? "", feedbackText ?? ""]
        let total = texts.reduce(0) { $0 + $1.utf8.count }
        var arena = EntryTextArena(capacity: total)
        let (start, address) = arena.space(for: total)
        var bounds = SIMD8<UInt32>(repeating: UInt32(start))
        var end = 0
        for (i, text) in texts.enumerated() {
            for byte in text.utf8 {
                address[end] = byte
                end += 1
            }
            bounds[i + 1] = UInt32(start + end)
        }
        arena.commit(end)
        self.storage = arena.buffer
        self.bounds = bounds
        self.absent = (qaID == nil ? Self.qaIDAbsent : 0) | (feedbackText == nil ? Self.feedbackTextAbsent : 0)
        self.feedbackScore = feedbackScore
        self.rare = usedGraphElementIDs == nil && memifyMetadata == nil && usedSessionContextIDs == nil
            ? nil : Rare(usedGraphElementIDs, memifyMetadata, usedSessionContextIDs)
    }

    /// An entry of texts only, as the canonical fast path reads it.
    private init(storage: EntryText, bounds: SIMD8<UInt32>, absent: UInt8, feedbackScore: Int?) {
        self.storage = storage
        self.bounds = bounds
        self.absent = absent
        self.feedbackScore = feedbackScore
        self.rare = nil
    }

    @inline(__always) private func text(_ i: Int) -> String {
        let start = Int(bounds[i]), end = Int(bounds[i + 1])
        return storage.withUnsafeMutablePointerToElements {
            String(decoding: UnsafeBufferPointer(start: $0 + start, count: end - start), as: UTF8.self)
        }
    }

    /// Field by field, as when each was its own `String`.
    package static func == (a: Self, b: Self) -> Bool {
        a.time == b.time && a.question == b.question && a.context == b.context && a.answer == b.answer
            && a.qaID == b.qaID && a.feedbackText == b.feedbackText && a.feedbackScore == b.feedbackScore
            && a.usedGraphElementIDs == b.usedGraphElementIDs && a.memifyMetadata == b.memifyMetadata
            && a.usedSessionContextIDs == b.usedSessionContextIDs
    }

    /// The entry as a JSON object with cognee's ten fields in cognee's order (its `model_dump()`).
    package var jsonValue: JSONValue {
        func strings(_ list: [String]?) -> JSONValue {
            list.map { .array($0.map(JSONValue.string)) } ?? .null
        }
        var object = JSONObject()
        object["time"] = .string(time)
        object["question"] = .string(question)
        object["context"] = .string(context)
        object["answer"] = .string(answer)
        object["qa_id"] = qaID.map(JSONValue.string) ?? .null
        object["feedback_text"] = feedbackText.map(JSONValue.string) ?? .null
        object["feedback_score"] = feedbackScore.map { .number(JSONNumber($0)) } ?? .null
        if let ids = usedGraphElementIDs {
            var inner = JSONObject()
            if let nodes = ids.nodeIDs { inner["node_ids"] = strings(nodes) }
            if let edges = ids.edgeIDs { inner["edge_ids"] = strings(edges) }
            object["used_graph_element_ids"] = .object(inner)
        } else {
            object["used_graph_element_ids"] = .null
        }
        object["memify_metadata"] = memifyMetadata.map(JSONValue.object) ?? .null
        object["used_session_context_ids"] = strings(usedSessionContextIDs)
        return .object(object)
    }
}

/// Why one cache element is not a valid entry. `description` names the problem without
/// echoing the element's text.
package struct EntryDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Kind: String, Sendable, Equatable {
        /// Not UTF-8, not JSON, or trailing data.
        case invalidJSON = "invalid_json"
        /// Valid JSON, but not an object (cognee: "argument after ** must be a mapping").
        case notAnObject = "not_an_object"
        /// An object that cognee's `SessionQAEntry` model rejects.
        case validation
    }

    package var kind: Kind
    package var reason: String

    package init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    package var description: String { reason }
}

extension SessionQAEntry {
    /// Decodes one stored element (the bytes of one Redis list item, or one item of a diskcache
    /// JSON array) the way cognee's `SessionQAEntry(**json.loads(raw))` does.
    @inline(__always)
    package static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<SessionQAEntry, EntryDecodingError> {
        if let entry = decodeCanonical(bytes) { return .success(entry) }
        return decodeFull(bytes)
    }

    /// ``decode(_:)-(UnsafeBufferPointer<UInt8>)`` without the canonical fast path: the full
    /// parser and validation.
    static func decodeFull(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<SessionQAEntry, EntryDecodingError> {
        // The ten slots live on the stack: one element allocates only its own strings.
        return withUnsafeTemporaryAllocation(of: JSONValue?.self, capacity: fieldNames.count) { slots in
            let fields = UnsafeMutableBufferPointer(rebasing: slots[0..<fieldNames.count])
            fields.initialize(repeating: nil)
            defer { fields.deinitialize() }
            let nonObject: JSONValue?
            do {
                nonObject = try JSONParser.parseFields(bytes, names: fieldNameBytes, into: fields)
            } catch {
                return .failure(EntryDecodingError(.invalidJSON, "invalid JSON: \(error)"))
            }
            if let value = nonObject { return validate(value) }
            return validate(fields: UnsafeBufferPointer(fields))
        }
    }

    private static let fieldNameBytes = fieldNames.map { Array($0.utf8) }
    private static let canonicalPrefixes = JSONParser.CanonicalPrefixes(names: fieldNames)

    /// The entry as cognee writes almost every one (`json.dumps` of its ten fields, in order),
    /// read straight into strings: the four texts, `qa_id` and `feedback_text` strings (or the
    /// last two null), `feedback_score` null or an integer 1...5, and the three other fields
    /// null. Anything else is nil, and goes through the full parser and validation, which then
    /// decide (the same way for what this accepts).
    @inline(__always)
    static func decodeCanonical(_ bytes: UnsafeBufferPointer<UInt8>) -> SessionQAEntry? {
        var out: [SessionRead.Element] = []
        var arena = EntryTextArena(capacity: bytes.count)
        guard appendCanonical(bytes, index: 0, text: &arena, to: &out) else { return nil }
        return out[0].entry
    }

    /// ``decodeCanonical(_:)`` appending the entry straight to `elements` (no copy on the way),
    /// its texts written into `arena`; false, with nothing appended, when the element is not
    /// canonical.
    @inline(__always)
    static func appendCanonical(_ bytes: UnsafeBufferPointer<UInt8>, index: Int, text arena: inout EntryTextArena,
                                to elements: inout [SessionRead.Element]) -> Bool {
        // The values are written straight into the arena: no value is longer than its JSON.
        let (start, text) = arena.space(for: bytes.count)
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 10) { slotEnds in
            var nulls: UInt64 = 0, numbers: UInt64 = 0
            var feedbackScore: Int?
            let canonical = { () -> Bool in
                guard JSONParser.parseCanonicalFields(bytes, prefixes: canonicalPrefixes, text: text,
                                                      ends: slotEnds, nulls: &nulls, numbers: &numbers),
                      numbers & ~(1 << 6) == 0,  // only feedback_score may be a number
                      nulls & 0b1111 == 0,  // the four texts are strings (no number, no null)
                      nulls & 0b11_1000_0000 == 0b11_1000_0000  // the last three are null
                else { return false }
                if numbers != 0 {
                    var value = 0  // at most 18 digits
                    for i in slotEnds[5]..<slotEnds[6] { value = value * 10 + Int(text[i] &- UInt8(ascii: "0")) }
                    guard value >= 1, value <= 5 else { return false }
                    feedbackScore = value
                } else if nulls & (1 << 6) == 0 {
                    return false  // a string there is pydantic's lax coercion: the full path decides
                }
                return true
            }()
            guard canonical else { return false }
            arena.commit(slotEnds[5])
            var bounds = SIMD8<UInt32>(repeating: UInt32(start))
            for i in 0..<6 { bounds[i + 1] = UInt32(start + slotEnds[i]) }
            elements.append(SessionRead.Element(
                index: index,
                entry: SessionQAEntry(storage: arena.buffer, bounds: bounds,
                                      absent: UInt8(truncatingIfNeeded: nulls) & (qaIDAbsent | feedbackTextAbsent),
                                      feedbackScore: feedbackScore)))
            return true
        }
    }

    package static func decode(_ bytes: [UInt8]) -> Result<SessionQAEntry, EntryDecodingError> {
        bytes.withUnsafeBufferPointer { decode($0) }
    }

    /// Validates a parsed element against cognee 1.6.5's pydantic model, in lax mode as cognee
    /// runs it. Every failing field is named, as pydantic does.
    package static func validate(_ value: JSONValue) -> Result<SessionQAEntry, EntryDecodingError> {
        guard case .object(let object) = value else {
            return .failure(EntryDecodingError(
                .notAnObject, "element is a JSON \(value.pythonTypeName), not an object"))
        }
        return fieldNames.map { object[$0] }.withUnsafeBufferPointer { validate(fields: $0) }
    }

    /// Validates the values of the ten fields: slot `i` holds `fieldNames[i]` (nil when absent).
    @inline(__always)
    static func validate(fields: UnsafeBufferPointer<JSONValue?>) -> Result<SessionQAEntry, EntryDecodingError> {
        var problems: [String] = []

        func requiredString(_ slot: Int) -> String {
            let name = fieldNames[slot]
            guard let field = fields[slot] else {
                problems.append("\(name): field required")
                return ""
            }
            guard case .string(let s) = field else {
                problems.append("\(name): should be a string, got \(field.pythonTypeName)")
                return ""
            }
            return s
        }
        func optionalString(_ slot: Int) -> String? {
            let name = fieldNames[slot]
            guard let field = fields[slot], !field.isNull else { return nil }
            guard case .string(let s) = field else {
                problems.append("\(name): should be a string or null, got \(field.pythonTypeName)")
                return nil
            }
            return s
        }
        func stringList(_ field: JSONValue, _ name: String) -> [String]? {
            guard case .array(let items) = field else {
                problems.append("\(name): should be a list, got \(field.pythonTypeName)")
                return nil
            }
            var out: [String] = []
            out.reserveCapacity(items.count)
            for (i, item) in items.enumerated() {
                guard case .string(let s) = item else {
                    problems.append("\(name)[\(i)]: should be a string, got \(item.pythonTypeName)")
                    return nil
                }
                out.append(s)
            }
            return out
        }

        let time = requiredString(0)
        let question = requiredString(1)
        let context = requiredString(2)
        let answer = requiredString(3)
        let qaID = optionalString(4)
        let feedbackText = optionalString(5)

        var feedbackScore: Int?
        if let field = fields[6], !field.isNull {
            switch laxInteger(field) {
            case .success(let digits):
                if let score = Int(digits), (1...5).contains(score) {
                    feedbackScore = score
                } else {
                    problems.append("feedback_score: must be between 1 and 5, got \(digits)")
                }
            case .failure(let reason):
                problems.append("feedback_score: \(reason)")
            }
        }

        var usedGraph: UsedGraphElementIDs?
        if let field = fields[7], !field.isNull {
            if case .object(let ids) = field {
                var nodes: [String]?
                var edges: [String]?
                var ok = true
                for (key, item) in ids.pairs {
                    guard let list = stringList(item, "used_graph_element_ids.\(key)") else {
                        ok = false
                        continue
                    }
                    if key == "node_ids" { nodes = list } else if key == "edge_ids" { edges = list }
                }
                let extra = ids.keys.filter { $0 != "node_ids" && $0 != "edge_ids" }
                if ok, !extra.isEmpty {
                    problems.append("used_graph_element_ids: may only have keys 'node_ids' and 'edge_ids'")
                } else if ok, nodes != nil || edges != nil {
                    usedGraph = UsedGraphElementIDs(nodeIDs: nodes, edgeIDs: edges)
                }
            } else {
                problems.append("used_graph_element_ids: should be an object or null, got \(field.pythonTypeName)")
            }
        }

        var metadata: JSONObject?
        if let field = fields[8], !field.isNull {
            if case .object(let meta) = field {
                var ok = true
                for (key, item) in meta.pairs {
                    switch item {
                    case .bool, .string: continue
                    case .number(let n) where n.isInteger: continue
                    case .array(let items) where items.allSatisfy({ if case .string = $0 { true } else { false } }):
                        continue
                    default:
                        ok = false
                        problems.append(
                            "memify_metadata.\(key): values may only be bools, ints, strings or lists of strings, got \(item.pythonTypeName)")
                    }
                }
                if ok, !meta.isEmpty { metadata = meta }
            } else {
                problems.append("memify_metadata: should be an object or null, got \(field.pythonTypeName)")
            }
        }

        var contextIDs: [String]?
        if let field = fields[9], !field.isNull {
            if let list = stringList(field, "used_session_context_ids"), !list.isEmpty { contextIDs = list }
        }

        if !problems.isEmpty {
            let count = problems.count
            return .failure(EntryDecodingError(
                .validation,
                "\(count) validation error\(count == 1 ? "" : "s") for SessionQAEntry: " + problems.joined(separator: "; ")))
        }
        return .success(SessionQAEntry(
            time: time, question: question, context: context, answer: answer, qaID: qaID,
            feedbackText: feedbackText, feedbackScore: feedbackScore, usedGraphElementIDs: usedGraph,
            memifyMetadata: metadata, usedSessionContextIDs: contextIDs))
    }

    /// pydantic's lax `int`: ints, bools, integral finite floats, and strings holding an
    /// integer (surrounding whitespace, a sign, `_` between digits, a `.0` fraction).
    /// Returns the integer's decimal digits (it may not fit in 64 bits).
    static func laxInteger(_ value: JSONValue) -> Result<String, EntryDecodingError> {
        func failure(_ reason: String) -> Result<String, EntryDecodingError> {
            .failure(EntryDecodingError(.validation, reason))
        }
        switch value {
        case .bool(let b):
            return .success(b ? "1" : "0")
        case .number(let n) where n.isInteger:
            return .success(n.literal)
        case .number(let n):
            guard let d = n.doubleValue, d.isFinite else { return failure("should be a finite number") }
            guard d == d.rounded(.towardZero) else {
                return failure("should be a valid integer, got a number with a fractional part")
            }
            // Beyond 64 bits only "out of 1...5" matters; keep the float's own spelling.
            return .success(abs(d) < 9.0e18 ? String(Int64(d)) : "\(d)")
        case .string(let s):
            var text = Substring(s.trimmingPythonWhitespace())
            var sign = ""
            if let first = text.first, first == "+" || first == "-" {
                if first == "-" { sign = "-" }
                text = text.dropFirst()
            }
            if let dot = text.firstIndex(of: ".") {
                guard text[text.index(after: dot)...].allSatisfy({ $0 == "0" }) else {
                    return failure("should be a valid integer, unable to parse string as an integer")
                }
                text = text[..<dot]
            }
            let groups = text.split(separator: "_", omittingEmptySubsequences: false)
            guard !text.isEmpty,
                  groups.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else {
                return failure("should be a valid integer, unable to parse string as an integer")
            }
            var digits = String(groups.joined().drop(while: { $0 == "0" }))
            if digits.isEmpty { digits = "0"; sign = "" }
            return .success(sign + digits)
        default:
            return failure("should be a valid integer, got \(value.pythonTypeName)")
        }
    }
}

extension String {
    /// `str.strip()` for the whitespace Python recognizes.
    func trimmingPythonWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let start = firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = lastIndex(where: { !isSpace($0) })!
        return self[start...end]
    }
}

/// The buffer holding the texts of ``SessionQAEntry`` values, shared by the entries read
/// together (a session's): one allocation, header and bytes.
///
/// `@unchecked Sendable`: written only through an ``EntryTextArena``, each entry's bytes before
/// the entry exists, and never again where any entry points; entries only read.
struct EntryText: @unchecked Sendable {
    private final class Buffer: ManagedBuffer<Void, UInt8> {}
    private let buffer: Buffer

    init(capacity: Int) {
        buffer = unsafeDowncast(Buffer.create(minimumCapacity: capacity) { _ in () }, to: Buffer.self)
    }

    @inline(__always) func withUnsafeMutablePointerToElements<R>(_ body: (UnsafeMutablePointer<UInt8>) throws -> R) rethrows -> R {
        try buffer.withUnsafeMutablePointerToElements(body)
    }
}

/// Hands out space in ``EntryText`` buffers for the entries decoded together. Not copyable: one
/// owner appends, so no two entries are ever written into the same bytes.
struct EntryTextArena: ~Copyable {
    /// The buffer being filled, and where its bytes are (a `ManagedBuffer`'s elements stay where
    /// they are while it lives, and the arena keeps it alive): decoding an entry then takes one
    /// reference, the entry's own.
    private(set) var buffer: EntryText
    private var base: UnsafeMutablePointer<UInt8>
    private var used = 0
    private var capacity: Int

    /// Room for `capacity` bytes; more is allocated when they run out. A buffer holds at most
    /// 1 GiB (offsets in it are 32 bits; a session bigger than that takes several).
    init(capacity: Int) {
        self.capacity = Swift.min(Swift.max(capacity, 16), 1 << 30)
        buffer = EntryText(capacity: self.capacity)
        base = buffer.withUnsafeMutablePointerToElements { $0 }
    }

    /// Where in ``buffer`` there is room for `count` bytes (offset and address); ``commit(_:)``
    /// keeps them. A call may move on to a new buffer: take ``buffer`` after it.
    mutating func space(for count: Int) -> (offset: Int, address: UnsafeMutablePointer<UInt8>) {
        if capacity - used < count {
            // A fresh buffer; the entries in the old one keep it.
            capacity = Swift.max(count, 4096)
            buffer = EntryText(capacity: capacity)
            base = buffer.withUnsafeMutablePointerToElements { $0 }
            used = 0
        }
        return (used, base + used)
    }

    /// Keeps the first `count` bytes of the last ``space(for:)``.
    mutating func commit(_ count: Int) {
        used += count
    }
}

extension SessionQAEntry {
    /// The entry exactly as cognee stores it: `json.dumps(model_dump())`.
    package var cogneeJSON: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(question.utf8.count + answer.utf8.count + context.utf8.count + 320)
        JSONWriter.write(jsonValue, style: .python, into: &out)
        return out
    }
}
