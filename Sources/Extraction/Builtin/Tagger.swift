import CTaggerModel

/// The tags of the name tagger: O, and B-/I- (first word, later words) of each name type.
package enum TaggerTags {
    /// The extractor's type names, in tag order.
    package static let types = ["Person", "Organization", "Location", "Product", "Event", "Occupation", "Other"]
    package static let count = 1 + 2 * types.count

    package static func begin(_ type: Int) -> UInt8 { UInt8(1 + 2 * type) }
    package static func inside(_ type: Int) -> UInt8 { UInt8(2 + 2 * type) }
    package static func type(of tag: UInt8) -> Int? { tag == 0 ? nil : (Int(tag) - 1) / 2 }
    package static func isInside(_ tag: UInt8) -> Bool { tag != 0 && tag % 2 == 0 }

    /// Whether tag `b` may follow tag `a` (nil: the sequence's start): I-X only after B-X or I-X.
    @inline(__always) static func allowed(_ a: UInt8?, _ b: UInt8) -> Bool {
        guard isInside(b) else { return true }
        guard let a else { return false }
        return a == b || a == b - 1
    }
}

/// An averaged-perceptron sequence model over ``TaggerFeatures``: per feature a weight for each
/// tag, and a weight for each pair of adjacent tags; decoded by Viterbi. Trained by
/// `scripts/train-tagger` on the labelled corpus's train split; the weights ship inside the
/// binary (`CTaggerModel`), so the extractor still reads no file and calls nothing.
package struct TaggerModel: Sendable {
    let tagCount: Int
    /// Open addressing: a feature's hash to its row of `weights` (`rows[slot] < 0`: empty).
    let keys: [UInt64]
    let rows: [Int32]
    let mask: Int
    /// A feature's weights for each tag, one vector per feature (lanes past the tags are 0):
    /// a token's scores are then one vector sum over its features.
    let weights: [SIMD16<Float>]
    /// (tagCount + 1) × tagCount: the previous tag's row (the last row: the sequence's start).
    let transitions: [Float]
    /// The same, with the pairs that may not follow each other at minus infinity.
    let allowedTransitions: [Float]
    package let featureCount: Int
    package let gazetteer: TaggerGazetteer

    package init(tagCount: Int, features: [(key: UInt64, weights: [Float])], transitions: [Float], gazetteer: TaggerGazetteer) {
        precondition(tagCount <= 16)
        self.tagCount = tagCount
        self.gazetteer = gazetteer
        var capacity = 16
        while capacity < features.count * 2 { capacity <<= 1 }
        var keys = [UInt64](repeating: 0, count: capacity)
        var rows = [Int32](repeating: -1, count: capacity)
        var weights: [SIMD16<Float>] = []
        weights.reserveCapacity(features.count)
        let mask = capacity - 1
        for (row, feature) in features.enumerated() {
            var slot = Int(truncatingIfNeeded: feature.key) & mask
            while rows[slot] >= 0 { slot = (slot + 1) & mask }
            keys[slot] = feature.key
            rows[slot] = Int32(row)
            var vector = SIMD16<Float>()
            for t in 0..<tagCount { vector[t] = feature.weights[t] }
            weights.append(vector)
        }
        self.keys = keys
        self.rows = rows
        self.mask = mask
        self.weights = weights
        self.transitions = transitions
        allowedTransitions = TaggerDecoder.masked(transitions, tagCount: tagCount)
        featureCount = features.count
    }

    /// Per token, the summed weights of its features for each tag (16 lanes a token).
    func emissions(features: [UInt64], offsets: [Int]) -> [SIMD16<Float>] {
        let n = offsets.count - 1
        var scores = [SIMD16<Float>](repeating: SIMD16<Float>(), count: n)
        keys.withUnsafeBufferPointer { keys in
            rows.withUnsafeBufferPointer { rows in
                weights.withUnsafeBufferPointer { w in
                    features.withUnsafeBufferPointer { features in
                        for i in 0..<n {
                            var sum = SIMD16<Float>()
                            for f in offsets[i]..<offsets[i + 1] {
                                let key = features[f]
                                var slot = Int(truncatingIfNeeded: key) & mask
                                while true {
                                    let r = rows[slot]
                                    if r < 0 { break }
                                    if keys[slot] == key { sum += w[Int(r)]; break }
                                    slot = (slot + 1) & mask
                                }
                            }
                            scores[i] = sum
                        }
                    }
                }
            }
        }
        return scores
    }

    package func decode(features: [UInt64], offsets: [Int], constraints: [UInt8]) -> [UInt8] {
        let scores = emissions(features: features, offsets: offsets)
        return scores.withUnsafeBufferPointer { vectors in
            vectors.withMemoryRebound(to: Float.self) { flat in
                TaggerDecoder.best(emissions: flat, stride: 16, tagCount: tagCount, allowedTransitions: allowedTransitions,
                                   constraints: constraints)
            }
        }
    }

    // MARK: - The stored form

    static let magic: [UInt8] = Array("MTG1".utf8)

    /// Little-endian: magic, feature version, tag count, feature count, the weights' scale
    /// (Float32), transitions (Int16 each), then per feature its hash (UInt64), how many tags
    /// it weighs (UInt8) and each (tag UInt8, weight Int16); weights are stored as multiples
    /// of the scale, zero weights left out. Then the gazetteer: its count (UInt32) and per
    /// phrase its key (UInt32) and classes (UInt8).
    package func serialized() -> [UInt8] {
        var largest: Float = 0
        for w in weights { for t in 0..<tagCount { largest = max(largest, abs(w[t])) } }
        for w in transitions { largest = max(largest, abs(w)) }
        let scale = largest > 0 ? largest / 32767 : 1
        var out = Self.magic
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func i16(_ v: Float) { withUnsafeBytes(of: Int16((v / scale).rounded()).littleEndian) { out.append(contentsOf: $0) } }
        u32(TaggerFeatures.version)
        u32(UInt32(tagCount))
        u32(UInt32(featureCount))
        u32(scale.bitPattern)
        for w in transitions { i16(w) }
        var ordered: [(UInt64, Int)] = []
        for slot in keys.indices where rows[slot] >= 0 { ordered.append((keys[slot], Int(rows[slot]))) }
        ordered.sort { $0.0 < $1.0 }
        for (key, row) in ordered {
            withUnsafeBytes(of: key.littleEndian) { out.append(contentsOf: $0) }
            let tags = (0..<tagCount).filter { Int16((weights[row][$0] / scale).rounded()) != 0 }
            out.append(UInt8(tags.count))
            for t in tags {
                out.append(UInt8(t))
                i16(weights[row][t])
            }
        }
        let entries = gazetteer.entries
        u32(UInt32(entries.count))
        for (key, classes) in entries {
            u32(key)
            out.append(classes)
        }
        return out
    }

    package init?(serialized bytes: UnsafeRawBufferPointer) {
        var at = 0
        func need(_ n: Int) -> Bool { at + n <= bytes.count }
        func u8() -> UInt8 { defer { at += 1 }; return bytes[at] }
        func u32() -> UInt32 {
            defer { at += 4 }
            return UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
        func u64() -> UInt64 { UInt64(u32()) | UInt64(u32()) << 32 }
        func i16() -> Int16 { defer { at += 2 }; return Int16(bitPattern: UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8) }
        guard need(20), Array(bytes[0..<4]) == Self.magic else { return nil }
        at = 4
        guard u32() == TaggerFeatures.version else { return nil }
        let tagCount = Int(u32()), featureCount = Int(u32())
        let scale = Float(bitPattern: u32())
        guard tagCount == TaggerTags.count, need((tagCount + 1) * tagCount * 2) else { return nil }
        let transitions = (0..<((tagCount + 1) * tagCount)).map { _ in Float(i16()) * scale }
        var features: [(key: UInt64, weights: [Float])] = []
        features.reserveCapacity(featureCount)
        for _ in 0..<featureCount {
            guard need(9) else { return nil }
            let key = u64()
            let n = Int(u8())
            guard need(n * 3) else { return nil }
            var w = [Float](repeating: 0, count: tagCount)
            for _ in 0..<n {
                let t = Int(u8())
                let v = i16()
                guard t < tagCount else { return nil }
                w[t] = Float(v) * scale
            }
            features.append((key, w))
        }
        guard need(4) else { return nil }
        let count = Int(u32())
        guard need(count * 5) else { return nil }
        var entries: [(UInt32, UInt8)] = []
        entries.reserveCapacity(count)
        for _ in 0..<count { entries.append((u32(), u8())) }
        self.init(tagCount: tagCount, features: features, transitions: transitions, gazetteer: TaggerGazetteer(entries: entries))
    }

    /// The model compiled into the binary.
    package static let builtin: TaggerModel = {
        let buffer = UnsafeRawBufferPointer(start: memify_tagger_model_bytes(), count: Int(memify_tagger_model_size()))
        guard let model = TaggerModel(serialized: buffer) else {
            fatalError("the tagger model compiled in (Sources/CTaggerModel) does not match TaggerFeatures.version; run scripts/train-tagger")
        }
        return model
    }()

    /// Another model for the extractor in this task (the trainer measures candidates with it).
    @TaskLocal package static var override: TaggerModel?
}

/// Phrases of outside word lists (`scripts/tagger/gazetteer.tsv`: everyday words, proper nouns,
/// first names, surnames, cities, countries) to their classes, keyed by 32 bits of the phrase's
/// hash; shipped inside the model.
package struct TaggerGazetteer: Sendable {
    static let maxWords = 4
    private let keys: [UInt32]
    private let values: [UInt8]
    private let mask: Int

    package init(entries: [(UInt32, UInt8)]) {
        var capacity = 16
        while capacity < entries.count * 2 { capacity <<= 1 }
        var keys = [UInt32](repeating: 0, count: capacity)
        var values = [UInt8](repeating: 0, count: capacity)
        mask = capacity - 1
        for (key, classes) in entries {
            var slot = Int(key) & mask
            while keys[slot] != 0 && keys[slot] != key { slot = (slot + 1) & mask }
            keys[slot] = key
            values[slot] |= classes
        }
        self.keys = keys
        self.values = values
    }

    /// The key of a lowercase phrase (words joined by single spaces).
    package static func key(_ phrase: String) -> UInt32 { key(hash: TaggerFeatures.Hash.string(phrase)) }
    @inline(__always) static func key(hash: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: hash >> 32) | 1 }

    @inline(__always) func classes(_ hash: UInt64) -> UInt8 {
        let key = Self.key(hash: hash)
        var slot = Int(key) & mask
        while true {
            let k = keys[slot]
            if k == key { return values[slot] }
            if k == 0 { return 0 }
            slot = (slot + 1) & mask
        }
    }

    var entries: [(UInt32, UInt8)] {
        var all: [(UInt32, UInt8)] = []
        for slot in keys.indices where keys[slot] != 0 { all.append((keys[slot], values[slot])) }
        return all.sorted { $0.0 < $1.0 }
    }
}

