package import MemifyCore

/// Identifies one cognee session: the pair that names its cache keys.
package struct SessionKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    package static let qaPrefix = "agent_sessions:"

    package var userID: String
    package var sessionID: String

    package init(userID: String, sessionID: String) {
        self.userID = userID
        self.sessionID = sessionID
    }

    /// Parses `agent_sessions:{user}:{session}`, splitting on the first two colons only: the
    /// user id never holds a colon, the session id may.
    package init?(cacheKey: some StringProtocol) {
        self.init(cacheKeyBytes: Array(cacheKey.utf8))
    }

    /// Parses a raw key as stored (bytes), splitting on code points as Python does (a colon
    /// followed by a combining mark is still a colon). Keys that are not UTF-8 are not cognee's.
    package init?(cacheKeyBytes bytes: [UInt8]) {
        let prefix = Self.qaPrefixBytes
        guard bytes.count > prefix.count, bytes.starts(with: prefix),
              let colon = bytes[prefix.count...].firstIndex(of: UInt8(ascii: ":")),
              colon > prefix.count, colon + 1 < bytes.count,
              let user = String(validating: bytes[prefix.count..<colon], as: UTF8.self),
              let session = String(validating: bytes[(colon + 1)...], as: UTF8.self) else { return nil }
        self.init(userID: user, sessionID: session)
    }

    static let qaPrefixBytes = Array(qaPrefix.utf8)

    /// The QA list key: `agent_sessions:{user_id}:{session_id}`.
    package var cacheKey: String { Self.qaPrefix + userID + ":" + sessionID }

    package static func < (lhs: SessionKey, rhs: SessionKey) -> Bool {
        (lhs.userID, lhs.sessionID) < (rhs.userID, rhs.sessionID)
    }

    package var description: String { "user \(userID) session \(sessionID)" }
}

/// Which sessions to read.
package struct SessionFilter: Sendable, Equatable {
    package var userIDs: Set<String>
    package var sessionIDs: Set<String>
    /// Exactly these sessions (for `quarantine replay`), on top of the other conditions.
    package var keys: Set<SessionKey>?
    /// Only the sessions of this shard (`--shard K/N`).
    package var shard: Shard?

    package init(userIDs: Set<String> = [], sessionIDs: Set<String> = [], keys: Set<SessionKey>? = nil) {
        self.userIDs = userIDs
        self.sessionIDs = sessionIDs
        self.keys = keys
    }

    package static let all = SessionFilter()

    package func matches(_ key: SessionKey) -> Bool {
        (userIDs.isEmpty || userIDs.contains(key.userID)) && (sessionIDs.isEmpty || sessionIDs.contains(key.sessionID))
            && (keys?.contains(key) ?? true) && (shard?.contains(key) ?? true)
    }

    /// When both users and sessions are named, the exact keys to read (no scan needed).
    package var exactKeys: [SessionKey]? {
        if let keys { return keys.filter { matches($0) }.sorted() }
        guard !userIDs.isEmpty, !sessionIDs.isEmpty else { return nil }
        return userIDs.sorted().flatMap { user in sessionIDs.sorted().map { SessionKey(userID: user, sessionID: $0) } }
            .filter { shard?.contains($0) ?? true }
    }
}

/// One of N shards of the sessions (`--shard K/N`, K from 1): a session belongs to shard
/// `1 + h mod N`, where h is the first 8 bytes (big-endian) of sha256(user_id NUL session_id).
/// Stable across runs, machines and versions, so a worker keeps its sessions.
package struct Shard: Sendable, Equatable, CustomStringConvertible {
    package var index: Int
    package var count: Int

    package init(index: Int, count: Int) throws(WorkerError) {
        guard count >= 1, index >= 1, index <= count else {
            throw WorkerError(.usage, operation: "parse --shard", message: "expected K/N with 1 <= K <= N, got \(index)/\(count)")
        }
        self.index = index
        self.count = count
    }

    /// Parses `K/N`.
    package init(parsing text: String) throws(WorkerError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
            throw WorkerError(.usage, operation: "parse --shard", message: "expected K/N (e.g. 2/4), got '\(text)'")
        }
        try self.init(index: k, count: n)
    }

    package static func hash(_ key: SessionKey) -> UInt64 {
        let digest = Digest.sha256(Array(key.userID.utf8) + [0] + Array(key.sessionID.utf8))
        return digest.prefix(8).reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
    }

    package func contains(_ key: SessionKey) -> Bool { Int(Self.hash(key) % UInt64(count)) == index - 1 }

    package var description: String { "\(index)/\(count)" }
}
