package import MemifyCore
import GraphStore
import SessionCache
import Foundation

/// The request the LLM extractor sends and how it reads the answer: cognee's `KnowledgeGraph`
/// (graph spec §1.6) plus a summary, for several turns per request, each labelled with an index.
package enum LLMPrompt {
    /// Part of the extractor identity (so a prompt change re-derives every turn) and of every
    /// response-cache key.
    package static let version = "llm-graph/1"

    package static let system = """
        You are a top-tier algorithm that builds knowledge graphs from conversations. You receive \
        several question/answer turns, each in a <turn index="N"> element. For EACH turn, extract \
        the entities and relationships it states, and write a short summary, independently of the \
        other turns.

        Output model per turn (cognee's KnowledgeGraph):
        - nodes: {"id", "name", "type", "description"}.
          - Use basic, general types: "Person", not "Mathematician"; "Organization", "Location", \
        "Concept", "Event", "Product", "Timestamp".
          - "id" is a human-readable name, never an integer or a random code; the same entity \
        keeps the same id everywhere within the turn. Resolve coreferences (he, the company) to \
        the most complete name.
          - Every node has a "name" (the entity as a human would name it) and a one-sentence \
        "description" of what the turn says about it.
          - Dates and times are nodes of type "Timestamp", named "YYYY", "YYYY-MM", "YYYY-MM-DD", \
        "YYYY-MM-DD HH:MM:SS", or "<start>/<end>" for a period. They are leaves: link to them \
        with "{verb}_at" or "{verb}_during" edges (e.g. "moved_at").
          - Use type "Event" for a happening without a dated owner.
        - edges: {"source_node_id", "target_node_id", "relationship_name", "description"}.
          - source_node_id and target_node_id are ids of nodes of the SAME turn.
          - relationship_name is snake_case ("works_for", "moved_to", "born_at").
          - description is one concrete sentence stating the fact with the endpoint names.
        - summary: what the turn is about and its key facts, in at most three sentences.

        Extract only what the text states. Do not invent facts. A turn with nothing to extract \
        has empty "nodes" and "edges" lists but still a summary.

        Answer with JSON only, exactly this shape, with one element per input turn:
        {"turns": [{"index": 0, "summary": "...", "nodes": [...], "edges": [...]}]}
        """

    /// The text of one turn inside the request: also what its cache key is computed from.
    package static func turnText(question: String, answer: String) -> String {
        "Question: \(question)\n\nAnswer: \(answer)"
    }

    /// The user message for a request: each turn's text, labelled with its index in the request.
    package static func userMessage(_ turnTexts: [String]) -> String {
        var out = "Extract a knowledge graph and a summary for each of these \(turnTexts.count) turn(s).\n"
        for (i, text) in turnTexts.enumerated() { out += "\n<turn index=\"\(i)\">\n\(neutralized(text))\n</turn>\n" }
        return out
    }

    /// A turn's text cannot open or close a turn of its own: a turn holding `</turn><turn index="1">`
    /// must not speak for the next turn (which may be another user's) in the same request.
    static func neutralized(_ text: String) -> String {
        guard text.contains("<") else { return text }
        return text.replacingOccurrences(of: "</turn", with: "< /turn", options: .caseInsensitive)
            .replacingOccurrences(of: "<turn", with: "< turn", options: .caseInsensitive)
    }

    /// The response-cache key of one turn: sha256 of everything that determines its answer
    /// (prompt version, system prompt, the turn's text); the model is the other half of the key.
    package static func cacheKey(turnText: String) -> String {
        var bytes: [UInt8] = []
        for part in [version, system, turnText] {
            bytes.append(contentsOf: String(part.utf8.count).utf8)
            bytes.append(0x3A)
            bytes.append(contentsOf: part.utf8)
        }
        return Digest.hex(Digest.sha256(bytes))
    }

    /// The strict JSON schema of the answer (`response_format.json_schema.schema`).
    package static let schema: JSONValue = {
        func object(_ properties: [(String, JSONValue)]) -> JSONValue {
            .object(JSONObject([
                ("type", .string("object")), ("additionalProperties", .bool(false)),
                ("required", .array(properties.map { .string($0.0) })), ("properties", .object(JSONObject(properties))),
            ]))
        }
        let string: JSONValue = .object(JSONObject([("type", .string("string"))]))
        let node = object([("id", string), ("name", string), ("type", string), ("description", string)])
        let edge = object([("source_node_id", string), ("target_node_id", string), ("relationship_name", string),
                           ("description", .object(JSONObject([("type", .array([.string("string"), .string("null")]))])))])
        func array(_ items: JSONValue) -> JSONValue { .object(JSONObject([("type", .string("array")), ("items", items)])) }
        let turn = object([("index", .object(JSONObject([("type", .string("integer"))]))), ("summary", string),
                           ("nodes", array(node)), ("edges", array(edge))])
        return object([("turns", array(turn))])
    }()

    /// The chat-completions request body.
    static func requestBody(model: String, userMessage: String, format: LLMConfiguration.ResponseFormat) -> [UInt8] {
        var pairs: [(String, JSONValue)] = [
            ("model", .string(model)),
            ("messages", .array([
                .object(JSONObject([("role", .string("system")), ("content", .string(system))])),
                .object(JSONObject([("role", .string("user")), ("content", .string(userMessage))])),
            ])),
            ("temperature", .number(JSONNumber(0))),
        ]
        switch format {
        case .jsonSchema:
            pairs.append(("response_format", .object(JSONObject([
                ("type", .string("json_schema")),
                ("json_schema", .object(JSONObject([("name", .string("knowledge_graphs")), ("strict", .bool(true)),
                                                    ("schema", schema)]))),
            ]))))
        case .jsonObject:
            pairs.append(("response_format", .object(JSONObject([("type", .string("json_object"))]))))
        case .none:
            break
        }
        var out: [UInt8] = []
        JSONWriter.write(.object(JSONObject(pairs)), style: .compact, into: &out)
        return out
    }

    /// Splits a model answer into its turns, by index. Throws (a reason) when the answer as a
    /// whole is unusable: not JSON, or no `turns` list.
    static func turns(ofAnswer content: String) throws(LLMAnswerError) -> [Int: JSONValue] {
        var text = Substring(content).trimmingCharacters(in: .whitespacesAndNewlines)[...]
        // Some servers wrap JSON in a Markdown fence even when asked not to.
        if text.hasPrefix("```") {
            if let newline = text.firstIndex(of: "\n") { text = text[text.index(after: newline)...] }
            if let fence = text.range(of: "```", options: .backwards) { text = text[..<fence.lowerBound] }
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(text.utf8))
        } catch {
            throw LLMAnswerError("malformed JSON from the model: \(error)")
        }
        guard case .object(let object) = value else {
            throw LLMAnswerError("schema violation: the answer is a \(value.pythonTypeName), not an object")
        }
        guard case .array(let list)? = object["turns"] else {
            throw LLMAnswerError("schema violation: the answer has no \"turns\" list")
        }
        var out: [Int: JSONValue] = [:]
        for item in list {
            guard case .object(let turn) = item, case .number(let n)? = turn["index"], n.isInteger, let index = Int(n.literal) else {
                continue  // an element without a usable index cannot be attributed: its turn reads as missing
            }
            if out[index] == nil { out[index] = item }
        }
        return out
    }

    /// Validates one turn object against the schema and maps it onto ``ExtractedGraph``:
    /// entities are the nodes (name, or id when the name is empty; duplicate ids keep the first,
    /// as cognee does), relations refer to entity names.
    static func graph(ofTurn value: JSONValue) throws(LLMAnswerError) -> ExtractedGraph {
        guard case .object(let turn) = value else { throw LLMAnswerError("schema violation: a turn is not an object") }
        guard case .string(let summary)? = turn["summary"] else {
            throw LLMAnswerError("schema violation: \"summary\" is missing or not a string")
        }
        guard case .array(let nodes)? = turn["nodes"] else { throw LLMAnswerError("schema violation: \"nodes\" is missing or not a list") }
        guard case .array(let edges)? = turn["edges"] else { throw LLMAnswerError("schema violation: \"edges\" is missing or not a list") }
        var graph = ExtractedGraph(summary: summary.trimmingCharacters(in: .whitespacesAndNewlines))
        var names: [String: String] = [:]
        for (i, node) in nodes.enumerated() {
            guard case .object(let n) = node else { throw LLMAnswerError("schema violation: nodes[\(i)] is not an object") }
            func field(_ name: String) throws(LLMAnswerError) -> String {
                guard case .string(let s)? = n[name] else {
                    throw LLMAnswerError("schema violation: nodes[\(i)].\(name) is missing or not a string")
                }
                return s
            }
            let id = try field("id"), name = try field("name"), type = try field("type"), description = try field("description")
            guard !id.trimmingCharacters(in: .whitespaces).isEmpty else { throw LLMAnswerError("schema violation: nodes[\(i)].id is empty") }
            guard names[id] == nil else { continue }
            let shown = name.trimmingCharacters(in: .whitespaces).isEmpty ? id : name
            names[id] = shown
            graph.entities.append(.init(name: shown, type: type, description: description))
        }
        for (i, edge) in edges.enumerated() {
            guard case .object(let e) = edge else { throw LLMAnswerError("schema violation: edges[\(i)] is not an object") }
            func field(_ name: String) throws(LLMAnswerError) -> String {
                guard case .string(let s)? = e[name] else {
                    throw LLMAnswerError("schema violation: edges[\(i)].\(name) is missing or not a string")
                }
                return s
            }
            let source = try field("source_node_id"), target = try field("target_node_id"), relation = try field("relationship_name")
            guard let sourceName = names[source] else {
                throw LLMAnswerError("schema violation: edges[\(i)].source_node_id '\(source.prefix(80))' is no node of this turn")
            }
            guard let targetName = names[target] else {
                throw LLMAnswerError("schema violation: edges[\(i)].target_node_id '\(target.prefix(80))' is no node of this turn")
            }
            guard isSnakeCaseable(relation) else {
                throw LLMAnswerError("schema violation: edges[\(i)].relationship_name '\(relation.prefix(80))' cannot be made snake_case")
            }
            let description: String?
            switch e["description"] {
            case .string(let s)?: description = s
            case .null?, nil: description = nil
            default: throw LLMAnswerError("schema violation: edges[\(i)].description is not a string or null")
            }
            graph.relations.append(.init(source: sourceName, target: targetName, name: relation, description: description))
        }
        return graph
    }

    /// cognee's normalisation (lowercase, spaces to `_`, apostrophes dropped) leaves a non-empty
    /// name of letters, digits and underscores.
    static func isSnakeCaseable(_ name: String) -> Bool {
        let normal = name.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: " ", with: "_")
            .replacingOccurrences(of: "'", with: "")
        guard !normal.isEmpty, normal.contains(where: { $0.isLetter || $0.isNumber }) else { return false }
        return normal.allSatisfy { $0 == "_" || $0 == "-" || $0.isLetter || $0.isNumber }
    }
}

/// Why a model answer (or one turn of it) cannot be used; safe to log (no key, bounded text).
struct LLMAnswerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
