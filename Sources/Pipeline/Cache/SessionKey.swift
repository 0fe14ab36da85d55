/// Identifies one cognee session: the pair that names its cache keys.
public struct SessionKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let qaPrefix = "agent_sessions:"

    public var userID: String
    public var sessionID: String

    public init(userID: String, sessionID: String) {
        self.userID = userID
        self.sessionID = sessionID
    }

    /// Parses `agent_sessions:{user}:{session}`, splitting on the first two colons only: the
    /// user id never holds a colon, the session id may.
    public init?(cacheKey: some StringProtocol) {
        guard cacheKey.hasPrefix(Self.qaPrefix) else { return nil }
        let rest = cacheKey.dropFirst(Self.qaPrefix.count)
        guard let colon = rest.firstIndex(of: ":") else { return nil }
        let user = rest[..<colon]
        let session = rest[rest.index(after: colon)...]
        guard !user.isEmpty, !session.isEmpty else { return nil }
        self.init(userID: String(user), sessionID: String(session))
    }

    /// Parses a raw key as stored (bytes). Keys that are not UTF-8 are not cognee's.
    public init?(cacheKeyBytes bytes: [UInt8]) {
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        self.init(cacheKey: text)
    }

    /// The QA list key: `agent_sessions:{user_id}:{session_id}`.
    public var cacheKey: String { Self.qaPrefix + userID + ":" + sessionID }

    public static func < (lhs: SessionKey, rhs: SessionKey) -> Bool {
        (lhs.userID, lhs.sessionID) < (rhs.userID, rhs.sessionID)
    }

    public var description: String { "user \(userID) session \(sessionID)" }
}

/// Which sessions to read.
public struct SessionFilter: Sendable, Equatable {
    public var userIDs: Set<String>
    public var sessionIDs: Set<String>
    /// Exactly these sessions (for `quarantine replay`), on top of the other conditions.
    public var keys: Set<SessionKey>?

    public init(userIDs: Set<String> = [], sessionIDs: Set<String> = [], keys: Set<SessionKey>? = nil) {
        self.userIDs = userIDs
        self.sessionIDs = sessionIDs
        self.keys = keys
    }

    public static let all = SessionFilter()

    public func matches(_ key: SessionKey) -> Bool {
        (userIDs.isEmpty || userIDs.contains(key.userID)) && (sessionIDs.isEmpty || sessionIDs.contains(key.sessionID))
            && (keys?.contains(key) ?? true)
    }

    /// When both users and sessions are named, the exact keys to read (no scan needed).
    public var exactKeys: [SessionKey]? {
        if let keys { return keys.filter { matches($0) }.sorted() }
        guard !userIDs.isEmpty, !sessionIDs.isEmpty else { return nil }
        return userIDs.sorted().flatMap { user in sessionIDs.sorted().map { SessionKey(userID: user, sessionID: $0) } }
    }
}
