import MemifyCore
import GraphStore
package import SessionCache
import Extraction
import Pipeline

/// A deterministic generator of cognee-shaped sessions for examples, tests and benchmarks.
///
/// The same seed gives the same users, sessions, qa_ids, times and texts, so a corpus can be
/// regenerated instead of stored. Texts are conversational sentences about people, places and
/// organisations, so that extraction has something real to find.
package struct SyntheticCorpus: Sendable {
    package var seed: UInt64
    package var users: Int
    package var sessions: Int
    package var turnsPerSession: Int
    /// Approximate size of one stored entry in bytes.
    package var entryBytes: Int
    /// Unix seconds of the first turn.
    package var startTime: Double

    package init(seed: UInt64 = 20_261_124, users: Int = 10, sessions: Int = 100, turnsPerSession: Int = 10,
                entryBytes: Int = 1_000, startTime: Double = 1_795_500_000) {
        self.seed = seed
        self.users = max(1, users)
        self.sessions = max(0, sessions)
        self.turnsPerSession = max(1, turnsPerSession)
        self.entryBytes = max(200, entryBytes)
        self.startTime = startTime
    }

    /// The user id of user `u`: a UUID, as cognee's are.
    package func userID(_ u: Int) -> String {
        var rng = SplitMix64(seed: seed ^ 0x5553_4552 ^ UInt64(u) &* 0x9E37_79B9)
        return rng.uuid()
    }

    package func key(session s: Int) -> SessionKey {
        SessionKey(userID: userID(s % users), sessionID: "session-\(s)")
    }

    /// The entries of session `s`, oldest first.
    package func entries(session s: Int) -> [SessionQAEntry] {
        var rng = SplitMix64(seed: seed &+ UInt64(s) &* 0xD6E8_FEB8_6659_FD93)
        var out: [SessionQAEntry] = []
        out.reserveCapacity(turnsPerSession)
        for t in 0..<turnsPerSession {
            let time = startTime + Double(s) * 0.001 + Double(t) * 60
            let question = Self.question(&rng)
            var answer = Self.sentence(&rng)
            let target = entryBytes - question.utf8.count - 300
            while answer.utf8.count < target { answer += " " + Self.sentence(&rng) }
            out.append(SessionQAEntry(
                time: Self.isoTime(time), question: question, context: "", answer: answer, qaID: rng.uuid(),
                feedbackScore: t % 7 == 3 ? Int(rng.next() % 5) + 1 : nil))
        }
        return out
    }

    static let people = ["Alice Martin", "Bob Chen", "Carla Diaz", "Dmitri Ivanov", "Emeka Obi", "Fatima Zahra",
                         "Grace Hopper", "Hiro Tanaka", "Ingrid Berg", "Jamal Wright", "Kofi Mensah", "Lena Novak"]
    static let places = ["Berlin", "Lagos", "Osaka", "Lisbon", "Toronto", "Nairobi", "Santiago", "Krakow",
                         "Melbourne", "Reykjavik", "Austin", "Hanoi"]
    static let orgs = ["Acme Corp", "Globex", "Initech", "Umbrella Labs", "Stark Industries", "Wayne Enterprises",
                       "Cyberdyne", "Tyrell", "Hooli", "Pied Piper"]
    static let topics = ["the quarterly report", "the migration plan", "the billing service", "the onboarding guide",
                         "the graph schema", "the data retention policy", "the release checklist", "the API limits"]

    static func pick<T>(_ list: [T], _ rng: inout SplitMix64) -> T { list[Int(rng.next() % UInt64(list.count))] }

    static func question(_ rng: inout SplitMix64) -> String {
        switch rng.next() % 4 {
        case 0: return "Who at \(pick(orgs, &rng)) owns \(pick(topics, &rng))?"
        case 1: return "Where does \(pick(people, &rng)) live now?"
        case 2: return "What changed in \(pick(topics, &rng)) since the last meeting?"
        default: return "Can you summarize what \(pick(people, &rng)) said about \(pick(topics, &rng))?"
        }
    }

    static func sentence(_ rng: inout SplitMix64) -> String {
        switch rng.next() % 6 {
        case 0: return "\(pick(people, &rng)) works at \(pick(orgs, &rng)) as an engineer."
        case 1: return "\(pick(people, &rng)) moved to \(pick(places, &rng)) in \(2015 + rng.next() % 11)."
        case 2:
            let a = Int(rng.next() % UInt64(people.count))
            let b = (a + 1 + Int(rng.next() % UInt64(people.count - 1))) % people.count
            return "\(people[a]) met \(people[b]) in \(pick(places, &rng)) to discuss \(pick(topics, &rng))."
        case 3: return "\(pick(orgs, &rng)) reviewed \(pick(topics, &rng)) and approved \(rng.next() % 90 + 10) changes."
        case 4: return "According to \(pick(people, &rng)), \(pick(topics, &rng)) needs another pass before Friday."
        default: return "\(pick(orgs, &rng)) opened an office in \(pick(places, &rng)) led by \(pick(people, &rng))."
        }
    }

    /// `datetime.isoformat()` of a UTC time: microseconds omitted when zero, `+00:00` offset.
    package static func isoTime(_ seconds: Double) -> String {
        let whole = Int64(seconds.rounded(.down))
        let micros = Int64(((seconds - Double(whole)) * 1_000_000).rounded())
        let (days, secs) = whole.quotientAndRemainder(dividingBy: 86_400)
        let date = CivilDate(daysSinceEpoch: days)
        let (year, month, day) = (date.year, date.month, date.day)
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secs / 3600, 2)):\(pad(secs % 3600 / 60, 2)):\(pad(secs % 60, 2))"
        if micros > 0 && micros < 1_000_000 { text += "." + pad(micros, 6) }
        return text + "+00:00"
    }
}

/// A small, fast, seedable generator (SplitMix64).
package struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A version-4-shaped UUID string from the generator.
    package mutating func uuid() -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        let a = next(), b = next()
        for i in 0..<8 {
            bytes[i] = UInt8(truncatingIfNeeded: a >> (8 * i))
            bytes[8 + i] = UInt8(truncatingIfNeeded: b >> (8 * i))
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        let c = Array(hex)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20...])
    }
}
