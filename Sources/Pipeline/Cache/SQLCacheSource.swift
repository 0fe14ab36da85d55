import GraphStore
import Foundation
import Synchronization

/// Reads cognee's SQL session cache (spec §7: `CACHE_BACKEND=sqlite`, cognee's default, and
/// `turso` and `postgres`): the table `cache_qa_entries`, one row per entry, read-only.
///
/// A session is every visible row of one (`user_id`, `session_id`) in `seq` order, as cognee's
/// `get_session` returns it; an element's index is its position there, and a bad payload is
/// reported with its `seq`. Rows whose `expires_at` has passed are skipped as cognee skips them,
/// unless ``CacheReadOptions/includeExpired`` asks for them. The reader never writes, and it
/// holds no transaction open between statements, so cognee's writers never wait on it.
public struct SQLCacheSource: CacheSource {
    public enum Database: Sendable, Equatable {
        /// The SQLite (or turso) `cache.db`.
        case sqlite(path: String)
        /// A PostgreSQL connection string, handed to libpq as it is.
        case postgres(conninfo: String)
    }

    public let database: Database
    public let options: CacheReadOptions

    /// `path` may be the `cache.db` file or the folder that holds it (cognee's `DB_PATH`).
    public init(database: Database, options: CacheReadOptions = CacheReadOptions()) throws(PipelineError) {
        switch database {
        case .sqlite(let path): self.database = .sqlite(path: try Self.locate(path))
        case .postgres: self.database = database
        }
        self.options = options
    }

    public var location: String {
        switch database {
        case .sqlite(let path): return path
        case .postgres(let conninfo): return PostgresConnection.masked(conninfo)
        }
    }

    static func locate(_ path: String) throws(PipelineError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw PipelineError(.usage, operation: "open SQL cache \(path)", message: "no such file or directory")
        }
        guard isDirectory.boolValue else { return path }
        let file = (path.hasSuffix("/") ? String(path.dropLast()) : path) + "/cache.db"
        guard FileManager.default.fileExists(atPath: file) else {
            throw PipelineError(.usage, operation: "open SQL cache \(path)",
                                message: "no cache.db in this folder (cognee keeps it in DB_PATH, beside its relational database)")
        }
        return file
    }

    public func makeCursor(filter: SessionFilter) async throws -> any SessionCursor {
        let now = options.now ?? Date().timeIntervalSince1970
        let executor = BlockingExecutor(label: "memify.sql.reader")
        let database = database
        let reader: any SQLCacheReader = try await executor.run { () throws -> any SQLCacheReader in
            switch database {
            case .sqlite(let path): return try SQLiteCacheReader(path: path)
            case .postgres(let conninfo): return try PostgresCacheReader(conninfo: conninfo)
            }
        }
        return SQLSessionCursor(reader: reader, executor: executor, filter: filter,
                                expiry: options.includeExpired ? nil : now, batchSize: options.batchSize,
                                fingerprints: options.fingerprints)
    }
}

/// One backend's blocking queries. Every method only reads; rows whose `expires_at` is at or
/// before `expiry` (Unix seconds) are left out, none when it is nil.
protocol SQLCacheReader: Sendable {
    var location: String { get }
    /// Up to `limit` rows after the row `after` in (user_id, session_id, seq) order, of one user
    /// or all; returns how many it handed to `body`.
    func page(after: SQLCachePosition?, userID: String?, expiry: Double?, limit: Int,
              _ body: (SQLCacheRow) -> Void) throws -> Int
    /// The rows of one session by `seq`.
    func rows(of key: SessionKey, expiry: Double?, _ body: (SQLCacheRow) -> Void) throws
}

/// Where a page ended: the last row's session and `seq`.
struct SQLCachePosition: Sendable {
    var key: SessionKey
    var seq: Int64
}

/// One `cache_qa_entries` row, its bytes valid only during the callback.
struct SQLCacheRow {
    var userID: UnsafeRawBufferPointer
    var sessionID: UnsafeRawBufferPointer
    var seq: Int64
    var payload: UnsafeRawBufferPointer
}

/// The rows of one session, copied out of the driver's buffers: payloads end to end. A session
/// the filter does not want keeps no bytes.
private struct SessionRows {
    var key: SessionKey
    var wanted: Bool
    var bytes: [UInt8] = []
    var ranges: [Range<Int>] = []
    var seqs: [Int64] = []

    mutating func append(_ row: SQLCacheRow) {
        guard wanted else { return }
        let start = bytes.count
        bytes.append(contentsOf: row.payload)
        ranges.append(start..<bytes.count)
        seqs.append(row.seq)
    }
}

final class SQLSessionCursor: SessionCursor {
    private struct State {
        /// The last row read.
        var position: SQLCachePosition?
        /// The last session of the last page: more of its rows may follow.
        var pending: SessionRows?
        var exactIndex = 0
        var finished = false
    }

    /// Rows a query reads at most: a page holds whole sessions but the last.
    static let pageRows = 2_000

    private let reader: any SQLCacheReader
    private let executor: BlockingExecutor
    private let filter: SessionFilter
    private let expiry: Double?
    private let batchSize: Int
    private let fingerprints: SessionFingerprints?
    private let state = Mutex(State())

