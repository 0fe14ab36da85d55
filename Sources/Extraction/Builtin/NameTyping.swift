/// Capitalised runs of words (and, in all-lowercase text, names from the word lists), typed
/// person, organization, location, product or other.
extension Segment {
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
