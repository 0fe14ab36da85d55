import GraphStore

/// Emails, urls, dates, quantities and occupations: the mentions found by their shape, before names.
extension Segment {
    mutating func take(_ range: Range<Int>, name: String, type: String) {
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

    mutating func findPatterns(today: Int64?) {
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
}
