import GraphStore

/// Relations between the mentions of one segment: a place and where it is, the fixed verbs
/// (`Lexicon.relationCues`) with their subjects and objects, and "X and Y met/married".
extension TurnAnalysis {
    mutating func findRelations(in segment: Segment, canonical: [Int: String]) {
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
        // Each mention's type in the labels' spelling, once (lowercasing on every look would allocate).
        let mentionTypes = mentions.map { Segment.evaluationType($0.type) }
        func type(_ m: Int) -> String { mentionTypes[m] }
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
                let relationName = Self.renamedCues[cue.cue.joined(separator: " ")] ?? cue.relation
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
                            if relationName != "born_in" { break }
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
                        var relation = relationName
                        if relationName == "born_in", type(m) == "date" { relation = "born_on" }
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
        findPatternRelations(in: segment, canonical: canonical, seen: &seen)
    }

    /// Cues whose relation the labelled corpus names otherwise ("co-founded" is `co_founded`, not `founded`).
    static let renamedCues: [String: String] = [
        "co-founded": "co_founded", "cofounded": "co_founded", "taught at": "taught_at", "teaches at": "taught_at", "teach at": "taught_at",
        "worked at": "worked_at", "worked for": "worked_at", "lived in": "lived_in",
    ]

    /// How far back a subject is looked for (tokens): bounds the work on run-on sentences.
    static let scanLimit = 40
}
