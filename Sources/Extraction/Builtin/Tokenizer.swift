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
}
