import GraphStore

/// Relations read from the sentence's structure rather than from the fixed cue list: verbs with
/// their subjects and objects, active and passive ("built by the Inca"), with coordinated ends
/// ("co-founded Nvidia with Chris Malachowsky and Curtis Priem"); verbs with a place or a date
/// ("founded in Zurich in 1856", "released on 5 May"); appositives ("Satya Nadella, the CEO of
/// Microsoft"), possessives ("Microsoft's CEO Satya Nadella", "Japan's Kyoto"), a title before a
/// name ("the architect Oscar Niemeyer"), copulas ("Ana is a nurse at St Mary's", "Lyon is in
/// France") and places in places ("Gaggan, Bangkok"). Relation names are the labelled corpus's
/// vocabulary (docs/EXTRACTION-CORPUS.md), active voice.
extension TurnAnalysis {
    typealias Types = Set<String>

    struct Verb {
        var relation: String
        var subjects: Types
        var objects: Types
        /// A preposition the object follows ("starred in", "flows through"), if the verb takes one.
        var preposition: String?
    }

    private static let agents: Types = ["person", "organization"]
    private static let works: Types = ["product", "other", "event"]
    private static let anything: Types = ["person", "organization", "location", "product", "event", "other"]

    /// Verb forms to what they state. The past and present keep the corpus's names ("led", "leads").
    static let verbs: [String: Verb] = {
        var table: [String: Verb] = [:]
        func add(_ forms: [String], _ relation: String, _ subjects: Types, _ objects: Types, _ preposition: String? = nil) {
            for form in forms { table[form] = Verb(relation: relation, subjects: subjects, objects: objects, preposition: preposition) }
        }
        add(["win", "wins", "won", "winning", "took", "claimed", "received", "receives", "shared", "shares", "earned", "collected", "clinched"],
            "won", agents.union(["product", "other", "location"]), ["other", "event", "product"])
        add(["beat", "beats", "defeated", "defeats", "defeating", "beating"], "defeated", agents.union(["location"]),
            agents.union(["location"]))
        add(["founded", "founds", "establishes", "established"], "founded", agents, ["organization", "other", "event", "product"])
        add(["co-founded", "cofounded", "co-founds", "co-founding"], "co_founded", agents, ["organization", "other", "product"])
        add(["created", "creates", "create", "creating"], "created", agents, works.union(["organization"]))
        add(["wrote", "writes", "write", "written", "authored", "writing"], "wrote", ["person"], ["other", "product"])
        add(["designed", "designs", "design"], "designed", agents, ["location", "product", "other"])
        add(["directed", "directs", "direct"], "directed", ["person"], ["other", "product", "event"])
        add(["developed", "develops", "develop", "developing"], "developed", agents, ["product", "other"])
        add(["acquired", "acquires", "acquire", "buys", "purchased"], "acquired", ["organization", "person"], ["organization"])
        add(["launched", "launches", "launch"], "launched", agents, ["product", "event", "other"])
        add(["released", "releases"], "released", agents, ["other", "product"])
        add(["published"], "published", agents, ["other", "product"])
        add(["publishes", "publish"], "publishes", agents, ["other", "product"])
        add(["painted", "paints"], "painted", ["person"], ["other", "product"])
        add(["built", "builds", "build"], "built", agents.union(["other"]), ["location", "product", "other", "organization"])
        add(["discovered", "discovers"], "discovered", agents, ["other", "location", "product"])
        add(["invented", "invents"], "invented", agents, ["product", "other"])
        add(["composed", "composes"], "composed", ["person"], ["other"])
        add(["signed", "signs"], "signed", agents.union(["location"]), ["other"])
        add(["starred"], "starred_in", ["person"], ["other", "product"], "in")
        add(["stars", "star"], "stars_in", ["person"], ["other", "product"], "in")
        add(["starring"], "starred_in", ["person"], ["other", "product"])
        add(["played"], "played", ["person"], ["person", "other"])
        add(["plays"], "plays", ["person"], ["person", "other"])
        add(["leads", "heads", "lead", "chairs"], "leads", agents, ["organization", "other", "event", "location"])
        add(["led", "headed", "chaired"], "led", agents, ["organization", "other", "event", "location"])
        add(["runs", "run", "ran", "running"], "runs", agents, ["organization", "location", "other", "product", "event"])
        add(["operates"], "operates", agents, ["product", "location", "other", "organization"])
        add(["owns", "own", "owned"], "owns", agents, ["organization", "product", "location", "other"])
        add(["operates", "operate", "operated", "operating"], "operates", agents, ["product", "location", "other", "organization"])
        add(["makes", "make", "manufactures", "manufactured", "produces", "produced", "made"], "makes", ["organization"], ["product"])
        add(["offers", "offer", "offered"], "offers", ["organization"], ["product", "other"])
        add(["hosts", "hosted", "host"], "hosts", agents.union(["location"]), ["event"])
        add(["translated", "translates"], "translated", ["person"], ["other"])
        add(["predicted", "predicts"], "predicted", ["person"], ["other"])
        add(["orbits", "orbit", "orbited"], "orbits", ["location", "product"], ["location"])
        add(["borders", "border"], "borders", ["location"], ["location"])
        add(["connects", "connect", "links"], "connects", ["location", "product", "other"], ["location"])
        add(["flows", "flow", "flowing"], "flows_through", ["location"], ["location"], "through")
        add(["causes", "caused", "cause"], "causes", ["other", "organization", "product"], ["other"])
        add(["enforces", "enforce", "enforced"], "enforces", ["organization"], ["other"])
        add(["administers", "administer", "administered"], "administers", ["organization"], ["other", "location"])
        add(["partnered", "partners"], "partnered_with", agents, ["organization"], "with")
        add(["replaced", "replaces"], "replaced", anything, anything)
        add(["diagnosed"], "diagnosed_with", ["person"], ["other"], "with")
        add(["taught", "teaches", "teach"], "taught_at", ["person"], ["organization"], "at")
        add(["joined", "joins"], "joined", ["person", "organization"], ["organization"])
        add(["visited", "visits"], "visited", ["person"], ["location"])
        add(["married"], "married_to", ["person"], ["person"])
        add(["uses", "use", "used", "using"], "uses", agents, ["product"])
        add(["attends", "attended"], "attends", ["person"], ["organization", "event"])
        add(["supplies", "supplied"], "supplies", ["organization"], ["organization", "product"])
        add(["sponsors", "sponsored"], "sponsors", ["organization"], ["event", "organization"])
        add(["regulates", "regulated"], "regulates", ["organization"], ["organization", "other"])
        add(["headlines", "headlined"], "headlines", ["person", "organization"], ["event"])
        // Read backwards: "the UK comprises England, Scotland, Wales and Northern Ireland".
        add(["comprises", "comprise", "comprised", "encompasses"], "comprises", anything, anything)
        return table
    }()