package enum TaggerDecoder {
    /// What a token's tag may be: anything, only O (a token a pattern holds), or not I (no name
    /// goes on across it: a possessive before it, a comma, a new sentence).
    package static let free: UInt8 = 0, onlyO: UInt8 = 1, noInside: UInt8 = 2

    @inline(__always) static func permits(_ constraint: UInt8, _ tag: Int) -> Bool {
        constraint == free || tag == 0 || (constraint == noInside && !TaggerTags.isInside(UInt8(tag)))
    }

    /// The transitions with the pairs that may not follow each other (I-X after anything but
    /// B-X or I-X, and at the start) at minus infinity.
    static func masked(_ transitions: [Float], tagCount: Int) -> [Float] {
        var masked = transitions
        for p in 0...tagCount {
            for t in 0..<tagCount where !TaggerTags.allowed(p == tagCount ? nil : UInt8(p), UInt8(t)) {
                masked[p * tagCount + t] = -.infinity
            }
        }
        return masked
    }

    /// The best tag sequence under the emission and transition scores and the constraints.
    package static func viterbi(emissions: [Float], tagCount: Int, transitions: [Float], constraints: [UInt8]) -> [UInt8] {
        let allowed = masked(transitions, tagCount: tagCount)
        return emissions.withUnsafeBufferPointer {
            best(emissions: $0, stride: tagCount, tagCount: tagCount, allowedTransitions: allowed, constraints: constraints)
        }
    }

    /// Viterbi: `emissions` holds `stride` scores a token, the first `tagCount` of them used.
    static func best(emissions: UnsafeBufferPointer<Float>, stride: Int, tagCount T: Int, allowedTransitions: [Float],
                     constraints: [UInt8]) -> [UInt8] {
        let n = constraints.count
        guard n > 0 else { return [] }
        var score = [Float](repeating: -.infinity, count: n * T)
        var back = [UInt8](repeating: 0, count: n * T)
        score.withUnsafeMutableBufferPointer { score in
            back.withUnsafeMutableBufferPointer { back in
                allowedTransitions.withUnsafeBufferPointer { transitions in
                    let start = T * T
                    for t in 0..<T where permits(constraints[0], t) {
                        score[t] = emissions[t] + transitions[start + t]
                    }
                    for i in 1..<n {
                        let base = i * T, previous = (i - 1) * T
                        let constraint = constraints[i]
                        for t in 0..<T where permits(constraint, t) {
                            var best = -Float.infinity
                            var from = 0
                            for p in 0..<T {
                                let s = score[previous + p] + transitions[p * T + t]
                                if s > best { best = s; from = p }
                            }
                            score[base + t] = best + emissions[i * stride + t]
                            back[base + t] = UInt8(from)
                        }
                    }
                }
            }
        }
        var tags = [UInt8](repeating: 0, count: n)
        var best = -Float.infinity
        let last = (n - 1) * T
        for t in 0..<T where score[last + t] > best { best = score[last + t]; tags[n - 1] = UInt8(t) }
        var i = n - 1
        while i > 0 {
            tags[i - 1] = back[i * T + Int(tags[i])]
            i -= 1
        }
        return tags
    }
}

