import MemifyCore
package import GraphStore
import SessionCache

/// The default extractor: deterministic, offline, fast. Per turn, an extractive summary and a
/// knowledge graph in cognee's shape:
///
/// - entities typed person, organization, location, date (as cognee's `Timestamp` nodes, named
///   `YYYY`, `YYYY-MM` or `YYYY-MM-DD`), quantity, email, url, product, occupation or other;
/// - relations only where a sentence states them plainly with one of a fixed set of verbs
///   (works at/as, lives in, moved to, born in/on, met, founded, studied at, married to,
///   located/headquartered in, visited, joined, bought, uses), with pronoun subjects resolved to
///   the last person named before; otherwise only the chunk's `contains` edges.
///
/// It reads no model and calls nothing: the same text always gives the same graph. Its quality
/// is measured against a labelled set of conversational turns (`ExtractionQualityTests`).
package struct BuiltinExtractor: Extractor {
    package init() {}

    /// Part of every turn's content hash: bump it when the rules change, so turns re-derive.
    package var identity: String { Self.identity }
    package static let identity = "builtin/2"

    package func extract(question: String, answer: String) async throws -> ExtractedGraph {
        Self.analyze(question: question, answer: answer)
    }

    package func extract(question: String, answer: String, time: String?) async throws -> ExtractedGraph {
        Self.analyze(question: question, answer: answer, time: time)
    }

    /// `time` is the entry's time (ISO 8601, as cognee writes it): relative dates ("yesterday",
    /// "last Tuesday", "in two weeks") resolve against its UTC date. Without it they are left out.
    package static func analyze(question: String, answer: String, time: String? = nil) -> ExtractedGraph {
        var analysis = TurnAnalysis()
        analysis.today = time.flatMap(Self.utcDay)
        analysis.read(question)
        analysis.read(answer)
        return analysis.graph(summary: Self.firstSentence(answer.isEmpty ? question : answer))
    }

    /// The relations the rules find between the given entities (name and lowercase type, as the
    /// labelled corpus has them; dates by their text and value) instead of the ones the extractor
    /// finds: what the relation rules can do when every name is found, for measuring them apart.
    package static func analyze(question: String, answer: String, time: String?, entities: [(name: String, type: String)],
                                dates: [(text: String, value: String)]) -> ExtractedGraph {
        var analysis = TurnAnalysis()
        analysis.today = time.flatMap(Self.utcDay)
        analysis.given = (entities.filter { $0.type != "date" }, dates)
        analysis.read(question)
        analysis.read(answer)
        return analysis.graph(summary: Self.firstSentence(answer.isEmpty ? question : answer))
    }

    /// The UTC calendar day of a time, as days since 1970-01-01.
    static func utcDay(_ time: String) -> Int64? {
        guard let seconds = parseTimestamp(time), seconds.isFinite, abs(seconds) < 1e13 else { return nil }
        return Int64((seconds / 86_400).rounded(.down))
    }

    /// The extractive summary: the text's first sentence, at most 200 characters.
    static func firstSentence(_ text: String) -> String {
        // Byte scan: the terminators and the whitespace that must follow them are ASCII.
        let bytes = Array(text.utf8)
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }
        var start = 0
        while start < bytes.count, isSpace(bytes[start]) { start += 1 }
        var end = bytes.count
        var i = start
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: ".") || b == UInt8(ascii: "!") || b == UInt8(ascii: "?") || b == 0x0A,
               i + 1 == bytes.count || isSpace(bytes[i + 1]) {
                end = i + 1
                break
            }
            i += 1
        }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        let sentence = String(decoding: bytes[start..<end], as: UTF8.self)
        guard end - start > 200, sentence.count > 200 else { return sentence }
        return String(sentence.prefix(199)) + "…"
    }
}

extension Segment {
    /// Takes each given name (longest first) wherever its words appear, typed as given.
    mutating func takeGiven(entities: [(name: String, type: String)], dates: [(text: String, value: String)]) {
        let names = entities.map { ($0.name, $0.type == "url" ? "URL" : $0.type.prefix(1).uppercased() + $0.type.dropFirst(), $0.name) }
            + dates.map { ($0.text, "Timestamp", $0.value) }
        // A person's surname alone ("Hassabis" after "Demis Hassabis") is the same person, as the
        // extractor's short forms are.
        var forms = names
        for (text, type, name) in names where type == "Person" {
            let parts = text.split(separator: " ")
            if parts.count > 1, let last = parts.last, last.count > 2 { forms.append((String(last), type, name)) }
        }
        func strip(_ word: String) -> String {
            word.hasSuffix("'s") || word.hasSuffix("’s") ? String(word.dropLast(2)) : word
        }
        for (text, type, name) in forms.sorted(by: { $0.0.count > $1.0.count }) {
            var words = Segment(text)
            words.tokenize()
            let lower = words.tokens.map(\.lower)
            guard !lower.isEmpty else { continue }
            var i = 0
            while i + lower.count <= tokens.count {
                let range = i..<(i + lower.count)
                if !range.contains(where: { used[$0] }),
                   zip(lower, tokens[range]).allSatisfy({ $0 == $1.lower || $0 == strip($1.lower) }) {
                    take(range, name: name, type: type)
                    i = range.upperBound
                } else {
                    i += 1
                }
            }
        }
    }
}