    init(reader: any SQLCacheReader, executor: BlockingExecutor, filter: SessionFilter, expiry: Double?,
         batchSize: Int, fingerprints: SessionFingerprints?) {
        self.reader = reader
        self.executor = executor
        self.filter = filter
        self.expiry = expiry
        self.batchSize = batchSize
        self.fingerprints = fingerprints
    }

    func nextBatch() async throws -> [SessionRead]? {
        let known = await fingerprints?.known.value
        return try await executor.run { [self] in try fetch(known: known) }
    }

    /// Blocking: the next sessions, read and decoded; nil at the end.
    private func fetch(known: KnownFingerprints?) throws -> [SessionRead]? {
        try state.withLock { (state: inout State) throws -> [SessionRead]? in
            while true {
                let sessions: [SessionRows]
                if let exact = filter.exactKeys {
                    guard state.exactIndex < exact.count else { return nil }
                    let slice = exact[state.exactIndex..<min(exact.count, state.exactIndex + batchSize)]
                    state.exactIndex += slice.count
                    var collected: [SessionRows] = []
                    for key in slice { try reader.rows(of: key, expiry: expiry) { collect($0, into: &collected) } }
                    sessions = collected
                } else {
                    guard let page = try nextPage(&state) else { return nil }
                    sessions = page
                }
                // A session listed, then emptied by cognee before its rows were read, has
                // vanished: it is absent, as a deleted Redis key is.
                let wanted = sessions.filter { $0.wanted && !$0.ranges.isEmpty }
                if !wanted.isEmpty { return wanted.map { assemble($0, known: known) } }
            }
        }
    }

    /// The sessions completed by the next page; nil at the end.
    private func nextPage(_ state: inout State) throws -> [SessionRows]? {
        if state.finished {
            defer { state.pending = nil }
            return state.pending.map { [$0] }
        }
        var sessions: [SessionRows] = state.pending.map { [$0] } ?? []
        let user = filter.userIDs.count == 1 ? filter.userIDs.first : nil
        var last: SQLCachePosition?
        let count = try reader.page(after: state.position, userID: user, expiry: expiry, limit: Self.pageRows) { row in
            if let key = collect(row, into: &sessions) { last = SQLCachePosition(key: key, seq: row.seq) }
        }
        if let last { state.position = last }
        if count < Self.pageRows {
            state.finished = true
            state.pending = nil
            return sessions.isEmpty ? nil : sessions
        }
        state.pending = sessions.popLast()
        return sessions
    }

    /// Adds a row to its session (rows come grouped by session); returns the session's key,
    /// nil for ids that are not UTF-8 (no session of cognee's).
    @discardableResult
    private func collect(_ row: SQLCacheRow, into sessions: inout [SessionRows]) -> SessionKey? {
        if let last = sessions.last, last.key.userID.utf8.elementsEqual(row.userID),
           last.key.sessionID.utf8.elementsEqual(row.sessionID) {
            sessions[sessions.count - 1].append(row)
            return last.key
        }
        guard let user = String(validating: row.userID, as: UTF8.self),
              let session = String(validating: row.sessionID, as: UTF8.self) else { return nil }
        let key = SessionKey(userID: user, sessionID: session)
        var rows = SessionRows(key: key, wanted: filter.matches(key))
        rows.append(row)
        sessions.append(rows)
        return key
    }

    private func assemble(_ rows: SessionRows, known: KnownFingerprints?) -> SessionRead {
        var read = SessionRead(key: rows.key, location: reader.location)
        rows.bytes.withUnsafeBufferPointer { buffer in
            if let fingerprints, let known {
                var scratch: [UInt8] = []
                let fingerprint = fingerprints.fingerprint(count: rows.ranges.count, scratch: &scratch) {
                    UnsafeBufferPointer(rebasing: buffer[rows.ranges[$0]])
                }
                if known[KeyFingerprint(Array(rows.key.cacheKey.utf8))] == fingerprint {
                    read.unchangedCount = rows.ranges.count
                    return
                }
                read.fingerprint = fingerprint.hex
            }
            var text = EntryTextArena(capacity: rows.bytes.count)
            read.elements.reserveCapacity(rows.ranges.count)
            for (i, range) in rows.ranges.enumerated() {
                read.decode(index: i, bytes: UnsafeBufferPointer(rebasing: buffer[range]), text: &text)
            }
        }
        for i in read.errors.indices {
            read.errors[i].error.reason = "row seq \(rows.seqs[read.errors[i].index]): " + read.errors[i].error.reason
        }
        return read
    }
}

/// Formats Unix seconds as SQLAlchemy stores a naive UTC `DateTime` on SQLite
/// (`YYYY-MM-DD HH:MM:SS.ffffff`), which cognee compares as text.
func sqliteUTCText(_ seconds: Double) -> String {
    var whole = Int64(seconds.rounded(.down))
    var micros = Int64(((seconds - Double(whole)) * 1_000_000).rounded())
    if micros >= 1_000_000 { whole += 1; micros -= 1_000_000 }
    let days = whole >= 0 ? whole / 86_400 : (whole - 86_399) / 86_400
    let secondOfDay = whole - days * 86_400
    let date = CivilDate(daysSinceEpoch: days)
    func pad(_ n: Int64, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    return "\(pad(date.year, 4))-\(pad(date.month, 2))-\(pad(date.day, 2)) "
        + "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(micros, 6))"
}