/// What the tagger is given of a segment, its features, and (for training) the labels.
package struct TaggerExample: Sendable {
    package var features: [UInt64]
    package var offsets: [Int]
    /// Per token, ``TaggerDecoder/free``, ``TaggerDecoder/onlyO`` (the exact patterns hold it:
    /// an email, a url, a quantity, a full date) or ``TaggerDecoder/noInside``.
    package var constraints: [UInt8]
    package var gold: [UInt8]
}

extension Segment {
    /// Punctuation a name may have inside it ("AT&T", "Rolls-Royce", "C. E. Webber", "Fearless (Taylor's Version)").
    static let innerPunctuation: Set<String> = ["&", "-", ".", "/", "+", "–", "'", "’", "(", ")", ":", "!", "#"]

    /// Pattern codes per token, a feature of the tagger.
    enum PatternCode: UInt8 { case none = 0, heldDate, timestamp, year, quantity, url, email, occupation }

    /// The patterns' mentions as tagger input: each token's pattern code, and which tokens
    /// must stay O. Occupations found by their cue are handed to the tagger to decide (taken
    /// out of the mentions); a bare year may be part of a name ("the 2022 World Cup").
    mutating func prepareTagging() -> (pattern: [UInt8], constraints: [UInt8]) {
        var pattern = [UInt8](repeating: PatternCode.none.rawValue, count: tokens.count)
        var forced = used
        for t in tokens.indices where used[t] { pattern[t] = PatternCode.heldDate.rawValue }
        var kept: [Mention] = []
        for m in mentions {
            let code: PatternCode
            switch m.type {
            case "Timestamp": code = m.range.count == 1 && tokens[m.range.lowerBound].lower.count == 4 ? .year : .timestamp
            case "Quantity": code = .quantity
            case "URL": code = .url
            case "Email": code = .email
            case "Occupation": code = .occupation
            default: code = .none
            }
            for t in m.range {
                pattern[t] = code.rawValue
                if code == .year || code == .occupation { forced[t] = false }
            }
            if code == .occupation {
                for t in m.range { used[t] = false }
            } else {
                kept.append(m)
            }
        }
        mentions = kept
        var constraints = [UInt8](repeating: TaggerDecoder.free, count: tokens.count)
        for t in tokens.indices {
            if forced[t] {
                constraints[t] = TaggerDecoder.onlyO
            } else if t == 0 || tokens[t - 1].lower.hasSuffix("'s") || tokens[t - 1].lower.hasSuffix("’s")
                        || (tokens[t].kind == .punct && !Self.innerPunctuation.contains(tokens[t].lower)) {
                constraints[t] = TaggerDecoder.noInside
            }
        }
        return (pattern, constraints)
    }