    /// Verbs whose place and date become `<verb>_in` and `<verb>_on` ("founded in Zurich in 1856").
    static let placeAndDateVerbs: [String: String] = [
        "founded": "founded", "established": "founded", "released": "released", "launched": "launched", "published": "published",
        "opened": "opened", "born": "born", "died": "died", "ended": "ended", "started": "started", "began": "started",
        "announced": "announced", "signed": "signed", "completed": "completed", "held": "held", "conducted": "conducted",
        "produced": "produced", "premiered": "premiered", "landed": "landed", "collapsed": "collapsed", "approved": "approved",
        "introduced": "introduced", "closed": "closed", "reopened": "reopened", "inaugurated": "inaugurated", "adopted": "adopted",
        "created": "created", "built": "built", "discovered": "discovered", "fell": "fell", "resigned": "resigned", "retired": "retired",
        "elected": "elected", "appointed": "appointed", "took": "took", "happened": "happened", "occurred": "happened",
        "worked": "worked", "works": "works", "lived": "lived", "grew": "grew", "studied": "studied", "performed": "performed",
        "shot": "shot", "filmed": "filmed", "based": "based", "headquartered": "based",
    ]

    /// Names of a role in an organisation, to the relation of its holder ("the CEO of X").
    static let roles: [String: String] = [
        "ceo": "ceo_of", "chief executive": "ceo_of", "chief executive officer": "ceo_of", "president": "president_of",
        "chair": "chair_of", "chairman": "chair_of", "chairwoman": "chair_of", "chairperson": "chair_of", "director": "director_of",
        "director-general": "director_general_of", "secretary-general": "secretary_general_of", "founder": "founded",
        "co-founder": "co_founded", "cofounder": "co_founded", "member": "member_of", "head": "leads", "leader": "leads",
    ]

