import MemifyCore
/// Everything read for one session: the good entries, and the elements that failed with why.
///
/// A bad element never hides a good one: each element is decoded on its own, and its index is
/// its position in the stored list (0 = oldest), as cognee counts it.
package struct SessionRead: Sendable {
    package struct Element: Sendable {
        package var index: Int
        package var entry: SessionQAEntry
    }

    package struct ElementError: Sendable, Error, CustomStringConvertible {
        package var index: Int
        package var error: EntryDecodingError
        /// The element exactly as stored, for the quarantine.
        package var raw: [UInt8]
        package var description: String { "element \(index): \(error.reason)" }
    }

    /// A problem with the session as a whole (wrong Redis type, unreadable diskcache value):
    /// no element could be read.
    package struct SessionError: Sendable, Error, CustomStringConvertible {
        package var reason: String
        package var raw: [UInt8]
        package var description: String { reason }
    }

    package var key: SessionKey
    /// Where it was read from, e.g. the diskcache folder (no secrets).
    package var location: String
    package var elements: [Element]
    package var errors: [ElementError]
    package var sessionError: SessionError?
    /// diskcache's `expire_time` (Unix seconds) when known; nil means no expiry or unknown.
    package var expiresAt: Double?
    /// The session's fingerprint (``SessionFingerprints``), when the source was asked for it.
    package var fingerprint: String?
    /// Set instead of `elements` when the fingerprint matched a known one: the session is as it
    /// was when persisted whole, and holds this many elements, not decoded.
    package var unchangedCount: Int?

    package init(key: SessionKey, location: String, elements: [Element] = [], errors: [ElementError] = [],
                sessionError: SessionError? = nil, expiresAt: Double? = nil) {
        self.key = key
        self.location = location
        self.elements = elements
        self.errors = errors
        self.sessionError = sessionError
        self.expiresAt = expiresAt
    }

    package var entries: [SessionQAEntry] { elements.map(\.entry) }
    package var hasErrors: Bool { !errors.isEmpty || sessionError != nil }

    /// Decodes each stored element on its own.
    package mutating func decode(elements raw: [[UInt8]]) {
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