    /// Names and their types by the tagger, after the patterns.
    mutating func tagNames(_ model: TaggerModel) {
        let (pattern, constraints) = prepareTagging()
        guard !tokens.isEmpty else { return }
        let (features, offsets) = TaggerFeatures.extract(self, pattern: pattern, gazetteer: model.gazetteer)
        let tags = model.decode(features: features, offsets: offsets, constraints: constraints)
        var i = 0
        while i < tags.count {
            guard let type = TaggerTags.type(of: tags[i]) else { i += 1; continue }
            var end = i + 1
            while end < tags.count, tags[end] == TaggerTags.inside(type) { end += 1 }
            var range = i..<end
            while range.count > 0, tokens[range.lowerBound].kind == .punct { range = (range.lowerBound + 1)..<range.upperBound }
            while range.count > 0, tokens[range.upperBound - 1].kind == .punct { range = range.lowerBound..<(range.upperBound - 1) }
            if range.count > 0 {
                var name = surface(range)
                if name.hasSuffix("'s") || name.hasSuffix("’s") { name.removeLast(2) }
                if name.hasSuffix(".") { name.removeLast() }
                if name.unicodeScalars.count > 1 {
                    // A year inside a name ("the 2022 World Cup") stays a date of its own too.
                    for t in range { used[t] = true }
                    mentions.append(Mention(range: range, name: name, type: TaggerTags.types[type], sentence: tokens[range.lowerBound].sentence))
                }
            }
            i = end
        }
        if !hasUppercase { findListedLowercaseNames() }
    }