    /// `seen`: the relations found so far, as `key(source) \u{1} name \u{1} key(target)`.
    mutating func findPatternRelations(in segment: Segment, canonical: [Int: String], seen: inout Set<String>) {
        let tokens = segment.tokens
        let mentions = segment.mentions
        guard !mentions.isEmpty else { return }
        // Each mention's type in the labels' spelling, once (lowercasing on every look would allocate).
        let mentionTypes = mentions.map { Segment.evaluationType($0.type) }
        func type(_ m: Int) -> String { mentionTypes[m] }
        func name(_ m: Int) -> String { canonical[m] ?? mentions[m].name }
        func add(_ s: Int, _ relation: String, _ o: Int) {
            let source = name(s), target = name(o)
            guard Self.key(source) != Self.key(target), type(s) != "date" || type(o) != "date" else { return }
            guard seen.insert(Self.key(source) + "\u{1}" + relation + "\u{1}" + Self.key(target)).inserted else { return }
            relations.append(.init(source: source, target: target, name: relation, description: nil))
        }
        var mentionAt = [Int?](repeating: nil, count: tokens.count)
        for (i, m) in mentions.enumerated() {
            // A range's span (on the joining word) never hides the ends' own tokens.
            if m.type == "Timestamp", m.name.contains("/") { continue }
            for t in m.range { mentionAt[t] = i }
        }
        func words(_ from: Int, _ to: Int) -> [String] { from < to ? tokens[from..<to].map(\.lower) : [] }
        func sameSentence(_ a: Int, _ b: Int) -> Bool { a < tokens.count && b < tokens.count && tokens[a].sentence == tokens[b].sentence }
        /// The mention starting at token t (after skipping articles), if any.
        func mention(startingAt t: Int, skipping: Set<String> = ["the", "a", "an"]) -> Int? {
            var t = t
            while t < tokens.count, skipping.contains(tokens[t].lower), mentionAt[t] == nil { t += 1 }
            guard t < tokens.count, let m = mentionAt[t], mentions[m].range.lowerBound == t else { return nil }
            return m
        }
        /// Mentions joined to m by "," / "and" / "&", of one of `types` (m included).
        func coordinated(from m: Int, types: Types) -> [Int] {
            var list = [m]
            var t = mentions[m].range.upperBound
            while t + 1 < tokens.count, sameSentence(t, mentions[m].range.lowerBound), [",", "and", "&"].contains(tokens[t].lower) {
                var next = t + 1
                if tokens[t].lower == ",", next < tokens.count, tokens[next].lower == "and" { next += 1 }
                guard let o = mention(startingAt: next), types.contains(type(o)) else { break }
                list.append(o)
                t = mentions[o].range.upperBound
            }
            return list
        }

        /// The nearest mention of `types` before token t in its sentence, passing over other mentions
        /// but not over another subject ("I", "we") or a clause of its own.
        func subjectBefore(_ t: Int, types: Types = TurnAnalysis.anything) -> Int? {
            subjectsBefore(t, types: types).first
        }

        /// Mentions joined before m by "and" or "," ("A, B and the lyricist C"), m first.
        func coordinatedBefore(_ m: Int) -> [Int] {
            var list = [m]
            var k = mentions[m].range.lowerBound - 1
            while k >= 1 {
                // Skip "the", "his", "her" and an occupation naming the next one ("and the lyricist C").
                while k >= 1, ["the", "his", "her", "their"].contains(tokens[k].lower) || mentionAt[k].map({ type($0) == "occupation" }) == true {
                    k = mentionAt[k].map { mentions[$0].range.lowerBound - 1 } ?? k - 1
                }
                guard k >= 1, [",", "and", "&"].contains(tokens[k].lower) else { break }
                var j = k - 1
                if tokens[k].lower == "and", j >= 0, tokens[j].lower == "," { j -= 1 }
                guard j >= 0, let other = mentionAt[j], type(other) == type(m) else { break }
                list.append(other)
                k = mentions[other].range.lowerBound - 1
            }
            return list
        }

        /// The subjects of the verb at t: the nearest fitting mention before it in its sentence (and
        /// those coordinated with it), or what a pronoun before it refers to ("she": the last person
        /// named; "they": the last people or companies named together).
        func subjectsBefore(_ t: Int, types: Types) -> [Int] {
            if t > 0, tokens[t - 1].lower == "to", let m = sentenceSubject(before: t, types: types) { return coordinatedBefore(m) }
            var s = t - 1
            while s >= 0, sameSentence(s, t), t - s <= Self.scanLimit {
                if let m = mentionAt[s] {
                    // "left Google and joined Stripe": Google is what another verb acted on, not the subject.
                    if types.contains(type(m)), !isObjectOfVerb(m) {
                        // "Zohran Mamdani, a state assemblyman from Queens, won …": the place is in an aside.
                        if type(m) == "location", let opener = sentenceSubject(before: mentions[m].range.lowerBound, types: types.subtracting(["location"])) {
                            return coordinatedBefore(opener)
                        }
                        return coordinatedBefore(m)
                    }
                    s = mentions[m].range.lowerBound - 1
                    continue
                }
                let word = tokens[s].lower
                if ["he", "she"].contains(word), types.contains("person") {
                    return lastMention(before: s, where: { type($0) == "person" }).map { [$0] } ?? []
                }
                if word == "they" {
                    // The last people or companies named together before the pronoun.
                    var k = s
                    while s - k <= Self.referenceLimit, let m = lastMention(before: k, where: { types.contains(type($0)) }),
                          tokens[s].sentence - mentions[m].sentence <= 1 {
                        let group = coordinatedBefore(m)
                        if group.count > 1 { return group }
                        k = mentions[m].range.lowerBound
                    }
                    return []
                }
                if word == "it", s == firstToken(of: tokens[s].sentence) || tokens[s - 1].lower == "and" || tokens[s - 1].lower == ",",
                   let m = lastMention(before: s, where: { types.contains(type($0)) && type($0) != "person" && type($0) != "location" }),
                   tokens[s].sentence - mentions[m].sentence <= 1 {
                    return [m]
                }
                if Segment.otherSubjects.contains(word) || word == ";" { return [] }
                s -= 1
            }
            return []
        }

        func firstToken(of sentence: Int) -> Int { segment.firstToken[sentence] }

        /// The agent after "by": "by the Inca", "by the Argentine-American architect César Pelli".
        func agent(after by: Int, types: Types) -> Int? {
            var k = by + 1
            while k < tokens.count, sameSentence(k, by), k <= by + 6 {
                if let m = mentionAt[k] {
                    if types.contains(type(m)) { return m }
                    guard type(m) == "occupation" else { return nil }
                    k = mentions[m].range.upperBound
                    continue
                }
                guard tokens[k].kind == .word, !Self.clauseWords.contains(tokens[k].lower) || ["the", "a", "an", "its", "their", "his", "her"].contains(tokens[k].lower)
                else { return nil }
                k += 1
            }
            return nil
        }

        /// The sentence's first mention, if it comes before t and fits: the subject of "to win" in
        /// "Spain beat England 1–0 in Sydney to win their first World Cup".
        func sentenceSubject(before t: Int, types: Types) -> Int? {
            let first = firstToken(of: tokens[t].sentence)
            guard t - first <= Self.scanLimit else { return nil }
            var k = first
            while k < t {
                if let m = mentionAt[k] { return types.contains(type(m)) && !isObjectOfVerb(m) ? m : nil }
                k += 1
            }
            return nil
        }

        func isObjectOfVerb(_ m: Int) -> Bool {
            var k = mentions[m].range.lowerBound - 1
            while k >= 0, ["the", "a", "an", "his", "her", "its", "their"].contains(tokens[k].lower) { k -= 1 }
            guard k >= 0, tokens[k].kind == .word, mentionAt[k] == nil, sameSentence(k, mentions[m].range.lowerBound) else { return false }
            let word = tokens[k].lower
            return Self.verbs[word] != nil && !["run", "use", "own", "design", "direct", "lead"].contains(word) || ["left", "leaving", "joined"].contains(word)
        }

        /// Bounded (``referenceLimit`` tokens back), so a long text of pronouns stays linear work.
        func lastMention(before t: Int, where fits: (Int) -> Bool) -> Int? {
            var k = t - 1
            while k >= 0, t - k <= Self.referenceLimit {
                if let m = mentionAt[k] {
                    if fits(m) { return m }
                    k = mentions[m].range.lowerBound - 1
                    continue
                }
                k -= 1
            }
            return nil
        }

        // MARK: Pairs of neighbouring mentions
        let ordered = mentions.indices.filter { !(mentions[$0].type == "Timestamp" && mentions[$0].name.contains("/")) }
        for (k, a) in ordered.enumerated() {
            let end = mentions[a].range.upperBound
            guard k + 1 < ordered.count else { break }
            let b = ordered[k + 1]
            // No rule reads more than a few words between two mentions.
            guard sameSentence(mentions[a].range.lowerBound, mentions[b].range.lowerBound), mentions[b].range.lowerBound >= end,
                  mentions[b].range.lowerBound - end <= 12 else { continue }
            let between = words(end, mentions[b].range.lowerBound)
            let joined = between.joined(separator: " ")
            let (ta, tb) = (type(a), type(b))
            if segment.isAsked(end) { continue }
            // "the architect Oscar Niemeyer", "British lawyer Cyril Radcliffe": a title before the name.
            if ta == "occupation", tb == "person", between.isEmpty || between.allSatisfy({ Lexicon.titles.contains($0.hasSuffix(".") ? String($0.dropLast()) : $0) || $0 == "." }) {
                add(b, "works_as", a)
            }
            // "Ana Lima, a nurse", "Oscar Niemeyer, the Brazilian architect", "Ana is a nurse"; not
            // "Parag Agrawal, the CFO Ned Segal" (the CFO is Ned Segal).
            if ta == "person", tb == "occupation", Self.apposition(between),
               !(k + 2 < ordered.count && type(ordered[k + 2]) == "person" && mentions[ordered[k + 2]].range.lowerBound == mentions[b].range.upperBound) {
                add(a, "works_as", b)
            }
            // "a nurse at St Mary's", "professor of physics at MIT": where the occupation is held.
            if ta == "occupation", tb == "organization", ["at", "at the", "of", "of the", "for", "for the", "with", "in", "in the"].contains(joined) {
                var p = mentions[a].range.lowerBound - 1
                var person: Int?
                while p >= 0, sameSentence(p, end), mentions[a].range.lowerBound - p <= 8 {
                    if let m = mentionAt[p] {
                        if type(m) == "person" { person = m }
                        break
                    }
                    p -= 1
                }
                if let person {
                    let role = Self.roles[mentions[a].name.lowercased()]
                    add(person, role ?? "works_at", b)
                }
            }
            // "Jennifer Doudna of the University of California", "Kim Ji-hoon at Samsung".
            if ta == "person", tb == "organization", ["of", "of the", "at", "at the", "and colleagues at", "and colleagues at the"].contains(joined) {
                add(a, "works_at", b)
            }
            // "Gaggan, Bangkok", "the Louvre in Paris", "Wimbledon in London", "Angkor Wat (Cambodia)".
            if ["location", "organization", "event"].contains(ta), tb == "location",
               ["in", "in the", ", in", ", in the", "(", "on", "on the", "near", "near the", "outside", "just outside"].contains(joined)
                || Self.placedIn(between)
                || (joined == "," && ta != "event" && !Self.listContinues(segment, after: mentions[b].range.upperBound, mentionAt: mentionAt, mentions: mentions)
                    && !(mentions[a].range.lowerBound > 0 && [",", "and"].contains(tokens[mentions[a].range.lowerBound - 1].lower))) {
                let relation: String
                switch (ta, between.first ?? ",") {
                case ("event", _): relation = "held_in"
                case (_, "on"): relation = "located_on"
                case (_, "near"), (_, "outside"), (_, "just"): relation = "located_near"
                default: relation = "located_in"
                }
                add(a, relation, b)
            }
            // "NASA's Marshall Space Flight Center", "Kennedy Space Center's Launch Complex 39A": a part of an organisation.
            if ta == "organization", ["organization", "location"].contains(tb), between.isEmpty, tokens[end - 1].lower.hasSuffix("'s") {
                add(b, "part_of", a)
            }
            // "Spain's weather agency AEMET", "New York's Seagram Building".
            if ta == "location", ["organization", "location", "other", "product"].contains(tb), tokens[end - 1].lower.hasSuffix("'s"),
               !between.isEmpty, between.count <= 3, between.allSatisfy({ $0.first?.isLetter == true && !Self.clauseWords.contains($0) }),
               tokens[end..<mentions[b].range.lowerBound].allSatisfy({ !$0.capitalized }) {
                add(b, "located_in", a)
            }
            // "Law 11 of the Laws of the Game", "Article 6 of the Paris Agreement".
            if ta == "other", tb == "other", joined == "of" || joined == "of the" { add(a, "part_of", b) }
            // "a specialised agency of the United Nations", "the San Lorenzo district of Rome", "which is part of GCHQ".
            if ta != "date", ta != "person", ta != "quantity", let relation = Self.partOf(between, target: tb) { add(a, relation, b) }
            // "Japan's Kyoto", "Florida's Big Bend": a place's place.
            if ta == "location", ["location", "organization", "event", "other"].contains(tb), between == ["'s"] || between.isEmpty && mentions[a].name != name(a)
                || tokens[mentions[a].range.upperBound - 1].lower.hasSuffix("'s") && between.isEmpty {
                add(b, tb == "event" ? "held_in" : "located_in", a)
            }
            // "Tolkien's The Hobbit", "Vermeer's Girl with a Pearl Earring": by the kind of work the sentence names.
            if ta == "person", tb == "other" || tb == "product", between.isEmpty, tokens[end - 1].lower.hasSuffix("'s") || tokens[end - 1].lower.hasSuffix("’s") {
                let window = max(0, end - Self.scanLimit)..<min(tokens.count, end + Self.scanLimit)
                let sentenceWords = Set(window.filter { tokens[$0].sentence == tokens[end].sentence }.map { tokens[$0].lower })
                if let relation = Self.workKinds.first(where: { !sentenceWords.isDisjoint(with: $0.words) })?.relation { add(a, relation, b) }
            }
            // "Lima, where Jorge Chávez International Airport …"
            if ta == "location", ["location", "organization", "event", "other"].contains(tb), joined == ", where" || joined == ", where the" {
                add(b, tb == "event" ? "held_in" : "located_in", a)
            }
            // "Casa Oaxaca, one of the best-known restaurants in Oaxaca City"
            if ["location", "organization"].contains(ta), tb == "location", between.first == ",", between.count <= 8, between.dropFirst().first == "one",
               between.last == "in" {
                add(a, "located_in", b)
            }
            // "Sony's PlayStation": what a company makes.
            if ta == "organization", tb == "product", between == ["'s"] || between.isEmpty && tokens[end - 1].lower.hasSuffix("'s") {
                add(a, "makes", b)
            }
            // "Wimbledon (1877)", "the Tōkaidō Shinkansen, opened in 1964" are read by the verbs; an
            // event's date right after it: "Live Aid on 13 July 1985", "the Battle of Hastings in 1066".
            if ta == "event", tb == "date", ["", "on", "in", ",", "(", ", on", ", in", "was held on", "took place on", "took place in", "runs from",
                                             "ran from", "from", "was held from", "is on", "falls on", "is held on", "was on", "began on",
                                             "starts on", "on the night of", "at midnight on"].contains(joined) {
                add(a, "happened_on", b)
                // "from 26 to 30 June": the end too.
                if let c = mention(startingAt: mentions[b].range.upperBound + 1), type(c) == "date",
                   mentions[b].range.upperBound < tokens.count, ["to", "–", "-", "until", "and"].contains(tokens[mentions[b].range.upperBound].lower) {
                    add(a, "happened_on", c)
                }
            }
            // "Rembrandt (1606–1669)": born and died.
            if ta == "person", tb == "date", joined == "(" {
                add(a, "born_on", b)
                if let c = mention(startingAt: mentions[b].range.upperBound + 1), type(c) == "date" { add(a, "died_on", c) }
            }
            // "Paris, the capital of France"
            if ta == "location", tb == "location", [", the capital of", "is the capital of", ", capital of", "was the capital of"].contains(joined) {
                add(a, "capital_of", b)
            }
            if tb == "location" || tb == "organization", ta != "date", [", part of", ", part of the", "is part of", "is part of the", ", a part of",
                                                                         "was part of", "part of the", ", a unit of", ", a division of",
                                                                         ", a subsidiary of", "is a subsidiary of", ", an arm of"].contains(joined) {
                add(a, "part_of", b)
            }
            // Roles: "Satya Nadella, the CEO of Microsoft", "Microsoft's CEO Satya Nadella", "Microsoft CEO Satya Nadella".
            if ta == "person", tb == "organization", let role = Self.role(between, before: true) { add(a, role, b) }
            if ta == "organization", tb == "person", let role = Self.role(between, before: false) { add(b, role, a) }
        }
        // Roles named by an occupation mention between: "Satya Nadella, the CEO of Microsoft".
        for (k, a) in ordered.enumerated() where k + 2 < ordered.count {
            let (r, b) = (ordered[k + 1], ordered[k + 2])
            guard type(r) == "occupation", let role = Self.roles[mentions[r].name.lowercased()],
                  sameSentence(mentions[a].range.lowerBound, mentions[b].range.lowerBound) else { continue }
            let first = words(mentions[a].range.upperBound, mentions[r].range.lowerBound)
            let second = words(mentions[r].range.upperBound, mentions[b].range.lowerBound)
            if type(a) == "person", type(b) == "organization", [[","], [",", "the"], [",", "a"], [",", "its"]].contains(first),
               [["of"], ["of", "the"], ["at"], ["at", "the"]].contains(second) {
                add(a, role, b)
            }
            if type(a) == "organization", type(b) == "person", first == ["'s"] || first.isEmpty, second.isEmpty || second == [","] {
                add(b, role, a)
            }
        }

        // An event and the dates of its sentence: "Thanksgiving tomorrow", "the Partition of India at
        // midnight on 14–15 August 1947"; one event only, or the dates could be any of theirs.
        var bySentence: [Int: [Int]] = [:]
        for m in ordered { bySentence[mentions[m].sentence, default: []].append(m) }
        // In sentence order: a dictionary's own order changes from one process to the next.
        for (_, list) in bySentence.sorted(by: { $0.key < $1.key }) {
            let events = list.filter { type($0) == "event" }
            let dates = list.filter { type($0) == "date" }
            guard events.count == 1, (1...2).contains(dates.count), !segment.isAsked(mentions[events[0]].range.lowerBound) else { continue }
            let event = events[0]
            for d in dates where mentions[d].range.lowerBound >= mentions[event].range.upperBound {
                // Near after the event, nobody else acting in between.
                let gap = mentions[event].range.upperBound..<mentions[d].range.lowerBound
                guard gap.count <= 12, !gap.contains(where: { mentionAt[$0].map { ["person", "organization", "product", "other", "event"].contains(type($0)) } ?? false })
                else { continue }
                add(event, "happened_on", d)
            }
        }
        // "the Berlin Marathon", "Wimbledon 2025 … in London": an event named after its place.
        for e in ordered where type(e) == "event" {
            let words = " " + Self.key(name(e)) + " "
            for place in entities where Segment.evaluationType(place.type) == "location" {
                let key = Self.key(place.name)
                if key.count > 2, words.contains(" " + key + " "), key != Self.key(name(e)) {
                    let source = name(e)
                    if seen.insert(Self.key(source) + "\u{1}held_in\u{1}" + key).inserted {
                        relations.append(.init(source: source, target: place.name, name: "held_in", description: nil))
                    }
                }
            }
        }

        // MARK: Verbs
        for t in tokens.indices where mentionAt[t] == nil && tokens[t].kind == .word {
            let word = tokens[t].lower
            // One look-up rules out most words: only these start a verb rule.
            guard Self.cueWords.contains(word), !segment.isAsked(t) else { continue }
            let sentence = tokens[t].sentence
            // A place and a date after a verb: "founded in Zurich in 1856", "released on 5 May 2023".
            if let stem = Self.placeAndDateVerbs[word] {
                let personal = Self.personalStems.contains(stem)
                // "Massimo Bottura opened Osteria Francescana in 1995": the place and date are the object's.
                var subject: Int?
                if !personal, let o = mention(startingAt: t + 1), !["date", "quantity", "person", "occupation"].contains(type(o)) {
                    subject = o
                } else {
                    subject = subjectBefore(t, types: personal ? ["person"] : ["organization", "location", "event", "other", "product"])
                }
                guard let subject else { continue }
                var u = t + 1
                if let o = mention(startingAt: t + 1), o == subject { u = mentions[o].range.upperBound }
                while u < tokens.count, sameSentence(u, t), u <= t + 8 {
                    if ["by", ";", "and", "but", "which", "who", "while", "after", "before", "when"].contains(tokens[u].lower) { break }
                    if ["in", "on", "around", "from", "at"].contains(tokens[u].lower), let m = mention(startingAt: u + 1) {
                        if type(m) == "date", type(subject) != "date" {
                            add(subject, Self.dateRelation(stem, subjectType: type(subject)), m)
                        } else if type(m) == "location", tokens[u].lower != "on", let relation = Self.placeRelation(stem, subjectType: type(subject)) {
                            add(subject, relation, m)
                        }
                        u = mentions[m].range.upperBound
                        continue
                    }
                    if let m = mentionAt[u] { u = mentions[m].range.upperBound; continue }
                    u += 1
                }
            }
            // "was sworn in as Prime Minister", "served as director", "Mahathir's time as prime minister".
            if word == "as", let o = mention(startingAt: t + 1, skipping: ["a", "an", "the", "its", "their", "his", "her", "chief", "first"]),
               type(o) == "occupation", t > 0, Self.asCues.contains(tokens[t - 1].lower) || tokens[t - 1].lower.hasSuffix("'s") {
                if let p = subjectBefore(t, types: ["person"]) {
                    add(p, Self.roles[mentions[o].name.lowercased()].flatMap { $0.hasSuffix("_of") ? nil : $0 } ?? "works_as", o)
                }
            }
            // "won Audrey Hepburn the Academy Award": the winner is named first.
            if ["won", "wins", "win"].contains(word), let p = mention(startingAt: t + 1), type(p) == "person",
               let o = mention(startingAt: mentions[p].range.upperBound), ["other", "event"].contains(type(o)) {
                add(p, "won", o)
                continue
            }
            // "awarded the Nobel Prize in Chemistry to David Baker … and jointly to Demis Hassabis and John Jumper".
            if ["awarded", "gave", "presented", "awards"].contains(word), let o = mention(startingAt: t + 1), ["other", "event"].contains(type(o)) {
                var u = mentions[o].range.upperBound
                while u < tokens.count, sameSentence(u, t), u <= mentions[o].range.upperBound + 25 {
                    if tokens[u].lower == "to", let p = mention(startingAt: u + 1), ["person", "organization"].contains(type(p)) {
                        for winner in coordinated(from: p, types: [type(p)]) { add(winner, "won", o) }
                        u = mentions[p].range.upperBound
                        continue
                    }
                    u += 1
                }
                continue
            }
            // "Elden Ring runs on PS5"
            if ["runs", "run", "ran"].contains(word), t + 1 < tokens.count, tokens[t + 1].lower == "on",
               let o = mention(startingAt: t + 2), ["product", "other", "organization"].contains(type(o)),
               let subject = subjectBefore(t, types: ["product", "other"]) {
                add(subject, "runs_on", o)
                continue
            }
            guard let verb = Self.verbs[word] else { continue }
            // Passive: "X was built by Y", "X, founded in 1856 by Y and Z": the agents follow "by".
            var by = t + 1
            while by < tokens.count, sameSentence(by, t), by <= t + 10, tokens[by].lower != "by" {
                if [";", "which", "who", "and", "but", "while"].contains(tokens[by].lower) { by = tokens.count; break }
                by += 1
            }
            let passiveAuxiliary = t > 0 && ["was", "were", "is", "are", "been", "be", "being", ",", "(", "originally", "first", "later", "jointly",
                                             "also", "reportedly", "mainly", "largely", "partly", "majority-", "wholly"].contains(tokens[t - 1].lower)
            if by < tokens.count, tokens[by].lower == "by", by + 1 < tokens.count, passiveAuxiliary || (t > 0 && mentionAt[t - 1] != nil),
               let agent = agent(after: by, types: verb.subjects) {
                // The thing done: the nearest fitting mention before the verb.
                var s = t - 1
                var object: Int?
                while s >= 0, sameSentence(s, t), t - s <= Self.scanLimit {
                    if let m = mentionAt[s] {
                        if verb.objects.contains(type(m)) { object = m; break }
                        s = mentions[m].range.lowerBound - 1
                        continue
                    }
                    s -= 1
                }
                if let object {
                    var agents = coordinated(from: agent, types: verb.subjects)
                    agents = agents.filter { verb.subjects.contains(type($0)) }
                    var relation = verb.relation
                    if relation == "founded", agents.count > 1 { relation = "co_founded" }
                    for a in agents { add(a, relation, object) }
                }
                continue
            }
            // Active: the subject before, the objects after.
            var u = t + 1
            if let preposition = verb.preposition {
                guard u < tokens.count, tokens[u].lower == preposition else { continue }
                u += 1
            }
            var objects: [Int] = []
            while u < tokens.count, sameSentence(u, t), u <= t + 7 {
                if [";", ":", "by", "from", "which", "who", "that", "because", "when", "after", "before"].contains(tokens[u].lower) { break }
                // "ran in Vienna", "discovered … at St Mary's": a preposition the verb does not take ends its object.
                if mentionAt[u] == nil, Self.prepositions.contains(tokens[u].lower) { break }
                if let m = mentionAt[u] {
                    if verb.objects.contains(type(m)) {
                        // "created a Microsoft account": a name modifying a noun is not the object.
                        let after = mentions[m].range.upperBound
                        if after < tokens.count, sameSentence(after, u), tokens[after].kind == .word, !tokens[after].capitalized,
                           mentionAt[after] == nil, !Self.clauseWords.contains(tokens[after].lower) {
                            break
                        }
                        objects = coordinated(from: m, types: [type(m)])
                        break
                    }
                    // A date or a quantity may stand between ("won in 2019 the …" is rare; "won 5 titles" is not the object).
                    if type(m) != "date" && type(m) != "quantity" { break }
                    u = mentions[m].range.upperBound
                    continue
                }
                u += 1
            }
            // "Freshworks, which Girish Mathrubootham co-founded": the object before the subject.
            let subjects = subjectsBefore(t, types: verb.subjects)
            if objects.isEmpty, let subject = subjects.first {
                let before = mentions[subjects.last!].range.lowerBound
                if before >= 2, ["which", "that", "whom"].contains(tokens[before - 1].lower), let o = mentionAt[before - 2] ?? (before >= 3 && tokens[before - 2].lower == "," ? mentionAt[before - 3] : nil),
                   verb.objects.contains(type(o)), o != subject {
                    objects = [o]
                }
            }
            guard !objects.isEmpty, !subjects.isEmpty else { continue }
            if verb.relation == "comprises" {
                for s in subjects { for o in objects where type(o) == type(s) { add(o, "part_of", s) } }
                continue
            }
            var relation = verb.relation
            if relation == "acquired", objects.allSatisfy({ type($0) == "product" }) { relation = "bought" }
            for s in subjects {
                for o in objects { add(s, relation, o) }
            }
            // "co-founded Nvidia with Chris Malachowsky and Curtis Priem": the partners too.
            // "shared the Nobel Prize in Physics with her husband Pierre Curie and with Henri Becquerel".
            if relation == "won", word == "shared" || word == "shares" {
                var w = mentions[objects.last!].range.upperBound
                while w < tokens.count, sameSentence(w, t), w <= mentions[objects.last!].range.upperBound + 16 {
                    if tokens[w].lower == "with", let p = mention(startingAt: w + 1, skipping: ["the", "his", "her", "their", "husband", "wife"]),
                       type(p) == "person" {
                        for partner in coordinated(from: p, types: ["person"]) { for o in objects { add(partner, "won", o) } }
                        w = mentions[p].range.upperBound
                        continue
                    }
                    if let m = mentionAt[w], type(m) == "occupation" { w = mentions[m].range.upperBound; continue }
                    w += 1
                }
            }
            if relation == "co_founded" || relation == "founded" {
                let after = mentions[objects.last!].range.upperBound
                var w = after
                while w < tokens.count, sameSentence(w, t), w <= after + 6, tokens[w].lower != "with" {
                    if mentionAt[w].map({ type($0) == "person" }) == true { break }
                    w += 1
                }
                if w < tokens.count, tokens[w].lower == "with", let partner = mention(startingAt: w + 1, skipping: ["the", "his", "her", "their"]),
                   type(partner) == "person" {
                    for p in coordinated(from: partner, types: ["person"]) {
                        for o in objects { add(p, "co_founded", o) }
                    }
                    for s in subjects {
                        for o in objects {
                            replace(source: name(s), target: name(o), from: "founded", to: "co_founded")
                            seen.insert(Self.key(name(s)) + "\u{1}co_founded\u{1}" + Self.key(name(o)))
                        }
                    }
                }
            }
            _ = sentence
        }
    }

