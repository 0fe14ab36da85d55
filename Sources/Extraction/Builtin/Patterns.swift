import GraphStore

/// Emails, urls, dates, quantities and occupations: the mentions found by their shape, before names.
extension Segment {
    mutating func take(_ range: Range<Int>, name: String, type: String) {
        for t in range { used[t] = true }
        mentions.append(Mention(range: range, name: name, type: type, sentence: tokens[range.lowerBound].sentence))
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

    /// Lowercase words that can start a date or a quantity.
    static let patternWords: Set<String> = relativeStarts.union(Lexicon.months.keys).union(Lexicon.numberWords.keys)
        .union(["ad", "ce", "bc", "bce", "ph"])

    mutating func findPatterns(today: Int64?) {
        var i = 0
        while i < tokens.count {
            let token = tokens[i]
            if token.kind == .email || token.kind == .url {
                take(i..<(i + 1), name: token.text, type: token.kind == .email ? "Email" : "URL")
                i += 1
                continue
            }
            // A lowercase word outside these starts no date or quantity: one look-up instead of each pattern's own.
            if token.kind == .word, !token.capitalized, !token.lower.utf8.contains(UInt8(ascii: "-")), !Self.patternWords.contains(token.lower) {
                i += 1
                continue
            }
            if let found = today.flatMap({ relativeDate(at: i, today: $0) }) ?? date(at: i, today: today) {
                for t in found.range { used[t] = true }
                for point in found.points {
                    if let value = point.value { take(point.range, name: value.text, type: "Timestamp") }
                }
                // The span's mention covers the word joining the two ends, so each end keeps its own tokens.
                if let span = found.span { take(span.range, name: span.value.text, type: "Timestamp") }
                i = found.range.upperBound
                continue
            }
            if let range = timeZone(at: i) {
                for t in range { used[t] = true }
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
}