    /// In text typed all in lowercase the tagger has no capitals to go by: names of the word
    /// lists it passed over are taken too, never everyday words.
    mutating func findListedLowercaseNames() {
        var i = 0
        while i < tokens.count {
            guard !used[i], tokens[i].kind == .word else { i += 1; continue }
            var taken = false
            for length in stride(from: 3, through: 1, by: -1) where i + length <= tokens.count {
                let range = i..<(i + length)
                guard !range.contains(where: { used[$0] || tokens[$0].kind != .word }) else { continue }
                var phrase = tokens[range].map(\.lower).joined(separator: " ")
                let possessive = phrase.hasSuffix("'s") || phrase.hasSuffix("’s")
                if possessive { phrase.removeLast(2) }
                if length == 1, Lexicon.commonWords.contains(phrase) || Lexicon.ambiguousLowercase.contains(phrase) { continue }
                let type = Lexicon.locations.contains(phrase) ? "Location" : Lexicon.organizations.contains(phrase) ? "Organization"
                    : Lexicon.products.contains(phrase) ? "Product" : Lexicon.events.contains(phrase) ? "Event" : nil
                guard let type else { continue }
                var name = surface(range)
                if possessive { name.removeLast(2) }
                take(range, name: name, type: type)
                i = range.upperBound
                taken = true
                break
            }
            if !taken { i += 1 }
        }
    }
}

package enum TaggerTraining {
    /// A turn's question and answer as the extractor reads them, labelled with the names of
    /// the given types (every place a name's words stand, as whole tokens; "'s" after a name
    /// is part of its token). Names found nowhere are returned, for the trainer to report.
    package static func examples(question: String, answer: String, names: [(name: String, type: Int)], gazetteer: TaggerGazetteer)
        -> (examples: [TaggerExample], unaligned: [String]) {
        var segments: [Segment] = []
        var inputs: [(pattern: [UInt8], constraints: [UInt8])] = []
        for text in [question, answer] where !text.isEmpty {
            var segment = Segment(TurnAnalysis.limited(text))
            segment.tokenize()
            segment.findPatterns(today: nil)
            inputs.append(segment.prepareTagging())
            segments.append(segment)
        }
        var gold = segments.map { [UInt8](repeating: 0, count: $0.tokens.count) }
        var unaligned: [String] = []
        func stripped(_ s: String) -> String {
            var s = s
            if s.hasSuffix("'s") || s.hasSuffix("’s") { s.removeLast(2) }
            if s.hasSuffix(".") { s.removeLast() }
            return s
        }
        let ordered = names.sorted { $0.name.count > $1.name.count }
        for (name, type) in ordered {
            var found = false
            for caseless in [false, true] where !found {
                let target = caseless ? stripped(name).lowercased() : stripped(name)
                for (s, segment) in segments.enumerated() {
                    let tokens = segment.tokens
                    let constraints = inputs[s].constraints
                    for i in tokens.indices where gold[s][i] == 0 && constraints[i] != TaggerDecoder.onlyO {
                        var j = i
                        while j < tokens.count, gold[s][j] == 0, constraints[j] == TaggerDecoder.free || (j == i && constraints[j] == TaggerDecoder.noInside) {
                            var surface = stripped(segment.surface(i..<(j + 1)))
                            if caseless { surface = surface.lowercased() }
                            if surface == target {
                                gold[s][i] = TaggerTags.begin(type)
                                for k in (i + 1)..<(j + 1) { gold[s][k] = TaggerTags.inside(type) }
                                found = true
                                break
                            }
                            if surface.count >= target.count { break }
                            j += 1
                        }
                    }
                }
            }
            if !found { unaligned.append(name) }
        }
        var examples: [TaggerExample] = []
        for (s, segment) in segments.enumerated() where !segment.tokens.isEmpty {
            let (features, offsets) = TaggerFeatures.extract(segment, pattern: inputs[s].pattern, gazetteer: gazetteer)
            examples.append(TaggerExample(features: features, offsets: offsets, constraints: inputs[s].constraints, gold: gold[s]))
        }
        return (examples, unaligned)
    }
}