    /// Renames one relation already found (a founder who "co-founded … with" others co-founded it).
    private mutating func replace(source: String, target: String, from: String, to: String) {
        if let i = relations.firstIndex(where: { $0.source == source && $0.target == target && $0.name == from }) {
            if relations.contains(where: { $0.source == source && $0.target == target && $0.name == to }) {
                relations.remove(at: i)
            } else {
                relations[i].name = to
            }
        }
    }

    private static let placeLeaders: Set<String> = ["", ",", "is", "are", "was", "lies", "sits", "is located", "are located", ", located"]

    /// "is in northeastern Italy", ", in present-day Nigeria", "hospital in Doha", "museum, Rome": the
    /// words between a thing and the place it is in.
    static func placedIn(_ between: [String]) -> Bool {
        guard let at = between.firstIndex(of: "in") ?? (between.count == 2 && between.last == "," ? 1 : nil) else { return false }
        let before = between[..<at], after = between[(at + 1)...]
        // One lowercase noun between ("the Aspetar hospital in Doha", "the MAXXI museum, Rome").
        let nounBefore = before.count == 1 && before.first.map { $0.first?.isLetter == true && !clauseWords.contains($0) } == true
        guard placeLeaders.contains(before.joined(separator: " ")) || nounBefore else { return false }
        return after.count <= 2 && after.allSatisfy { $0 == "the" || ($0.first?.isLetter == true && !clauseWords.contains($0)) }
    }

