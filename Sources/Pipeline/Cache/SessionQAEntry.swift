public import GraphStore
/// One question/answer turn as cognee 1.6.5 stores it (`SessionQAEntry`, spec §3.1), holding the
/// values cognee's own `get_session` returns after validation: empty containers normalized to
/// nil, `used_graph_element_ids` rebuilt as `node_ids` then `edge_ids`, unknown keys dropped.
public struct SessionQAEntry: Sendable, Equatable {
    public struct UsedGraphElementIDs: Sendable, Equatable {
        public var nodeIDs: [String]?
        public var edgeIDs: [String]?

        public init(nodeIDs: [String]? = nil, edgeIDs: [String]? = nil) {
            self.nodeIDs = nodeIDs
            self.edgeIDs = edgeIDs
        }
    }

    /// The field names in cognee's serialization order.
    public static let fieldNames = [
        "time", "question", "context", "answer", "qa_id", "feedback_text", "feedback_score",
        "used_graph_element_ids", "memify_metadata", "used_session_context_ids",
    ]

    public var time: String
    public var question: String
    public var context: String
    public var answer: String
    public var qaID: String?
    public var feedbackText: String?
    /// 1...5 when set. cognee's pydantic model coerces `true`, `3.0` and `"3"` to an int.
    public var feedbackScore: Int?
    public var usedGraphElementIDs: UsedGraphElementIDs?
    /// Values are bools, ints, strings or lists of strings (1.6.5).
    public var memifyMetadata: JSONObject?
    public var usedSessionContextIDs: [String]?

    @inlinable
    public init(time: String, question: String, context: String, answer: String, qaID: String? = nil,
                feedbackText: String? = nil, feedbackScore: Int? = nil,
                usedGraphElementIDs: UsedGraphElementIDs? = nil, memifyMetadata: JSONObject? = nil,
                usedSessionContextIDs: [String]? = nil) {
        self.time = time
        self.question = question
        self.context = context
        self.answer = answer
        self.qaID = qaID
        self.feedbackText = feedbackText
        self.feedbackScore = feedbackScore
        self.usedGraphElementIDs = usedGraphElementIDs
        self.memifyMetadata = memifyMetadata
        self.usedSessionContextIDs = usedSessionContextIDs
    }

    /// The entry as a JSON object with cognee's ten fields in cognee's order (its `model_dump()`).
    public var jsonValue: JSONValue {
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
public struct EntryDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// Not UTF-8, not JSON, or trailing data.
        case invalidJSON = "invalid_json"
        /// Valid JSON, but not an object (cognee: "argument after ** must be a mapping").
        case notAnObject = "not_an_object"
        /// An object that cognee's `SessionQAEntry` model rejects.
        case validation
    }

    public var kind: Kind
    public var reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public var description: String { reason }
}

extension SessionQAEntry {
    /// Decodes one stored element (the bytes of one Redis list item, or one item of a diskcache
    /// JSON array) the way cognee's `SessionQAEntry(**json.loads(raw))` does.
    @inline(__always)
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<SessionQAEntry, EntryDecodingError> {
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
        guard appendCanonical(bytes, index: 0, to: &out) else { return nil }
        return out[0].entry
    }

    /// ``decodeCanonical(_:)`` appending the entry straight to `elements` (no copy on the way);
    /// false, with nothing appended, when the element is not canonical.
    @inline(__always)
    static func appendCanonical(_ bytes: UnsafeBufferPointer<UInt8>, index: Int, to elements: inout [SessionRead.Element]) -> Bool {
        // Ten typed slots on the stack, emptied slot by slot at the end: a tuple of ten
        // optionals, or deinitialize(), goes through the runtime's generic witnesses (3% of a read).
        withUnsafeTemporaryAllocation(of: String?.self, capacity: 10) { f in
            f.initialize(repeating: nil)
            defer { for i in 0..<10 { f[i] = nil } }  // nil needs no deinitialization
            var numbers: UInt64 = 0
            let parsed = JSONParser.parseCanonicalFields(bytes, prefixes: canonicalPrefixes, into: f, numbers: &numbers)
            // Moved out of the slots (take), not copied.
            guard parsed, numbers & ~(1 << 6) == 0, f[7] == nil, f[8] == nil, f[9] == nil,
                  let time = f[0].take(), let question = f[1].take(), let context = f[2].take(), let answer = f[3].take()
            else { return false }
            var feedbackScore: Int?
            if let score = f[6].take() {
                // A number (a string there is pydantic's lax coercion: the full path decides).
                guard numbers != 0, let value = Int(score), value >= 1, value <= 5 else { return false }
                feedbackScore = value
            }
            elements.append(SessionRead.Element(
                index: index,
                entry: SessionQAEntry(time: time, question: question, context: context, answer: answer, qaID: f[4].take(),
                                      feedbackText: f[5].take(), feedbackScore: feedbackScore)))
            return true
        }
    }

    public static func decode(_ bytes: [UInt8]) -> Result<SessionQAEntry, EntryDecodingError> {
        bytes.withUnsafeBufferPointer { decode($0) }
    }

    /// Validates a parsed element against cognee 1.6.5's pydantic model, in lax mode as cognee
    /// runs it. Every failing field is named, as pydantic does.
    public static func validate(_ value: JSONValue) -> Result<SessionQAEntry, EntryDecodingError> {
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
