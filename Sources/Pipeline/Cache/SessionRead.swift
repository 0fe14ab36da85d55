/// Everything read for one session: the good entries, and the elements that failed with why.
///
/// A bad element never hides a good one: each element is decoded on its own, and its index is
/// its position in the stored list (0 = oldest), as cognee counts it.
public struct SessionRead: Sendable {
    public struct Element: Sendable {
        public var index: Int
        public var entry: SessionQAEntry
    }

    public struct ElementError: Sendable, Error, CustomStringConvertible {
        public var index: Int
        public var error: EntryDecodingError
        /// The element exactly as stored, for the quarantine.
        public var raw: [UInt8]
        public var description: String { "element \(index): \(error.reason)" }
    }

    /// A problem with the session as a whole (wrong Redis type, unreadable diskcache value):
    /// no element could be read.
    public struct SessionError: Sendable, Error, CustomStringConvertible {
        public var reason: String
        public var raw: [UInt8]
        public var description: String { reason }
    }

    public var key: SessionKey
    /// Where it was read from, e.g. the diskcache folder (no secrets).
    public var location: String
    public var elements: [Element]
    public var errors: [ElementError]
    public var sessionError: SessionError?
    /// diskcache's `expire_time` (Unix seconds) when known; nil means no expiry or unknown.
    public var expiresAt: Double?
    /// The session's fingerprint (``SessionFingerprints``), when the source was asked for it.
    public var fingerprint: String?
    /// Set instead of `elements` when the fingerprint matched a known one: the session is as it
    /// was when persisted whole, and holds this many elements, not decoded.
    public var unchangedCount: Int?

    public init(key: SessionKey, location: String, elements: [Element] = [], errors: [ElementError] = [],
                sessionError: SessionError? = nil, expiresAt: Double? = nil) {
        self.key = key
        self.location = location
        self.elements = elements
        self.errors = errors
        self.sessionError = sessionError
        self.expiresAt = expiresAt
    }

    public var entries: [SessionQAEntry] { elements.map(\.entry) }
    public var hasErrors: Bool { !errors.isEmpty || sessionError != nil }

    /// Decodes each stored element on its own.
    public mutating func decode(elements raw: [[UInt8]]) {
        elements.reserveCapacity(elements.count + raw.count)
        var text = EntryTextArena(capacity: raw.reduce(0) { $0 + $1.count })
        for (i, bytes) in raw.enumerated() {
            bytes.withUnsafeBufferPointer { decode(index: i, bytes: $0, text: &text) }
        }
    }

    /// Decodes one element in place, its texts kept in `text` (an arena for the whole session
    /// makes one allocation of it); only a bad element's bytes are copied (for the quarantine).
    mutating func decode(index: Int, bytes: UnsafeBufferPointer<UInt8>, text: inout EntryTextArena) {
        // The common case first, moved straight into place (no copy out of a Result).
        if SessionQAEntry.appendCanonical(bytes, index: index, text: &text, to: &elements) { return }
        switch SessionQAEntry.decodeFull(bytes) {
        case .success(let entry): elements.append(Element(index: index, entry: entry))
        case .failure(let error): errors.append(ElementError(index: index, error: error, raw: Array(bytes)))
        }
    }
}