    private static let partWords: [String: String] = [
        "agency": "part_of", "unit": "part_of", "division": "part_of", "subsidiary": "part_of", "arm": "part_of", "branch": "part_of",
        "department": "part_of", "imprint": "part_of", "brand": "part_of", "wing": "part_of", "part": "part_of", "member": "member_of",
        "component": "part_of", "module": "part_of", "phase": "part_of", "stage": "part_of", "chapter": "part_of", "episode": "part_of",
        "district": "located_in", "suburb": "located_in", "neighbourhood": "located_in", "neighborhood": "located_in", "borough": "located_in",
        "province": "located_in", "region": "located_in", "state": "located_in", "quarter": "located_in", "town": "located_in",
        "city": "located_in", "village": "located_in", "island": "located_in", "capital": "capital_of",
    ]

    private static let partFiller: Set<String> = [",", "a", "an", "the", "is", "are", "was", "which", "that", "now", "also", "itself", "still",
                                                  "one", "key", "specialised", "specialized", "independent", "separate", "major", "main",
                                                  "historic", "central", "former", "wholly-owned", "wholly", "owned", "children's", "flagship",
                                                  "founding", "permanent", "autonomous"]

    /// "X, a specialised agency of Y", "X is part of Y", "X, which is part of Y", "X district of Y".
    static func partOf(_ between: [String], target: String) -> String? {
        guard let of = between.lastIndex(of: "of"), of == between.count - 1 || (of == between.count - 2 && between.last == "the"),
              between.count <= 8 else { return nil }
        let words = between[..<of]
        guard let head = words.last, let relation = partWords[head] else { return nil }
        guard words.dropLast().allSatisfy({ partFiller.contains($0) || $0.hasSuffix("'s") }) else { return nil }
        if relation == "located_in", target != "location" { return nil }
        return relation
    }