/// One segment's tokens, the mentions found in them, and the relations between them.
struct TurnAnalysis {
    enum Kind { case word, number, punct, email, url }

    struct Token {
        var text: String
        var lower: String
        var start: Int
        var end: Int
        var kind: Kind
        var capitalized: Bool
        var innerCaps: Bool
        var sentence: Int
        var sentenceStart = false
    }

    struct Mention {
        var range: Range<Int>
        var name: String
        var type: String
        var sentence: Int
    }

    struct Found {
        var name: String
        var type: String
        var description: String
    }

    /// The day the turn was said (days since 1970-01-01, UTC), for relative dates; nil: unknown.
    var today: Int64?
    /// Entities to take as found instead of finding them (see ``BuiltinExtractor/analyze(question:answer:time:entities:dates:)``).
    var given: (entities: [(name: String, type: String)], dates: [(text: String, value: String)])?
    private(set) var entities: [Found] = []
    var relations: [ExtractedGraph.Relation] = []
    private var byName: [String: Int] = [:]
    /// The last person named, for pronoun subjects when no sentence opened with a person.
    var lastPerson: String?
    /// The person a text is about (the first named, or the last to open a sentence): what
    /// "she" and "he" refer to.
    var topicPerson: String?

    mutating func graph(summary: String) -> ExtractedGraph {
        // The node's description depends on nothing but the entity, so every turn naming it
        // writes the same node (and a graph built in any order is the same graph); what this
        // turn says of it goes on the chunk's own `contains` edge.
        ExtractedGraph(entities: entities.map {
            .init(name: $0.name, type: $0.type, description: Self.describe($0.name, $0.type), mention: $0.description)
        }, relations: relations, summary: summary)
    }

    // MARK: - One segment

    /// Scalars analysed per question or answer: enough for any conversational turn, and a bound on
    /// the work a pathological one (a pasted log, minified JSON) can cause. The chunk keeps the
    /// whole text; only extraction stops here.
    static let segmentLimit = 65_536

    static func limited(_ text: String) -> String {
        text.utf8.count <= segmentLimit ? text : String(String.UnicodeScalarView(text.unicodeScalars.prefix(segmentLimit)))
    }

    mutating func read(_ fullText: String) {
        guard !fullText.isEmpty else { return }
        var segment = Segment(Self.limited(fullText))
        segment.tokenize()
        if let given {
            segment.takeGiven(entities: given.entities, dates: given.dates)
        } else {
            segment.findPatterns(today: today)
            segment.tagNames(TaggerModel.override ?? .builtin)
        }
        segment.mentions.sort { $0.range.lowerBound < $1.range.lowerBound }

        // Entities, first mention wins; a later short form of a person ("Maria" after "Maria
        // García") is the same entity.
        var canonical: [Int: String] = [:]
        var descriptions: [Int: String] = [:]
        for (i, mention) in segment.mentions.enumerated() {
            let key = Self.key(mention.name)
            // The tagger may type a lone surname differently from the full name ("Haaland" after
            // "Erling Haaland"): any name that is a known person's first or last word is that person.
            if TaggerTags.types.contains(mention.type), byName[key] == nil, let full = personShortForms[key] {
                canonical[i] = full
                continue
            }
            canonical[i] = byName[key].map { entities[$0].name } ?? mention.name
            if byName[key] == nil {
                byName[key] = entities.count
                if descriptions[mention.sentence] == nil { descriptions[mention.sentence] = segment.sentenceText(mention.sentence) }
                entities.append(Found(name: mention.name, type: mention.type, description: descriptions[mention.sentence]!))
                if mention.type == "Person" {
                    let parts = key.split(separator: " ")
                    if parts.count > 1 {
                        for part in [parts.first!, parts.last!] where personShortForms[String(part)] == nil {
                            personShortForms[String(part)] = mention.name
                        }
                    }
                }
            }
        }
        findRelations(in: segment, canonical: canonical)
    }

    /// The first and last words of the people named so far, to their full names.
    private var personShortForms: [String: String] = [:]

    /// Depends on the stored name only (not its spelling in one turn, not the type one turn gave
    /// it): every turn naming the entity writes the same description.
    static func describe(_ name: String, _ type: String) -> String {
        "\(GraphIdentity.displayName(name)), named in conversation turns"
    }

    static func key(_ name: String) -> String {
        let lower = name.lowercased()
        guard lower.utf8.contains(0x27) || lower.contains("’") else { return lower }
        return String(lower.unicodeScalars.filter { $0 != "'" && $0 != "’" }.map(Character.init))
    }
}
