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
    package static let identity = "builtin/1"

    package func extract(question: String, answer: String) async throws -> ExtractedGraph {
        Self.analyze(question: question, answer: answer)
    }

    package static func analyze(question: String, answer: String) -> ExtractedGraph {
        var analysis = TurnAnalysis()
        analysis.read(question)
        analysis.read(answer)
        return analysis.graph(summary: Self.firstSentence(answer.isEmpty ? question : answer))
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

    private(set) var entities: [Found] = []
    private(set) var relations: [ExtractedGraph.Relation] = []
    private var byName: [String: Int] = [:]
    /// The last person named, for pronoun subjects when no sentence opened with a person.
    private var lastPerson: String?

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

    mutating func read(_ fullText: String) {
        guard !fullText.isEmpty else { return }
        let text = fullText.utf8.count <= Self.segmentLimit ? fullText : String(String.UnicodeScalarView(fullText.unicodeScalars.prefix(Self.segmentLimit)))
        var segment = Segment(text)
        segment.tokenize()
        segment.findPatterns()
        segment.findNames()
        if !segment.hasUppercase { segment.findLowercaseNames() }
        segment.mentions.sort { $0.range.lowerBound < $1.range.lowerBound }

        // Entities, first mention wins; a later short form of a person ("Maria" after "Maria
        // García") is the same entity.
        var canonical: [Int: String] = [:]
        var descriptions: [Int: String] = [:]
        for (i, mention) in segment.mentions.enumerated() {
            let key = Self.key(mention.name)
            if mention.type == "Person", byName[key] == nil, let full = personShortForms[key] {
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

    private mutating func findRelations(in segment: Segment, canonical: [Int: String]) {
        let tokens = segment.tokens
        let mentions = segment.mentions
        var seen = Set(relations.map { Self.key($0.source) + "\u{1}" + $0.name + "\u{1}" + Self.key($0.target) })
        func add(_ source: String, _ name: String, _ target: String) {
            guard Self.key(source) != Self.key(target) else { return }
            guard seen.insert(Self.key(source) + "\u{1}" + name + "\u{1}" + Self.key(target)).inserted else { return }
            // No per-turn text on the fact itself: the same fact stated in many turns is one edge,
            // whose text must not depend on which turn wrote it last (cognee's fallback text).
            relations.append(.init(source: source, target: target, name: name, description: nil))
        }
        func type(_ m: Int) -> String { Segment.evaluationType(mentions[m].type) }
        func name(_ m: Int) -> String { canonical[m] ?? mentions[m].name }
        // The mention covering each token, if any.
        var mentionAt = [Int?](repeating: nil, count: tokens.count)
        for (i, m) in mentions.enumerated() { for t in m.range { mentionAt[t] = i } }

        // "The Louvre in Paris", "Rochester, Minnesota": a place or an organisation, then where it is.
        for (i, m) in mentions.enumerated() where ["organization", "location"].contains(type(i)) {
            let next = m.range.upperBound
            guard next + 1 < tokens.count, tokens[next].sentence == m.sentence else { continue }
            if tokens[next].lower == "in", let o = mentionAt[next + 1], type(o) == "location", !segment.isAsked(next) {
                add(name(i), "located_in", name(o))
            } else if tokens[next].lower == ",", type(i) == "location", let o = mentionAt[next + 1], type(o) == "location",
                      mentions[o].range.lowerBound == next + 1, !segment.isAsked(next) {
                // Not a list ("Paris, London and Rome").
                let after = mentions[o].range.upperBound
                let isList = after < tokens.count && (["and", "or"].contains(tokens[after].lower)
                    || (tokens[after].lower == "," && after + 1 < tokens.count && mentionAt[after + 1].map { type($0) == "location" } == true))
                let listBefore = m.range.lowerBound > 0 && tokens[m.range.lowerBound - 1].lower == ","
                if !isList && !listBefore { add(name(i), "located_in", name(o)) }
            }
        }

        var t = 0
        var currentSentence = -1
        var sentenceTopic = topicPerson
        while t < tokens.count {
            let sentence = tokens[t].sentence
            if sentence != currentSentence {
                currentSentence = sentence
                sentenceTopic = topicPerson ?? lastPerson
                // A sentence opening with a person makes them the topic pronouns refer to.
                var first = t
                while first < tokens.count, tokens[first].sentence == sentence,
                      ["yes", "no", "sure", ",", "well", "so", "and", "but", "then", "also"].contains(tokens[first].lower) { first += 1 }
                if first < tokens.count, let m = mentionAt[first], type(m) == "person" { topicPerson = name(m) }
            }
            if let m = mentionAt[t], type(m) == "person" {
                lastPerson = name(m)
                if topicPerson == nil { topicPerson = name(m) }
            }
            guard mentionAt[t] == nil, !segment.isAsked(t) else { t += 1; continue }
            for cue in Lexicon.relationCuesByFirstWord[tokens[t].lower] ?? [] where segment.matches(cue.cue, at: t) {
                let after = t + cue.cue.count
                // Object(s): the first mention of a wanted type within a few tokens.
                var objects: [Int] = []
                var u = after
                var wantedTypes = cue.objects
                while u < tokens.count, u < after + 7, tokens[u].sentence == sentence {
                    if [";", ":"].contains(tokens[u].lower) { break }
                    // "visiting us from Lagos": a place after "from" is where they came from.
                    if tokens[u].lower == "from", !cue.cue.contains("from") { break }
                    if let m = mentionAt[u] {
                        if wantedTypes.contains(type(m)) {
                            objects.append(m)
                            wantedTypes.remove(type(m))
                            if cue.relation != "born_in" { break }
                        }
                        u = mentions[m].range.upperBound
                        continue
                    }
                    if cue.cue == ["is"] || cue.cue == ["was"] || cue.cue == ["became"] {
                        // "is a nurse": only an article may stand between.
                        if !["a", "an", "the"].contains(tokens[u].lower) { break }
                    }
                    u += 1
                }
                guard !objects.isEmpty else { continue }
                // Subject: the nearest mention of a wanted type before the cue in this sentence
                // (and anyone joined to it by "and"), else a pronoun's referent. Another
                // subject ("i", "we", "you") in between means the verb is not theirs.
                var subjects: [String] = []
                var s = t - 1
                var blocked = false
                while s >= 0, t - s <= Self.scanLimit, tokens[s].sentence == sentence {
                    if let m = mentionAt[s] {
                        if cue.subjects.contains(type(m)) {
                            subjects.append(name(m))
                            var k = mentions[m].range.lowerBound - 1
                            while k >= 1, tokens[k].lower == "and" || tokens[k].lower == ",", let other = mentionAt[k - 1], type(other) == type(m) {
                                subjects.append(name(other))
                                k = mentions[other].range.lowerBound - 1
                            }
                            break
                        }
                        s = mentions[m].range.lowerBound - 1
                        continue
                    }
                    if Segment.otherSubjects.contains(tokens[s].lower) { blocked = true; break }
                    s -= 1
                }
                if subjects.isEmpty, !blocked, cue.subjects.contains("person") {
                    let before = tokens[max(0, s + 1)..<t].map(\.lower)
                    if before.contains(where: { Segment.pronouns.contains($0) }), let referent = sentenceTopic ?? lastPerson {
                        subjects = [referent]
                    }
                }
                for subject in subjects {
                    for m in objects {
                        var relation = cue.relation
                        if cue.relation == "born_in", type(m) == "date" { relation = "born_on" }
                        add(subject, relation, name(m))
                        // "a nurse at St. Mary's", "a professor of physics at MIT": the place of
                        // work follows the occupation.
                        guard relation == "works_as" else { continue }
                        var w = mentions[m].range.upperBound
                        while w < tokens.count, w < mentions[m].range.upperBound + 6, tokens[w].sentence == sentence {
                            if let o = mentionAt[w] {
                                if type(o) == "organization", ["at", "for", "with", "of"].contains(tokens[w - 1].lower) {
                                    add(subject, "works_at", name(o))
                                }
                                break
                            }
                            if [",", ";", "and", "but", "who", "which"].contains(tokens[w].lower) { break }
                            w += 1
                        }
                    }
                }
            }
            // "X and Y met/married" with no object after the verb.
            if ["met", "married"].contains(tokens[t].lower) {
                var people: [String] = []
                var s = t - 1
                while s >= 0, t - s <= Self.scanLimit, tokens[s].sentence == sentence, people.count < 2 {
                    if let m = mentionAt[s] {
                        if type(m) == "person" { people.insert(name(m), at: 0) }
                        s = mentions[m].range.lowerBound - 1
                        continue
                    }
                    if !["and", "&", ","].contains(tokens[s].lower) && people.count == 1 && s < t - 1 { break }
                    s -= 1
                }
                let objectFollows = t + 1 < tokens.count && mentionAt[t + 1] != nil
                if people.count == 2, !objectFollows {
                    add(people[0], tokens[t].lower == "met" ? "met" : "married_to", people[1])
                }
            }
            t += 1
        }
    }

    /// How far back a subject is looked for (tokens): bounds the work on run-on sentences.
    static let scanLimit = 40

    /// The person a text is about (the first named, or the last to open a sentence): what
    /// "she" and "he" refer to.
    private var topicPerson: String?
}

/// Character classes with an ASCII fast path (Unicode's property tables are slow to consult).
enum Scalars {
    @inline(__always) static func isSpace(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x80 ? (s.value == 0x20 || (s.value >= 0x09 && s.value <= 0x0D)) : s.properties.isWhitespace
    }
    @inline(__always) static func isUpper(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x80 ? (s.value >= 0x41 && s.value <= 0x5A) : s.properties.isUppercase
    }
    @inline(__always) static func isLower(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x80 ? (s.value >= 0x61 && s.value <= 0x7A) : s.properties.isLowercase
    }
    @inline(__always) static func isDigit(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x80 ? (s.value >= 0x30 && s.value <= 0x39) : s.properties.numericType != nil
    }
    @inline(__always) static func isLetter(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x80 ? ((s.value | 0x20) >= 0x61 && (s.value | 0x20) <= 0x7A) : s.properties.isAlphabetic
    }
    @inline(__always) static func isWord(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return isLetter(s) || isDigit(s) }
        return s.properties.isAlphabetic || s.properties.numericType != nil || s.properties.generalCategory == .nonspacingMark
            || s.properties.generalCategory == .spacingMark
    }
}

/// Tokens and mentions of one segment (a question or an answer).
struct Segment {
    typealias Token = TurnAnalysis.Token
    typealias Mention = TurnAnalysis.Mention

    let scalars: [Unicode.Scalar]
    var tokens: [Token] = []
    var used: [Bool] = []
    var mentions: [Mention] = []
    /// Scalar ranges of sentences, and whether each ends with a question mark.
    var sentences: [(start: Int, end: Int, question: Bool)] = []

    /// Subjects that are not a named person: a verb after them is not the named person's.
    static let otherSubjects: Set<String> = ["i", "we", "you", "i'm", "we're", "you're", "i've", "we've", "it"]

    static let pronouns: Set<String> = ["he", "she", "they", "his", "her", "hers", "their", "him", "them", "he's", "she's",
                                        "they're", "they've", "he'd", "she'd"]

    /// Whether the segment has any capital letter (if not, it was typed all in lowercase).
    let hasUppercase: Bool

    /// The text's UTF-8, and each scalar's offset into it (one more at the end): substrings are
    /// cut from the bytes, which is much cheaper than rebuilding them scalar by scalar.
    let utf8: [UInt8]
    let offsets: [Int]

    init(_ text: String) {
        var scalars: [Unicode.Scalar] = []
        var offsets: [Int] = []
        scalars.reserveCapacity(text.utf8.count)
        offsets.reserveCapacity(text.utf8.count + 1)
        var offset = 0
        for scalar in text.unicodeScalars {
            scalars.append(scalar)
            offsets.append(offset)
            offset += UTF8.width(scalar)
        }
        offsets.append(offset)
        self.scalars = scalars
        self.offsets = offsets
        utf8 = Array(text.utf8)
        hasUppercase = scalars.contains { Scalars.isUpper($0) }
    }

    func string(_ start: Int, _ end: Int) -> String {
        String(decoding: utf8[offsets[start]..<offsets[end]], as: UTF8.self)
    }

    static func evaluationType(_ type: String) -> String {
        type == "Timestamp" ? "date" : type.lowercased()
    }

    static let interrogatives: Set<String> = ["does", "do", "did", "is", "are", "was", "were", "can", "could", "where", "when",
                                              "who", "what", "how", "why", "should", "would", "will", "have", "has", "which", "whom",
                                              "may", "might", "shall", "am", "isn't", "doesn't", "didn't", "aren't", "wasn't"]

    /// Whether token t is inside a question ("Does Anna live in Berlin?" states nothing), as
    /// opposed to a statement before one ("my sister anna lives in berlin, can you email her?").
    func isAsked(_ t: Int) -> Bool {
        let sentence = tokens[t].sentence
        guard sentences[sentence].question else { return false }
        if Self.interrogatives.contains(tokens[firstToken[sentence]].lower) { return true }
        return !commaFollows[t]
    }

    /// Each sentence's first token, and whether a comma or semicolon follows each token in its
    /// sentence: what ``isAsked(_:)`` needs, in one pass (it is asked for every token).
    var firstToken: [Int] = []
    var commaFollows: [Bool] = []

    mutating func indexSentences() {
        firstToken = [Int](repeating: 0, count: sentences.count)
        commaFollows = [Bool](repeating: false, count: tokens.count)
        var seen = Set<Int>()
        for (t, token) in tokens.enumerated() where token.sentence < sentences.count && seen.insert(token.sentence).inserted {
            firstToken[token.sentence] = t
        }
        var following = false
        for t in tokens.indices.reversed() {
            if t + 1 < tokens.count, tokens[t + 1].sentence != tokens[t].sentence { following = false }
            if tokens[t].lower == "," || tokens[t].lower == ";" { following = true }
            commaFollows[t] = following
        }
    }

    func sentenceText(_ sentence: Int) -> String {
        let s = sentences[sentence]
        // Whitespace collapsed to single spaces (ASCII whitespace; other text as it is).
        var bytes: [UInt8] = []
        bytes.reserveCapacity(offsets[s.end] - offsets[s.start])
        var pendingSpace = false
        for b in utf8[offsets[s.start]..<offsets[s.end]] {
            if b == 0x20 || (b >= 0x09 && b <= 0x0D) {
                pendingSpace = !bytes.isEmpty
                continue
            }
            if pendingSpace { bytes.append(0x20); pendingSpace = false }
            bytes.append(b)
        }
        var text = String(decoding: bytes, as: UTF8.self)
        if text.count > 200 { text = String(text.prefix(199)) + "…" }
        return text
    }

    func surface(_ range: Range<Int>) -> String {
        string(tokens[range.lowerBound].start, tokens[range.upperBound - 1].end)
    }

    func matches(_ words: [String], at i: Int) -> Bool {
        guard i + words.count <= tokens.count else { return false }
        for (k, w) in words.enumerated() where tokens[i + k].lower != w { return false }
        return true
    }

    // MARK: Tokens

    static func isWordScalar(_ s: Unicode.Scalar) -> Bool { Scalars.isWord(s) }

    mutating func tokenize() {
        var i = 0
        var sentence = 0
        var sentenceStart = 0
        var atStart = true
        func closeSentence(at end: Int, question: Bool) {
            sentences.append((sentenceStart, end, question))
            sentence += 1
            atStart = true
        }
        while i < scalars.count {
            let c = scalars[i]
            if Scalars.isSpace(c) {
                if c == "\n", !atStart, let last = tokens.last, last.sentence == sentence {
                    closeSentence(at: i, question: last.lower == "?")
                }
                i += 1
                continue
            }
            if atStart { sentenceStart = i }
            // A whitespace-delimited chunk: an email or a url as one token. Tried once per chunk
            // (at its start), and not on chunks too long to be either (minified JSON, base64).
            var special: Token?
            if i == 0 || Scalars.isSpace(scalars[i - 1]) {
                var chunkEnd = i
                while chunkEnd < scalars.count, chunkEnd - i <= 2048, !Scalars.isSpace(scalars[chunkEnd]) { chunkEnd += 1 }
                if chunkEnd - i <= 2048 { special = specialToken(i, chunkEnd, sentence: sentence) }
            }
            if let special {
                var token = special
                token.sentenceStart = atStart
                atStart = false
                tokens.append(token)
                i = token.end
                continue
            }
            if Self.isWordScalar(c) {
                var j = i + 1
                while j < scalars.count {
                    let d = scalars[j]
                    if Self.isWordScalar(d) { j += 1; continue }
                    // Joiners inside a word: O'Brien, Jean-Luc, 3.5, 3,000, 03/15/2022, node.js.
                    if j + 1 < scalars.count, Self.isWordScalar(scalars[j + 1]) {
                        let digitsAround = Scalars.isDigit(scalars[j - 1]) && Scalars.isDigit(scalars[j + 1])
                        if d == "'" || d == "’" || d == "-" || (d == "." && !(Scalars.isUpper(scalars[j + 1]) && !digitsAround))
                            || ((d == "," || d == "/" || d == ":") && digitsAround) {
                            j += 2
                            continue
                        }
                    }
                    break
                }
                let text = string(i, j)
                let first = scalars[i]
                let kind: TurnAnalysis.Kind = Scalars.isDigit(first) ? .number : .word
                // camelCase (iPhone, PostgreSQL, GitHub), not O'Brien or Fei-Fei.
                let innerCaps = j - i > 2 && ((i + 1)..<j).contains { Scalars.isUpper(scalars[$0]) && Scalars.isLower(scalars[$0 - 1]) }
                    || (j - i > 2 && Scalars.isLower(first) && scalars[(i + 1)..<j].contains { Scalars.isUpper($0) })
                tokens.append(Token(text: text, lower: text.lowercased(), start: i, end: j, kind: kind,
                                    capitalized: Scalars.isUpper(first), innerCaps: innerCaps, sentence: sentence,
                                    sentenceStart: atStart))
                atStart = false
                i = j
                continue
            }
            let text = String(c)
            tokens.append(Token(text: text, lower: text, start: i, end: i + 1, kind: .punct, capitalized: false, innerCaps: false,
                                sentence: sentence, sentenceStart: atStart))
            atStart = false
            i += 1
            if c == "." || c == "!" || c == "?" || c == "…" {
                // Not after a title or an initial ("Dr. Smith", "J. R. R. Tolkien").
                if c == ".", tokens.count >= 2 {
                    let previous = tokens[tokens.count - 2]
                    if previous.end == tokens[tokens.count - 1].start,
                       Lexicon.titles.contains(previous.lower) || (previous.text.unicodeScalars.count == 1 && previous.capitalized) {
                        continue
                    }
                }
                while i < scalars.count, [".", "!", "?", "\"", "'", ")", "”", "’"].contains(scalars[i]) {
                    let t = String(scalars[i])
                    tokens.append(Token(text: t, lower: t, start: i, end: i + 1, kind: .punct, capitalized: false,
                                        innerCaps: false, sentence: sentence))
                    i += 1
                }
                closeSentence(at: i, question: c == "?")
            }
        }
        if !atStart { closeSentence(at: scalars.count, question: tokens.last?.lower == "?") }
        if sentences.isEmpty { sentences.append((0, scalars.count, false)) }
        used = [Bool](repeating: false, count: tokens.count)
        indexSentences()
    }

    private func specialToken(_ start: Int, _ end: Int, sentence: Int) -> Token? {
        var s = start, e = end
        while s < e, ["(", "<", "\"", "'", "[", "“", "‘"].contains(scalars[s]) { s += 1 }
        while e > s, [".", ",", ";", ":", "!", "?", ")", ">", "\"", "'", "]", "”", "’"].contains(scalars[e - 1]) { e -= 1 }
        guard e - s >= 5 else { return nil }
        let first = scalars[s]
        guard first == "h" || first == "H" || first == "w" || first == "W" || scalars[s..<e].contains(where: { $0 == "@" || $0 == "." })
        else { return nil }
        let text = string(s, e)
        let lower = text.lowercased()
        var kind: TurnAnalysis.Kind?
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("www.") || Self.isBareDomain(lower) {
            kind = .url
        } else if let at = text.firstIndex(of: "@"), at != text.startIndex {
            let domain = text[text.index(after: at)...]
            if domain.contains("."), !domain.hasPrefix("."), !domain.contains("@"),
               text[..<at].allSatisfy({ $0.isLetter || $0.isNumber || "._%+-".contains($0) }) {
                kind = .email
            }
        }
        guard let kind, s == start || !Self.isWordScalar(scalars[s - 1]) else { return nil }
        return Token(text: text, lower: lower, start: s, end: e, kind: kind, capitalized: false, innerCaps: false, sentence: sentence)
    }

    private static let fileExtensions: Set<String> = [
        "js", "ts", "py", "rb", "go", "rs", "java", "json", "txt", "md", "csv", "tsv", "pdf", "doc", "docx", "xls", "xlsx", "ppt",
        "pptx", "jpg", "jpeg", "png", "gif", "svg", "html", "htm", "css", "yml", "yaml", "toml", "ini", "cfg", "conf", "sh", "swift",
        "exe", "zip", "gz", "tar", "mp3", "mp4", "mov", "wav", "log", "sql", "db", "xml", "c", "h", "cpp", "kt", "php", "env", "lock",
    ]

    /// `irishgenealogy.ie`, `cardiff.gov.uk/parking`: lowercase labels, dots, a top-level domain
    /// of letters that is not a file extension.
    static func isBareDomain(_ text: String) -> Bool {
        let host = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, let tld = labels.last, (2...6).contains(tld.count), tld.allSatisfy({ $0.isASCII && $0.isLetter }),
              !fileExtensions.contains(String(tld)) else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" } && label.first != "-"
        } && labels.dropLast().contains { $0.count >= 2 }
    }

    // MARK: Patterns: emails, urls, dates, quantities, occupations

    private mutating func take(_ range: Range<Int>, name: String, type: String) {
        for t in range { used[t] = true }
        mentions.append(Mention(range: range, name: name, type: type, sentence: tokens[range.lowerBound].sentence))
    }

    private func isMonth(_ i: Int) -> Int? {
        guard i < tokens.count, tokens[i].kind == .word, let m = Lexicon.months[tokens[i].lower] else { return nil }
        // "may" and "march" are verbs too; a month is capitalised unless the whole text is lowercase.
        if !tokens[i].capitalized && hasUppercase { return nil }
        return m
    }

    private func dayNumber(_ i: Int) -> Int? {
        guard i < tokens.count, tokens[i].kind == .number else { return nil }
        var digits = tokens[i].lower
        for suffix in ["st", "nd", "rd", "th"] where digits.hasSuffix(suffix) { digits.removeLast(2) }
        guard digits.count <= 2, let d = Int(digits), (1...31).contains(d) else { return nil }
        return d
    }

    private func yearNumber(_ i: Int) -> Int? {
        guard i < tokens.count, tokens[i].kind == .number, tokens[i].lower.count == 4, let y = Int(tokens[i].lower),
              (1000...2199).contains(y) else { return nil }
        return y
    }

    private func skipComma(_ i: Int) -> Int { i < tokens.count && tokens[i].lower == "," ? i + 1 : i }

    /// A date at token i: its token range and canonical value.
    private func date(at i: Int) -> (Range<Int>, TimestampValue?)? {
        if let month = isMonth(i) {
            if let day = dayNumber(i + 1) {
                let yearAt = skipComma(i + 2)
                if let year = yearNumber(yearAt) { return (i..<(yearAt + 1), TimestampValue(year: year, month: month, day: day)) }
                return (i..<(i + 2), nil)  // "March 3": no year, no timestamp; still not a name
            }
            var yearAt = skipComma(i + 1)
            if yearAt < tokens.count, tokens[yearAt].lower == "of" { yearAt += 1 }
            if let year = yearNumber(yearAt) { return (i..<(yearAt + 1), TimestampValue(year: year, month: month)) }
            return (i..<(i + 1), nil)
        }
        if let day = dayNumber(i) {
            var monthAt = i + 1
            if monthAt < tokens.count, tokens[monthAt].lower == "of" { monthAt += 1 }
            if let month = isMonth(monthAt) {
                let yearAt = skipComma(monthAt + 1)
                if let year = yearNumber(yearAt) { return (i..<(yearAt + 1), TimestampValue(year: year, month: month, day: day)) }
                return (i..<(monthAt + 1), nil)
            }
        }
        guard i < tokens.count, tokens[i].kind == .number else { return nil }
        let text = tokens[i].lower
        for separator: Character in ["-", "/", "."] where text.contains(separator) {
            let parts = text.split(separator: separator).map { Int($0) }
            guard parts.count == 3, let a = parts[0], let b = parts[1], let c = parts[2] else { continue }
            let lengths = text.split(separator: separator).map(\.count)
            if lengths[0] == 4 { return (i..<(i + 1), TimestampValue(year: a, month: b, day: c)) }
            guard lengths[2] == 4 else { continue }
            // 03/15/2022 is American; 15.03.2022 and 15/03/2022 (day first) are not.
            if separator == "/" && a <= 12 { return (i..<(i + 1), TimestampValue(year: c, month: a, day: b)) }
            return (i..<(i + 1), TimestampValue(year: c, month: b, day: a))
        }
        if let year = yearNumber(i) {
            let next = i + 1 < tokens.count ? tokens[i + 1] : nil
            let previous = i > 0 ? tokens[i - 1] : nil
            if let next, next.kind == .word, Lexicon.units.contains(next.lower) { return nil }
            if let previous, previous.end == tokens[i].start, Lexicon.currencySymbols.contains(scalars[previous.start]) { return nil }
            return (i..<(i + 1), TimestampValue(year: year))
        }
        return nil
    }

    private func numberValue(_ i: Int) -> Bool {
        guard i < tokens.count else { return false }
        let token = tokens[i]
        if token.kind == .number {
            return token.lower.unicodeScalars.allSatisfy { Scalars.isDigit($0) || $0 == "," || $0 == "." }
        }
        return Lexicon.numberWords[token.lower] != nil && (!token.capitalized || token.sentenceStart)
    }

    private static let multipliers: Set<String> = ["thousand", "million", "billion", "trillion", "hundred", "k", "m", "bn"]
    private static let irregularPlurals: Set<String> = ["children", "people", "men", "women", "feet", "teeth", "mice", "sheep",
                                                        "fish", "staff", "kg", "km", "cm", "mm", "ml", "mg", "lb", "oz", "gb", "mb", "tb"]

    /// A quantity at token i: a number with its currency, percent sign, unit or counted noun.
    private func quantity(at i: Int) -> Range<Int>? {
        guard i < tokens.count else { return nil }
        let start = i
        var n = i
        if tokens[i].kind == .punct, Lexicon.currencySymbols.contains(scalars[tokens[i].start]) {
            guard numberValue(i + 1), tokens[i + 1].start == tokens[i].end else { return nil }
            n = i + 1
            var end = n + 1
            if end < tokens.count, Self.multipliers.contains(tokens[end].lower) { end += 1 }
            return start..<end
        }
        // A compact number with a unit: 50k, 5km, 10kg (not 3rd, 5pm).
        if tokens[i].kind == .number, !numberValue(i), dayNumber(i) == nil {
            let letters = String(tokens[i].lower.unicodeScalars.drop { Scalars.isDigit($0) || $0 == "." || $0 == "," })
            if !letters.isEmpty, letters.unicodeScalars.allSatisfy({ Scalars.isLetter($0) }),
               Lexicon.units.contains(letters) || ["k", "m", "bn", "x"].contains(letters) {
                return i..<(i + 1)
            }
            return nil
        }
        guard numberValue(i) else { return nil }
        // Part of a name ("Model 3", "Windows 11"): a capitalised word just before.
        if i > 0, tokens[i - 1].kind == .word, tokens[i - 1].capitalized || tokens[i - 1].innerCaps, !tokens[i - 1].sentenceStart
            || tokens[i - 1].innerCaps {
            return nil
        }
        var end = n + 1
        if end < tokens.count, tokens[end].lower == "%", tokens[end].start == tokens[n].end { return start..<(end + 1) }
        if end < tokens.count, Self.multipliers.contains(tokens[end].lower) { end += 1 }
        guard end < tokens.count, tokens[end].kind == .word else { return nil }
        let unit = tokens[end].lower
        if unit == "percent" || unit == "per cent" { return start..<(end + 1) }
        guard !tokens[end].capitalized, !Lexicon.notCounted.contains(unit), Lexicon.months[unit] == nil else { return nil }
        let word = tokens[i].lower
        let counted = Lexicon.units.contains(unit) || Self.irregularPlurals.contains(unit)
            || (unit.hasSuffix("s") && unit.count > 3 && !unit.hasSuffix("ss") && !unit.hasSuffix("us"))
        if word == "one" && !Lexicon.units.contains(unit) { return nil }
        guard counted else { return nil }
        return start..<(end + 1)
    }

    private static let occupationCues: [[String]] = [
        ["works", "as"], ["worked", "as"], ["work", "as"], ["working", "as"], ["job", "as"], ["employed", "as"],
        ["is", "a"], ["is", "an"], ["was", "a"], ["was", "an"], ["am", "a"], ["am", "an"], ["i'm", "a"], ["i'm", "an"],
        ["she's", "a"], ["she's", "an"], ["he's", "a"], ["he's", "an"], ["became", "a"], ["became", "an"],
        ["become", "a"], ["become", "an"], ["as", "a"], ["as", "an"], ["are", "a"], ["are", "an"], ["'s", "a"],
        ["served", "as"], ["serves", "as"], ["became"], ["was", "the"], ["is", "the"],
    ]

    private static let occupationCuesByFirstWord = Dictionary(grouping: occupationCues, by: { $0[0] })

    /// An occupation after "works as a", "is a", …: modifiers and a job title, at most four words.
    private func occupation(at i: Int) -> Range<Int>? {
        guard let cues = Self.occupationCuesByFirstWord[tokens[i].lower], let cue = cues.first(where: { matches($0, at: i) }) else {
            return nil
        }
        var start = i + cue.count
        if start < tokens.count, ["a", "an"].contains(tokens[start].lower) { start += 1 }
        var best: Range<Int>?
        var k = start
        while k < tokens.count, k < start + 4, tokens[k].kind == .word,
              !tokens[k].capitalized || tokens[k].sentenceStart || Lexicon.occupations.contains(tokens[k].lower)
                || Lexicon.occupationModifiers.contains(tokens[k].lower) {
            let words = tokens[start...k].map(\.lower)
            let phrase = words.joined(separator: " ")
            let lastTwo = words.count >= 2 ? words[(words.count - 2)...].joined(separator: " ") : phrase
            if Lexicon.occupations.contains(phrase) || Lexicon.occupations.contains(words.last!) || Lexicon.occupations.contains(lastTwo) {
                let modifiersOK = words.dropLast().allSatisfy {
                    Lexicon.occupationModifiers.contains($0) || Lexicon.occupations.contains($0)
                }
                if modifiersOK || Lexicon.occupations.contains(phrase) { best = start..<(k + 1) }
            }
            k += 1
        }
        return best
    }

    mutating func findPatterns() {
        var i = 0
        while i < tokens.count {
            let token = tokens[i]
            if token.kind == .email || token.kind == .url {
                take(i..<(i + 1), name: token.text, type: token.kind == .email ? "Email" : "URL")
                i += 1
                continue
            }
            if let (range, value) = date(at: i) {
                if let value { take(range, name: value.text, type: "Timestamp") } else { for t in range { used[t] = true } }
                i = range.upperBound
                continue
            }
            if let range = quantity(at: i) {
                take(range, name: surface(range), type: "Quantity")
                i = range.upperBound
                continue
            }
            i += 1
        }
        i = 0
        while i < tokens.count {
            if !used[i], let range = occupation(at: i), !range.contains(where: { used[$0] }) {
                take(range, name: surface(range), type: "Occupation")
                i = range.upperBound
                continue
            }
            i += 1
        }
    }

    // MARK: Names

    private func startsName(_ i: Int) -> Bool {
        let t = tokens[i]
        guard !used[i], t.kind == .word else { return false }
        return t.capitalized || t.innerCaps
    }

    mutating func findNames() {
        var i = 0
        while i < tokens.count {
            guard startsName(i) else { i += 1; continue }
            // The run: capitalised words, connectors between them, model numbers after them.
            var end = i + 1
            var possessive = tokens[i].lower.hasSuffix("'s") || tokens[i].lower.hasSuffix("’s")
            while !possessive, end < tokens.count, end - i < 8, tokens[end].sentence == tokens[i].sentence {
                if startsName(end) {
                    possessive = tokens[end].lower.hasSuffix("'s") || tokens[end].lower.hasSuffix("’s")
                    end += 1
                    continue
                }
                if Lexicon.connectors.contains(tokens[end].lower), end + 1 < tokens.count, startsName(end + 1) {
                    end += 1
                    continue
                }
                // "iPhone 15", "Model 3", "Galaxy S23": a number right after a product-like name.
                if tokens[end].kind == .number, !used[end], tokens[end].start > tokens[end - 1].end {
                    let head = tokens[i..<end].map(\.lower).joined(separator: " ")
                    if Lexicon.products.contains(head) || tokens[i..<end].contains(where: \.innerCaps)
                        || (end - i >= 2 && (Lexicon.organizations.contains(tokens[i].lower) || Lexicon.products.contains(tokens[i].lower)))
                        || ["model", "galaxy", "pixel", "series", "version", "windows", "playstation", "xbox"].contains(tokens[end - 1].lower) {
                        end += 1
                        continue
                    }
                }
                break
            }
            var range = i..<end
            // Leading ordinary words: "Sure", "The", "My" at a sentence start, titles.
            var personCue = false
            while range.count > 0 {
                let first = tokens[range.lowerBound]
                let phrase = tokens[range].map(\.lower).joined(separator: " ")
                if Self.knownType(phrase) != nil { break }
                if Lexicon.titles.contains(first.lower) {
                    personCue = true
                } else if !(Lexicon.commonWords.contains(first.lower) || Lexicon.weekdays.contains(first.lower)
                            || Lexicon.months[first.lower] != nil || first.lower == "i") {
                    break
                }
                range = (range.lowerBound + 1)..<range.upperBound
                while range.count > 0, !startsName(range.lowerBound) { range = (range.lowerBound + 1)..<range.upperBound }
            }
            while range.count > 0, Lexicon.connectors.contains(tokens[range.upperBound - 1].lower) {
                range = range.lowerBound..<(range.upperBound - 1)
            }
            if range.count > 0, Lexicon.commonWords.contains(tokens[range.upperBound - 1].lower), range.count == 1 {
                range = range.lowerBound..<range.lowerBound
            }
            if range.count > 0 {
                var name = surface(range)
                if name.hasSuffix("'s") || name.hasSuffix("’s") { name.removeLast(2) }
                if name.hasSuffix(".") { name.removeLast() }
                if !name.isEmpty, name.unicodeScalars.count > 1, let type = classify(range, name: name, personCue: personCue) {
                    take(range, name: name, type: type)
                }
            }
            i = max(end, i + 1)
        }
    }

    static func knownType(_ phrase: String) -> String? {
        let p = phrase.hasSuffix("'s") || phrase.hasSuffix("’s") ? String(phrase.dropLast(2)) : phrase
        if Lexicon.locations.contains(p) { return "Location" }
        if Lexicon.organizations.contains(p) { return "Organization" }
        if Lexicon.products.contains(p) { return "Product" }
        if Lexicon.others.contains(p) { return "Other" }
        return nil
    }

    /// The type of a capitalised name, or nil when nothing says what it is and a guess would
    /// more often be wrong than right (a mistyped entity is worse than none).
    private func classify(_ range: Range<Int>, name: String, personCue: Bool) -> String? {
        let words = tokens[range].map(\.lower).map { $0.hasSuffix("'s") || $0.hasSuffix("’s") ? String($0.dropLast(2)) : $0 }
        let phrase = words.joined(separator: " ")
        if let known = Self.knownType(phrase) { return known }
        if personCue { return "Person" }
        let first = words.first!, last = words.last!
        let multi = words.count > 1
        if multi, Lexicon.otherSuffixes.contains(last) || Lexicon.otherPrefixes.contains(first) { return "Other" }
        if multi, Lexicon.organizationSuffixes.contains(last) || Lexicon.clubPrefixes.contains(first) { return "Organization" }
        if Lexicon.organizationPrefixes.contains(first) && words.count > 2 && words[1] == "of" { return "Organization" }
        if multi, Lexicon.locationSuffixes.contains(last) { return "Location" }
        if multi, Lexicon.locationPrefixes.contains(first), !Lexicon.firstNames.contains(first) { return "Location" }
        if multi, ["of", "de", "del"].contains(words[1]), Lexicon.locationSuffixes.contains(first) { return "Location" }
        // A brand and a model: "Toyota Corolla", "Google Calendar", "Sony WH-1000XM5".
        if multi, Lexicon.organizations.contains(first) || Lexicon.products.contains(first) { return "Product" }
        if tokens[range].contains(where: { $0.kind == .number || $0.text.unicodeScalars.contains(where: Scalars.isDigit) }) { return "Product" }
        if tokens[range].contains(where: { $0.innerCaps && !$0.text.hasPrefix("Mc") && !$0.text.hasPrefix("Mac") }) { return "Product" }
        // All capitals, short: an acronym (IBM, NASA, MIT).
        let only = tokens[range.lowerBound].text.unicodeScalars
        if !multi, only.count <= 6, only.count >= 2, only.allSatisfy({ !Scalars.isLower($0) }) { return "Organization" }
        if Lexicon.firstNames.contains(first) && !Lexicon.locations.contains(first) { return "Person" }
        let before = range.lowerBound > 0 ? tokens[range.lowerBound - 1].lower : ""
        let beforeTwo = range.lowerBound > 1 ? tokens[range.lowerBound - 2].lower + " " + before : ""
        let after = range.upperBound < tokens.count ? tokens[range.upperBound].lower : ""
        let afterTwo = range.upperBound + 1 < tokens.count ? after + " " + tokens[range.upperBound + 1].lower : ""
        if Lexicon.personContext.contains(before) && before != "with" && before != "by" { return "Person" }
        if Lexicon.personFollowers.contains(after) || Lexicon.personFollowers.contains(afterTwo) {
            if !Lexicon.locationContext.contains(before) { return "Person" }
        }
        if ["at", "for", "joined", "join", "founded"].contains(before) || ["works at", "work at", "studied at", "job at"].contains(beforeTwo) {
            return "Organization"
        }
        if Lexicon.locationContext.contains(before) || Lexicon.locationContext.contains(beforeTwo) { return "Location" }
        // Two or three capitalised words with no other sign: most often a person's name. One
        // word alone (or opening a sentence) could be anything: left out.
        if multi, words.count <= 3, !tokens[range.lowerBound].sentenceStart || Lexicon.firstNames.contains(first) { return "Person" }
        return nil
    }

    /// In text written all in lowercase: names from the word lists, never everyday words.
    mutating func findLowercaseNames() {
        var i = 0
        while i < tokens.count {
            guard !used[i], tokens[i].kind == .word else { i += 1; continue }
            var matched = false
            for length in stride(from: 3, through: 1, by: -1) where i + length <= tokens.count {
                let range = i..<(i + length)
                guard !range.contains(where: { used[$0] || tokens[$0].kind != .word }) else { continue }
                let phrase = tokens[range].map(\.lower).joined(separator: " ")
                let base = phrase.hasSuffix("'s") ? String(phrase.dropLast(2)) : phrase
                if length == 1, Lexicon.commonWords.contains(base) || Lexicon.ambiguousLowercase.contains(base) { continue }
                var type = Self.knownType(base)
                if type == nil, length == 1, Lexicon.firstNames.contains(base) { type = "Person" }
                if type == nil, length == 2, Lexicon.firstNames.contains(tokens[i].lower), !Lexicon.ambiguousLowercase.contains(tokens[i].lower),
                   Lexicon.firstNames.contains(tokens[i + 1].lower) || false {
                    type = "Person"
                }
                guard let type else { continue }
                take(range, name: base == phrase ? surface(range) : String(surface(range).dropLast(2)), type: type)
                i = range.upperBound
                matched = true
                break
            }
            if !matched { i += 1 }
        }
    }
}