    /// How far back a pronoun's referent is looked for (tokens).
    static let referenceLimit = 300

    /// Kinds of work and what their maker did: "Tolkien's novel", "Vermeer's painting".
    static let workKinds: [(words: Set<String>, relation: String)] = [
        (["painting", "paintings", "portrait", "canvas", "canvases", "fresco", "mural", "painted", "painter"], "painted"),
        (["film", "films", "movie", "movies", "directed", "director", "documentary", "episode", "episodes"], "directed"),
        (["book", "books", "novel", "novels", "poem", "poems", "essay", "memoir", "play", "plays", "wrote", "written", "author", "trilogy",
          "song", "songs", "lyrics", "paper", "treatise", "diary", "epic", "writer", "novelist", "poet"], "wrote"),
        (["sculpture", "statue", "album", "opera", "symphony", "game", "games", "series", "design", "created", "invention"], "created"),
    ]

    static let prepositions: Set<String> = ["in", "on", "at", "to", "for", "with", "into", "onto", "over", "under", "near", "about",
                                            "through", "across", "during", "via", "against", "among", "between", "without", "within"]

    /// Words that may follow an object without making it a modifier.
    static let clauseWords: Set<String> = ["in", "on", "at", "to", "for", "with", "by", "from", "of", "as", "and", "or", "but", "which",
                                           "who", "that", "is", "was", "are", "were", "has", "had", "will", "would", "can", "could",
                                           "after", "before", "since", "until", "when", "while", "because", "into", "during", "via",
                                           "together", "alone", "too", "also", "again", "twice", "once", "jointly", "itself", "first",
                                           "last", "the", "a", "an", "then", "later", "now", "there", "here", "its", "his", "her",
                                           "their", "through", "over", "under", "against", "within", "without", "so", "if", "where"]

