/// The features the name tagger scores each token by. The trainer (`memify-train`) computes them
/// with this same code, so a model and the extractor always agree on what a feature means; a
/// change here must bump ``TaggerFeatures/version`` and retrain (`scripts/train-tagger`).
///
/// Features are 64-bit hashes of (template, values): FNV-1a for strings, a splitmix finaliser to
/// combine. Never Swift's `Hasher`, which is seeded per process.
enum TaggerFeatures {
    static let version: UInt32 = 3

    enum Hash {
        static let basis: UInt64 = 0xcbf2_9ce4_8422_2325
        @inline(__always) static func step(_ h: UInt64, _ byte: UInt8) -> UInt64 { (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        static func string(_ s: String) -> UInt64 {
            var h = basis
            for b in s.utf8 { h = step(h, b) }
            return h
        }
        @inline(__always) static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
            var z = a ^ (b &+ 0x9E37_79B9_7F4A_7C15 &+ (a << 6) &+ (a >> 2))
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }

    /// Word-list memberships, one bit each (`lexBits`).
    enum Lex: Int, CaseIterable {
        case firstName, common, title, occupation, occupationModifier, month, weekday, connector, personContext, locationContext,
             personFollower, organizationSuffix, locationSuffix, otherSuffix, otherPrefix, clubPrefix, locationPrefix,
             organizationPrefix, location, organization, product, other, numberWord, ambiguousLowercase, englishWord, surname,
             eventWord
    }

    /// The word lists' phrases to their gazetteer class (the first list naming a phrase wins).
    static let gazetteers: [(Set<String>, UInt8)] = [
        (Lexicon.locations, 1), (Lexicon.organizations, 2), (Lexicon.products, 3), (Lexicon.others, 4), (Lexicon.occupations, 5),
        (Lexicon.events, 6),
    ]
    static let gazetteerMaxWords = 5

    /// Each word of the word lists (by its hash) to its `Lex` bits, and each phrase to its
    /// gazetteer class: one lookup per word or phrase instead of one per list.
    static let lexicon: (words: HashTable<UInt32>, phrases: HashTable<UInt8>) = {
        var words: [UInt64: UInt32] = [:]
        func mark(_ set: Set<String>, _ l: Lex) { for w in set { words[Hash.string(w), default: 0] |= 1 << UInt32(l.rawValue) } }
        mark(Lexicon.firstNames, .firstName)
        mark(Lexicon.commonWords, .common)
        mark(Lexicon.titles, .title)
        mark(Lexicon.occupations, .occupation)
        mark(Lexicon.occupationModifiers, .occupationModifier)
        mark(Set(Lexicon.months.keys), .month)
        mark(Lexicon.weekdays, .weekday)
        mark(Lexicon.connectors, .connector)
        mark(Lexicon.personContext, .personContext)
        mark(Lexicon.locationContext, .locationContext)
        mark(Lexicon.personFollowers, .personFollower)
        mark(Lexicon.organizationSuffixes, .organizationSuffix)
        mark(Lexicon.locationSuffixes, .locationSuffix)
        mark(Lexicon.otherSuffixes, .otherSuffix)
        mark(Lexicon.otherPrefixes, .otherPrefix)
        mark(Lexicon.clubPrefixes, .clubPrefix)
        mark(Lexicon.locationPrefixes, .locationPrefix)
        mark(Lexicon.organizationPrefixes, .organizationPrefix)
        mark(Lexicon.locations, .location)
        mark(Lexicon.organizations, .organization)
        mark(Lexicon.products, .product)
        mark(Lexicon.others, .other)
        mark(Set(Lexicon.numberWords.keys), .numberWord)
        mark(Lexicon.ambiguousLowercase, .ambiguousLowercase)
        mark(Lexicon.eventWords, .eventWord)
        var phrases: [UInt64: UInt8] = [:]
        for (set, cls) in gazetteers.reversed() { for p in set { phrases[Hash.string(p)] = cls } }
        return (HashTable(words), HashTable(phrases))
    }()

    /// A read-only map from a 64-bit hash, probed by the hash's own bits (Swift's `Dictionary`
    /// hashes its keys again, with SipHash: most of the lookup's cost here).
    struct HashTable<Value: Sendable>: Sendable {
        private let keys: [UInt64]
        private let values: [Value?]
        private let mask: Int

        init(_ entries: [UInt64: Value]) {
            var capacity = 16
            while capacity < entries.count * 2 { capacity <<= 1 }
            var keys = [UInt64](repeating: 0, count: capacity)
            var values = [Value?](repeating: nil, count: capacity)
            mask = capacity - 1
            for (key, value) in entries {
                var slot = Int(truncatingIfNeeded: key) & mask
                while values[slot] != nil { slot = (slot + 1) & mask }
                keys[slot] = key
                values[slot] = value
            }
            self.keys = keys
            self.values = values
        }

        @inline(__always) subscript(key: UInt64) -> Value? {
            var slot = Int(truncatingIfNeeded: key) & mask
            while let value = values[slot] {
                if keys[slot] == key { return value }
                slot = (slot + 1) & mask
            }
            return nil
        }
    }

    /// Each token's values that features combine.
    struct TokenInfo {
        var word: UInt64 = 0
        var shape: UInt64 = 0
        var shortShape: UInt64 = 0
        var prefix2: UInt64 = 0, prefix3: UInt64 = 0
        var suffix2: UInt64 = 0, suffix3: UInt64 = 0, suffix4: UInt64 = 0
        var lexBits: UInt32 = 0
        var gazetteer: UInt8 = 0
        var pattern: UInt8 = 0
        var capitalized = false
        var possessive = false
        var sentenceStart = false
        var capsElsewhere = false
        var runLength: UInt8 = 0
        var runPosition: UInt8 = 0
        /// The outside word lists' classes of the word alone, and of the longest phrase of
        /// two or more words over it (with the word's place in it: 1 first, 2 inside, 3 last).
        var listed: UInt8 = 0
        var phrase: UInt8 = 0
        var phrasePosition: UInt8 = 0
    }

    static let startWord = Hash.string("<s>"), endWord = Hash.string("</s>")

    /// The shape of a word (X upper, x lower, d digit, other characters as they are), runs cut
    /// at three, and its short form (runs of one).
    static func shapes(_ text: String) -> (UInt64, UInt64) {
        var long = Hash.basis, short = Hash.basis
        var last: UInt8 = 0, run = 0
        for c in text.unicodeScalars {
            let k: UInt8 = Scalars.isUpper(c) ? 88 : Scalars.isLower(c) ? 120 : Scalars.isDigit(c) ? 100
                : Scalars.isLetter(c) ? 97 : c.value < 0x80 ? UInt8(c.value) : 63
            if k == last { run += 1 } else { run = 1; last = k; short = Hash.step(short, k) }
            if run <= 3 { long = Hash.step(long, k) }
        }
        return (long, short)
    }

    /// The word's (lowercase, without a possessive "'s") hash, and hashes of its first two and
    /// three and last two, three and four characters (0 where the word is shorter).
    static func affixes(_ word: String, into info: inout TokenInfo) {
        var h = Hash.basis
        var count = 0
        var tail: (Unicode.Scalar, Unicode.Scalar, Unicode.Scalar, Unicode.Scalar) = (" ", " ", " ", " ")
        for c in word.unicodeScalars {
            var v = c.value
            repeat { h = Hash.step(h, UInt8(truncatingIfNeeded: v)); v >>= 8 } while v != 0
            count += 1
            if count == 2 { info.prefix2 = h } else if count == 3 { info.prefix3 = h }
            tail = (tail.1, tail.2, tail.3, c)
        }
        @inline(__always) func add(_ h: UInt64, _ c: Unicode.Scalar) -> UInt64 {
            var h = h, v = c.value
            repeat { h = Hash.step(h, UInt8(truncatingIfNeeded: v)); v >>= 8 } while v != 0
            return h
        }
        if count >= 2 { info.suffix2 = add(add(Hash.basis, tail.2), tail.3) }
        if count >= 3 { info.suffix3 = add(add(add(Hash.basis, tail.1), tail.2), tail.3) }
        if count >= 4 { info.suffix4 = add(add(add(add(Hash.basis, tail.0), tail.1), tail.2), tail.3) }
    }

    static func info(_ segment: Segment, pattern: [UInt8], gazetteer: TaggerGazetteer) -> [TokenInfo] {
        let tokens = segment.tokens
        var infos = [TokenInfo](repeating: TokenInfo(), count: tokens.count)
        let lexicon = Self.lexicon
        var words: [String] = []
        words.reserveCapacity(tokens.count)
        // Words written capitalised somewhere other than a sentence's first word.
        var capitalizedMidSentence = Set<UInt64>()
        for (i, t) in tokens.enumerated() {
            var info = TokenInfo()
            var lower = t.lower
            if lower.hasSuffix("'s") || lower.hasSuffix("’s") { lower.removeLast(2); info.possessive = true }
            words.append(lower)
            info.word = Hash.string(lower)
            affixes(lower, into: &info)
            info.listed = gazetteer.classes(info.word)
            (info.shape, info.shortShape) = shapes(t.text)
            info.lexBits = lexicon.words[info.word] ?? 0
            info.pattern = pattern[i]
            info.capitalized = t.capitalized || t.innerCaps
            info.sentenceStart = t.sentenceStart
            if t.kind == .word && t.capitalized && !t.sentenceStart { capitalizedMidSentence.insert(info.word) }
            infos[i] = info
        }
        for i in infos.indices { infos[i].capsElsewhere = capitalizedMidSentence.contains(infos[i].word) }
        // Phrases of the word lists and of the outside lists, longest first, left to right.
        var i = 0
        var listedUntil = 0
        while i < tokens.count {
            var h = Hash.basis
            var matched = 0, listed = 0
            var cls: UInt8 = 0, listedClasses: UInt8 = 0
            if tokens[i].kind != .punct || tokens[i].lower == "&" {
                for n in 1...max(gazetteerMaxWords, TaggerGazetteer.maxWords) where i + n <= tokens.count {
                    let k = i + n - 1
                    if n > 1 && tokens[k].start > tokens[k - 1].end { h = Hash.step(h, 0x20) }
                    for b in words[k].utf8 { h = Hash.step(h, b) }
                    if n <= gazetteerMaxWords, let c = lexicon.phrases[h] { matched = n; cls = c }
                    if n > 1, n <= TaggerGazetteer.maxWords, tokens[k].sentence == tokens[i].sentence,
                       case let c = gazetteer.classes(h), c != 0 { listed = n; listedClasses = c }
                }
            }
            if listed > 1, i >= listedUntil {
                for k in i..<(i + listed) {
                    infos[k].phrase = listedClasses
                    infos[k].phrasePosition = k == i ? 1 : k == i + listed - 1 ? 3 : 2
                }
                listedUntil = i + listed
            }
            if matched > 0 {
                for k in 0..<matched { infos[i + k].gazetteer = cls * 2 + (k == 0 ? 0 : 1) }
                i += matched
            } else {
                i += 1
            }
        }
        // Runs of capitalised words in a sentence (connectors and numbers inside them).
        i = 0
        while i < tokens.count {
            guard tokens[i].kind == .word, infos[i].capitalized else { i += 1; continue }
            var end = i + 1
            while end < tokens.count, tokens[end].sentence == tokens[i].sentence {
                if tokens[end].kind == .word, infos[end].capitalized { end += 1; continue }
                if end + 1 < tokens.count, infos[end].lexBits & (1 << UInt32(Lex.connector.rawValue)) != 0, infos[end + 1].capitalized {
                    end += 2
                    continue
                }
                if tokens[end].kind == .number { end += 1; continue }
                break
            }
            let length = UInt8(min(end - i, 6))
            for k in i..<end {
                infos[k].runLength = length
                infos[k].runPosition = end - i == 1 ? 3 : k == i ? 0 : k == end - 1 ? 2 : 1
            }
            i = end
        }
        return infos
    }

    /// Every token's feature hashes, flat, with each token's start (one more at the end).
    static func extract(_ segment: Segment, pattern: [UInt8], gazetteer: TaggerGazetteer) -> (features: [UInt64], offsets: [Int]) {
        let infos = info(segment, pattern: pattern, gazetteer: gazetteer)
        let n = infos.count
        var features: [UInt64] = []
        features.reserveCapacity(n * 48)
        var offsets: [Int] = []
        offsets.reserveCapacity(n + 1)
        let lc: UInt64 = segment.hasUppercase ? 0 : 1
        @inline(__always) func add(_ template: UInt64, _ a: UInt64, _ b: UInt64 = 0, _ c: UInt64 = 0) {
            var h = Hash.mix(template &* 0x1000_0000_01b3, a)
            if b != 0 { h = Hash.mix(h, b) }
            if c != 0 { h = Hash.mix(h, c) }
            features.append(h == 0 ? 1 : h)
        }
        func word(_ k: Int) -> UInt64 { k < 0 ? startWord : k >= n ? endWord : infos[k].word }
        func short(_ k: Int) -> UInt64 { k < 0 ? startWord : k >= n ? endWord : infos[k].shortShape }
        for i in 0..<n {
            offsets.append(features.count)
            let t = infos[i]
            add(1, 1, lc + 1)
            add(2, t.word)
            add(3, word(i - 1))
            add(4, word(i + 1))
            add(5, word(i - 2))
            add(6, word(i + 2))
            add(7, word(i - 1), t.word)
            add(8, t.word, word(i + 1))
            add(9, t.shape)
            add(10, short(i - 1), t.shortShape, short(i + 1))
            add(11, short(i - 1), t.shortShape)
            add(12, t.shortShape, short(i + 1))
            if t.prefix2 != 0 { add(13, t.prefix2) }
            if t.prefix3 != 0 { add(14, t.prefix3) }
            if t.suffix2 != 0 { add(15, t.suffix2) }
            if t.suffix3 != 0 { add(16, t.suffix3) }
            if t.suffix4 != 0 { add(17, t.suffix4) }
            add(18, t.sentenceStart ? 2 : 1, t.shortShape)
            add(19, t.word, t.capitalized ? 2 : 1)
            var bits = t.lexBits
            while bits != 0 {
                let b = UInt64(bits.trailingZeroBitCount)
                add(20, b + 1, lc + 1)
                add(21, b + 1, t.capitalized ? 2 : 1, t.sentenceStart ? 2 : 1)
                bits &= bits - 1
            }
            if i > 0 {
                var bits = infos[i - 1].lexBits
                while bits != 0 { add(22, UInt64(bits.trailingZeroBitCount) + 1); bits &= bits - 1 }
            }
            if i + 1 < n {
                var bits = infos[i + 1].lexBits
                while bits != 0 { add(23, UInt64(bits.trailingZeroBitCount) + 1); bits &= bits - 1 }
            }
            add(24, UInt64(t.gazetteer) + 1, lc + 1)
            if i > 0 { add(25, UInt64(infos[i - 1].gazetteer) + 1) }
            if i + 1 < n { add(26, UInt64(infos[i + 1].gazetteer) + 1) }
            add(27, UInt64(t.pattern) + 1)
            if i > 0 { add(28, UInt64(infos[i - 1].pattern) + 1) }
            if i + 1 < n { add(29, UInt64(infos[i + 1].pattern) + 1) }
            add(30, word(i - 1), t.shortShape)
            add(31, UInt64(t.runLength) + 1, UInt64(t.runPosition) + 1)
            add(32, t.possessive ? 2 : 1, t.shortShape)
            add(33, t.capsElsewhere ? 2 : 1, t.capitalized ? 2 : 1, t.sentenceStart ? 2 : 1)
            add(34, word(i - 1), word(i - 2))
            add(35, t.shortShape, lc + 1)
            let before: UInt64 = i > 0 ? UInt64(infos[i - 1].listed) + 1 : 0x1000
            let after: UInt64 = i + 1 < n ? UInt64(infos[i + 1].listed) + 1 : 0x1000
            var listed = t.listed
            while listed != 0 {
                add(36, UInt64(listed.trailingZeroBitCount) + 1, t.capitalized ? 2 : 1, t.sentenceStart ? 2 : 1)
                listed &= listed - 1
            }
            add(37, UInt64(t.listed) + 1, t.capitalized ? 2 : 1)
            add(38, before, UInt64(t.listed) + 1)
            add(39, UInt64(t.listed) + 1, after)
            add(40, before)
            add(41, after)
            if t.phrase != 0 { add(42, UInt64(t.phrase) + 1, UInt64(t.phrasePosition) + 1, t.capitalized ? 2 : 1) }
        }
        offsets.append(features.count)
        return (features, offsets)
    }
}
