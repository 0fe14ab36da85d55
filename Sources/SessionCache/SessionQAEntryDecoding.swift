package import MemifyCore

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