    /// Words before "as" that make what follows someone's occupation.
    static let asCues: Set<String> = ["in", "elected", "named", "appointed", "served", "serves", "serving", "works", "worked", "working",
                                      "acting", "hired", "time", "role", "tenure", "career", "job", "position", "stint", "began", "started",
                                      "retired", "re-elected", "confirmed", "installed", "crowned", "chosen", "selected", "employed"]

    /// Every word a verb rule starts at.
    static let cueWords: Set<String> = Set(verbs.keys).union(placeAndDateVerbs.keys)
        .union(["as", "won", "wins", "win", "awarded", "gave", "presented", "awards", "runs", "run", "ran"])

    /// Verbs whose place and date are a person's ("born in", "died on", "worked in").
    static let personalStems: Set<String> = ["born", "died", "worked", "works", "lived", "grew", "studied", "retired", "resigned",
                                              "elected", "appointed", "performed"]

    private static func dateRelation(_ stem: String, subjectType: String) -> String {
        switch stem {
        case "held", "happened", "took": return subjectType == "event" ? "happened_on" : stem + "_on"
        default: return stem + "_on"
        }
    }

    private static func placeRelation(_ stem: String, subjectType: String) -> String? {
        switch stem {
        case "held", "happened", "took": return subjectType == "event" ? "held_in" : nil
        case "founded", "born", "died", "signed", "conducted", "produced", "worked", "works", "lived", "studied", "shot", "filmed",
             "introduced", "grew", "landed": return stem + "_in"
        case "performed": return "performed_at"
        case "based": return subjectType == "organization" ? "headquartered_in" : nil
        case "opened", "built", "created": return subjectType == "organization" || subjectType == "location" ? "located_in" : nil
        default: return nil
        }
    }

