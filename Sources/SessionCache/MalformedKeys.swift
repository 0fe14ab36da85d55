import MemifyCore
import Synchronization

/// Cache keys that look like cognee's session keys but name no session (`agent_sessions:x`, an
/// empty user or session id, ids that are not UTF-8). cognee cannot read them as sessions
/// either; a reader reports them here instead of passing over them without a word.
package final class MalformedKeys: Sendable {
    package struct Key: Sendable, Equatable {
        /// The key as stored, invalid UTF-8 repaired for display.
        package var key: String
        package var reason: String
    }

    private struct State {
        var seen: Set<[UInt8]> = []
        var examples: [Key] = []
        var count = 0
    }

    /// Keys kept to show; the count goes on.
    package static let kept = 1_000
    private let state = Mutex(State())

    package init() {}

    /// Records `bytes` if it starts like a session key and names no session; SCAN may return a
    /// key twice, which counts once (as long as it is among the keys kept).
    package func record(_ bytes: [UInt8]) {
        guard let reason = Self.problem(bytes) else { return }
        state.withLock { state in
            if state.seen.count < Self.kept * 4 {
                guard state.seen.insert(bytes).inserted else { return }
            }
            state.count += 1
            if state.examples.count < Self.kept {
                state.examples.append(Key(key: String(decoding: bytes, as: UTF8.self), reason: reason))
            }
        }
    }

    /// Records ids that are not UTF-8 (a SQL cache's rows).
    package func record(userID: UnsafeRawBufferPointer, sessionID: UnsafeRawBufferPointer) {
        record(SessionKey.qaPrefixBytes + Array(userID) + [UInt8(ascii: ":")] + Array(sessionID))
    }

    package var count: Int { state.withLock { $0.count } }
    package var examples: [Key] { state.withLock { $0.examples } }

    /// Why a key with the session prefix names no session; nil for a good key or another key.
    static func problem(_ bytes: [UInt8]) -> String? {
        let prefix = SessionKey.qaPrefixBytes
        guard bytes.starts(with: prefix), SessionKey(cacheKeyBytes: bytes) == nil else { return nil }
        let rest = bytes[prefix.count...]
        guard let colon = rest.firstIndex(of: UInt8(ascii: ":")) else {
            return "no ':' between a user id and a session id"
        }
        if colon == rest.startIndex { return "empty user id" }
        if colon + 1 == bytes.count { return "empty session id" }
        return "the user or session id is not UTF-8"
    }
}
