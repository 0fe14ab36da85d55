/// The features the name tagger scores each token by. The trainer (`memify-train`) computes them
/// with this same code, so a model and the extractor always agree on what a feature means; a
/// change here must bump ``TaggerFeatures/version`` and retrain (`scripts/train-tagger`).
///
/// Features are 64-bit hashes of (template, values): FNV-1a for strings, a splitmix finaliser to
/// combine. Never Swift's `Hasher`, which is seeded per process.
enum TaggerFeatures {
    static let version: UInt32 = 1

    enum Hash {
        static let basis: UInt64 = 0xcbf2_9ce4_8422_2325
        @inline(__always) static func step(_ h: UInt64, _ byte: UInt8) -> UInt64 { (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        static func string(_ s: String) -> UInt64 {
            var h = basis
            for b in s.utf8 { h = step(h, b) }
            return h
        }
        static func scalars(_ s: ArraySlice<Unicode.Scalar>) -> UInt64 {
            var h = basis
            for c in s {
                var v = c.value
                repeat { h = step(h, UInt8(truncatingIfNeeded: v)); v >>= 8 } while v != 0
            }
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

    /// The word lists' multi-word phrases, longest first, as gazetteer classes.
    static let gazetteers: [(Set<String>, UInt8)] = [
        (Lexicon.locations, 1), (Lexicon.organizations, 2), (Lexicon.products, 3), (Lexicon.others, 4), (Lexicon.occupations, 5),
        (Lexicon.events, 6),
    ]
    static let gazetteerMaxWords = 5

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
    }

    static let startWord = Hash.string("<s>"), endWord = Hash.string("</s>")

    static func shapes(_ text: Substring.UnicodeScalarView) -> (UInt64, UInt64) {
        var long: [UInt8] = [], short: [UInt8] = []
        var last: UInt8 = 0, run = 0
        for c in text {
            let k: UInt8 = Scalars.isUpper(c) ? 88 : Scalars.isLower(c) ? 120 : Scalars.isDigit(c) ? 100
                : Scalars.isLetter(c) ? 97 : c.value < 0x80 ? UInt8(c.value) : 63
            if k == last { run += 1 } else { run = 1; last = k; short.append(k) }
            if run <= 3 { long.append(k) }
        }
        var a = Hash.basis, b = Hash.basis
        for x in long { a = Hash.step(a, x) }
        for x in short { b = Hash.step(b, x) }
        return (a, b)
    }

    static func info(_ segment: Segment, pattern: [UInt8]) -> [TokenInfo] {
        let tokens = segment.tokens
        var infos = [TokenInfo](repeating: TokenInfo(), count: tokens.count)
        // Words written capitalised somewhere other than a sentence's first word.
        var capitalizedMidSentence = Set<String>()
        for t in tokens where t.kind == .word && t.capitalized && !t.sentenceStart { capitalizedMidSentence.insert(t.lower) }
        for (i, t) in tokens.enumerated() {
            var info = TokenInfo()
            var lower = t.lower
            if lower.hasSuffix("'s") || lower.hasSuffix("’s") { lower.removeLast(2); info.possessive = true }
            info.word = Hash.string(lower)
            let scalars = Array(lower.unicodeScalars)
            (info.shape, info.shortShape) = shapes(t.text.unicodeScalars[...])
            if scalars.count >= 2 { info.prefix2 = Hash.scalars(scalars[..<2]); info.suffix2 = Hash.scalars(scalars[(scalars.count - 2)...]) }
            if scalars.count >= 3 { info.prefix3 = Hash.scalars(scalars[..<3]); info.suffix3 = Hash.scalars(scalars[(scalars.count - 3)...]) }
            if scalars.count >= 4 { info.suffix4 = Hash.scalars(scalars[(scalars.count - 4)...]) }
            info.lexBits = lexBits(lower)
            info.pattern = pattern[i]
            info.capitalized = t.capitalized || t.innerCaps
            info.sentenceStart = t.sentenceStart
            info.capsElsewhere = capitalizedMidSentence.contains(t.lower)
            infos[i] = info
        }
        // Gazetteer phrases: longest match first, left to right.
        var i = 0
        while i < tokens.count {
            var matched = 0
            var cls: UInt8 = 0
            if tokens[i].kind != .punct || tokens[i].lower == "&" {
                var phrase = ""
                for n in 1...gazetteerMaxWords where i + n <= tokens.count {
                    let t = tokens[i + n - 1]
                    if n > 1 && t.start > tokens[i + n - 2].end && !phrase.isEmpty { phrase += " " }
                    var w = t.lower
                    if w.hasSuffix("'s") || w.hasSuffix("’s") { w.removeLast(2) }
                    phrase += w
                    for (set, c) in gazetteers where set.contains(phrase) {
                        if n > matched || (n == matched && c < cls) { matched = n; cls = c }
                        break
                    }
                }
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
                if end + 1 < tokens.count, Lexicon.connectors.contains(tokens[end].lower), infos[end + 1].capitalized { end += 2; continue }
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

    static func lexBits(_ w: String) -> UInt32 {
        var bits: UInt32 = 0
        func set(_ l: Lex, _ on: Bool) { if on { bits |= 1 << UInt32(l.rawValue) } }
        set(.firstName, Lexicon.firstNames.contains(w))
        set(.common, Lexicon.commonWords.contains(w))
        set(.title, Lexicon.titles.contains(w))
        set(.occupation, Lexicon.occupations.contains(w))
        set(.occupationModifier, Lexicon.occupationModifiers.contains(w))
        set(.month, Lexicon.months[w] != nil)
        set(.weekday, Lexicon.weekdays.contains(w))
        set(.connector, Lexicon.connectors.contains(w))
        set(.personContext, Lexicon.personContext.contains(w))
        set(.locationContext, Lexicon.locationContext.contains(w))
        set(.personFollower, Lexicon.personFollowers.contains(w))
        set(.organizationSuffix, Lexicon.organizationSuffixes.contains(w))
        set(.locationSuffix, Lexicon.locationSuffixes.contains(w))
        set(.otherSuffix, Lexicon.otherSuffixes.contains(w))
        set(.otherPrefix, Lexicon.otherPrefixes.contains(w))
        set(.clubPrefix, Lexicon.clubPrefixes.contains(w))
        set(.locationPrefix, Lexicon.locationPrefixes.contains(w))
        set(.organizationPrefix, Lexicon.organizationPrefixes.contains(w))
        set(.location, Lexicon.locations.contains(w))
        set(.organization, Lexicon.organizations.contains(w))
        set(.product, Lexicon.products.contains(w))
        set(.other, Lexicon.others.contains(w))
        set(.numberWord, Lexicon.numberWords[w] != nil)
        set(.ambiguousLowercase, Lexicon.ambiguousLowercase.contains(w))
        set(.eventWord, Lexicon.eventWords.contains(w))
        return bits
    }

    /// Every token's feature hashes, flat, with each token's start (one more at the end).
    static func extract(_ segment: Segment, pattern: [UInt8]) -> (features: [UInt64], offsets: [Int]) {
        let infos = info(segment, pattern: pattern)
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
        }
        offsets.append(features.count)
        return (features, offsets)
    }
}