    /// Whether the words between a person and an occupation make the occupation theirs: ", a",
    /// ", the Brazilian", "is a", "was an English", "became India's first", "(".
    private static let appositionOpeners: Set<String> = [",", "is", "was", "became", "becomes", "as", "(", "remains", "served", "serves",
                                                         "worked", "works", "—", "–"]
    private static let appositionBreaks: Set<String> = ["of", "and", "or", "at", "in", "to", "for", "with", "by", "from", "on"]

    static func apposition(_ between: [String]) -> Bool {
        guard let first = between.first, appositionOpeners.contains(first), between.count <= 6 else { return false }
        // Any words but a preposition or a conjunction: ", a", ", the Brazilian", "was an English", "became India's first".
        return between.dropFirst().allSatisfy { $0.first?.isLetter == true && !appositionBreaks.contains($0) || $0 == "'s" }
    }

    /// A role named in the words between a person and an organisation (`before`: the person
    /// first, ", the CEO of"), or between an organisation and a person ("'s CEO", "CEO").
    static func role(_ between: [String], before: Bool) -> String? {
        var words = between
        if before {
            guard words.first == "," || words.first == "is" || words.first == "was" || words.first == "became", words.last == "of" || words.last == "at"
                    || words.count >= 2 && words[words.count - 2] == "of" && words.last == "the" else { return nil }
            words = words.dropFirst().filter { !["the", "a", "an", "of", "at", "its", "then", "now", "former", "current"].contains($0) }
        } else {
            if words.first == "'s" { words.removeFirst() }
            if words.last == "," { words.removeLast() }
            words = words.filter { !["the", "former", "current", "then", "new", "chief", "founding"].contains($0) || $0 == "chief" }
        }
        let phrase = words.joined(separator: " ")
        return roles[phrase]
    }

    /// Whether a list of places goes on after token t ("Paris, London and Rome").
    static func listContinues(_ segment: Segment, after t: Int, mentionAt: [Int?], mentions: [Segment.Mention]) -> Bool {
        let tokens = segment.tokens
        guard t < tokens.count else { return false }
        if ["and", "or"].contains(tokens[t].lower) { return true }
        if tokens[t].lower == ",", t + 1 < tokens.count, let m = mentionAt[t + 1], Segment.evaluationType(mentions[m].type) == "location" { return true }
        return false
    }
}
