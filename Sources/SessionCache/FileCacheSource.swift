package import MemifyCore
import Foundation
import Synchronization

/// Reads cognee's filesystem session cache (spec §5): diskcache's `cache.db` and its `.val`
/// files, opened read-only. It never evicts, expires or writes anything; rows whose
/// `expire_time` has passed are skipped as cognee skips them, unless
/// ``CacheReadOptions/includeExpired`` asks for them.
package struct FileCacheSource: CacheSource {
    /// The `sessions_db` folders found under the given path, in order.
    package let directories: [String]
    package let options: CacheReadOptions

    /// Accepts a cognee data root (`{DATA_ROOT}/.cognee_fs_cache/sessions_db`, plus the
    /// per-tenant `{DATA_ROOT}/{uuid}/.cognee_fs_cache/sessions_db`), a `.cognee_fs_cache`
    /// folder, a `sessions_db` folder, or the `cache.db` file itself.
    package init(path: String, options: CacheReadOptions = CacheReadOptions()) throws(WorkerError) {
        self.directories = try Self.locate(path)
        self.options = options
    }

    package var location: String { directories.joined(separator: ", ") }
    /// Several `sessions_db` folders (shared and per tenant) may each hold part of one session.
    package var mayReadSessionPartially: Bool { directories.count > 1 }

    static func locate(_ path: String) throws(WorkerError) -> [String] {
        let fm = FileManager.default
        func hasCache(_ dir: String) -> Bool { fm.fileExists(atPath: dir + "/cache.db") }
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw WorkerError(.usage, operation: "open filesystem cache \(path)", message: "no such file or directory")
        }
        let root = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        if !isDirectory.boolValue {
            guard (root as NSString).lastPathComponent == "cache.db" else {
                throw WorkerError(.usage, operation: "open filesystem cache \(path)",
                                    message: "a file was given, but diskcache's database is named cache.db")
            }
            return [(root as NSString).deletingLastPathComponent]
        }
        if hasCache(root) { return [root] }
        if hasCache(root + "/sessions_db") { return [root + "/sessions_db"] }
        var found: [String] = []
        let shared = root + "/.cognee_fs_cache/sessions_db"
        if hasCache(shared) { found.append(shared) }
        let children = ((try? fm.contentsOfDirectory(atPath: root)) ?? []).sorted()
        for child in children where !child.hasPrefix(".") {
            let tenant = root + "/" + child + "/.cognee_fs_cache/sessions_db"
            if hasCache(tenant) { found.append(tenant) }
        }
        guard !found.isEmpty else {
            throw WorkerError(
                .usage, operation: "open filesystem cache \(path)",
                message: "no cognee session cache here (looked for cache.db, sessions_db/cache.db, .cognee_fs_cache/sessions_db/cache.db and */.cognee_fs_cache/sessions_db/cache.db)")
        }
        return found
    }

    package func makeCursor(filter: SessionFilter) async throws -> any SessionCursor {
        let now = options.now ?? Date().timeIntervalSince1970
        return FileSessionCursor(directories: directories, filter: filter, includeExpired: options.includeExpired,
                                 now: now, batchSize: options.batchSize, malformed: options.malformedKeys)
    }
}

final class FileSessionCursor: SessionCursor {
    private struct State {
        var directoryIndex = 0
        var database: SQLiteDatabase?
        /// The last key read in the current directory: pages continue after it.
        var lastKey: String?
        var exactIndex = 0
    }

    private let directories: [String]
    private let filter: SessionFilter
    private let includeExpired: Bool
    private let now: Double
    private let batchSize: Int
    private let executor = BlockingExecutor(label: "memify.fs.reader")
    private let state = Mutex(State())

    private let malformed: MalformedKeys?

    init(directories: [String], filter: SessionFilter, includeExpired: Bool, now: Double, batchSize: Int,
         malformed: MalformedKeys? = nil) {
        self.malformed = malformed
        self.directories = directories
        self.filter = filter
        self.includeExpired = includeExpired
        self.now = now
        self.batchSize = batchSize
    }

    func nextBatch() async throws -> [SessionRead]? {
        try await executor.run { [self] in try fetch() }
    }

    /// The key range to page through: all sessions, or one user's.
    private var keyRange: (lower: String, upper: String) {
        if filter.userIDs.count == 1, let user = filter.userIDs.first {
            let prefix = SessionKey.qaPrefix + user + ":"
            return (prefix, SessionKey.qaPrefix + user + ";")  // ';' follows ':'
        }
        return (SessionKey.qaPrefix, "agent_sessions;")
    }

    /// Blocking: one page of rows from the current directory, moving on when it is exhausted.
    private func fetch() throws -> [SessionRead]? {
        try state.withLock { (state: inout State) throws -> [SessionRead]? in
            while state.directoryIndex < directories.count {
                let directory = directories[state.directoryIndex]
                if state.database == nil { state.database = try Self.open(directory) }
                let rows = try page(state.database!, directory: directory, after: &state.lastKey,
                                    exactIndex: &state.exactIndex)
                if let rows { return rows }
                state.database = nil
                state.lastKey = nil
                state.exactIndex = 0
                state.directoryIndex += 1
            }
            return nil
        }
    }

    private static func open(_ directory: String) throws -> SQLiteDatabase {
        try openCacheDatabase(directory + "/cache.db")
    }

    private static let columns = "key, mode, filename, value, expire_time"

    /// The next rows of one database, decoded; nil when it has no more.
    private func page(_ db: SQLiteDatabase, directory: String, after lastKey: inout String?,
                      exactIndex: inout Int) throws -> [SessionRead]? {
        let expiry = includeExpired ? "" : " AND (expire_time IS NULL OR expire_time > ?3)"
        var rows: [(SessionKey, RowValue, Double?)] = []
        if let exact = filter.exactKeys {
            guard exactIndex < exact.count else { return nil }
            let slice = exact[exactIndex..<min(exact.count, exactIndex + batchSize)]
            exactIndex += slice.count
            let sql = "SELECT \(Self.columns) FROM Cache WHERE key = ?1 AND raw = 1 AND typeof(key) = 'text'"
                + expiry.replacingOccurrences(of: "?3", with: "?2")
            for key in slice {
                rows += try db.withStatement(sql, operation: "read \(directory)/cache.db") { stmt throws(DatabaseError) in
                    try stmt.bind(1, key.cacheKey)
                    if !includeExpired { try stmt.bind(2, now) }
                    return try readRows(&stmt, directory: directory)
                }
            }
        } else {
            let range = keyRange
            let sql = "SELECT \(Self.columns) FROM Cache WHERE key > ?1 AND key < ?2 AND raw = 1 AND typeof(key) = 'text'"
                + expiry + " ORDER BY key LIMIT \(batchSize)"
            var last = lastKey
            let fetched = try db.withStatement(sql, operation: "read \(directory)/cache.db") { stmt throws(DatabaseError) in
                try stmt.bind(1, last ?? range.lower)
                try stmt.bind(2, range.upper)
                if !includeExpired { try stmt.bind(3, now) }
                var out: [(String, (SessionKey, RowValue, Double?)?)] = []
                while try stmt.step() {
                    let keyText = stmt.text(0) ?? ""
                    out.append((keyText, readRow(stmt, directory: directory)))
                }
                return out
            }
            if fetched.isEmpty { return nil }
            last = fetched.last!.0
            lastKey = last
            rows = fetched.compactMap(\.1)
        }
        return rows.map { key, value, expiresAt in
            var read = SessionRead(key: key, location: directory, expiresAt: expiresAt)
            switch value {
            case .json(let bytes): read.decode(diskcacheValue: bytes)
            case .unreadable(let reason, let raw): read.sessionError = SessionRead.SessionError(reason: reason, raw: raw)
            }
            return read
        }
    }

    private enum RowValue: Sendable {
        case json([UInt8])
        case unreadable(String, [UInt8])
    }

    private func readRows(_ stmt: inout SQLiteStatement, directory: String) throws(DatabaseError) -> [(SessionKey, RowValue, Double?)] {
        var out: [(SessionKey, RowValue, Double?)] = []
        while try stmt.step() {
            if let row = readRow(stmt, directory: directory) { out.append(row) }
        }
        return out
    }

    /// One `Cache` row as cognee's `cache.get` would see it (diskcache `Disk.fetch`).
    private func readRow(_ stmt: SQLiteStatement, directory: String) -> (SessionKey, RowValue, Double?)? {
        let keyBytes = stmt.bytes(0)
        guard let key = SessionKey(cacheKeyBytes: keyBytes) else { malformed?.record(keyBytes); return nil }
        guard filter.matches(key) else { return nil }
        let mode = stmt.int64(1)
        let expiresAt: Double? = stmt.columnType(4) == .null ? nil : stmt.double(4)
        let value: RowValue
        switch mode {
        case 1:  // MODE_RAW: the column as stored
            switch stmt.columnType(3) {
            case .text: value = .json(stmt.bytes(3))
            case .blob:
                // Python's json.loads(bytes) accepts a UTF-8 BOM; so do we, here only.
                var bytes = stmt.bytes(3)
                if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
                value = .json(bytes)
            case .integer:
                value = .unreadable("diskcache value is the integer \(stmt.int64(3)), not a JSON string (cognee cannot read it either)", Array(String(stmt.int64(3)).utf8))
            case .float:
                value = .unreadable("diskcache value is a float, not a JSON string (cognee cannot read it either)", Array(String(stmt.double(3)).utf8))
            case .null:
                value = .unreadable("diskcache value is NULL", [])
            }
        case 2, 3:  // MODE_BINARY / MODE_TEXT: the value lives in a file
            let name = stmt.text(2) ?? ""
            let path = directory + "/" + name
            if name.isEmpty || name.contains("..") {
                value = .unreadable("diskcache row names no usable value file ('\(name)')", [])
            } else if let data = FileManager.default.contents(atPath: path) {
                value = .json(Array(data))
            } else {
                value = .unreadable("diskcache value file \(name) is missing or unreadable", [])
            }
        case 4:
            value = .unreadable(
                "diskcache value is a pickled Python object (mode 4), not a JSON string; cognee cannot read it either",
                stmt.bytes(3))
        default:
            value = .unreadable("diskcache row has unknown mode \(mode)", stmt.bytes(3))
        }
        return (key, value, expiresAt)
    }
}

extension SessionRead {
    /// Decodes a diskcache value: one JSON array holding the whole session. Each element is
    /// decoded on its own, so one bad element does not hide the others.
    mutating func decode(diskcacheValue bytes: [UInt8]) {
        switch JSONArraySplitter.split(bytes) {
        case .success(let ranges):
            var text = EntryTextArena(capacity: bytes.count)
            elements.reserveCapacity(ranges.count)
            bytes.withUnsafeBufferPointer { buffer in
                for (i, range) in ranges.enumerated() {
                    decode(index: i, bytes: UnsafeBufferPointer(rebasing: buffer[range]), text: &text)
                }
            }
        case .failure(let error):
            sessionError = SessionError(reason: error.reason, raw: bytes)
        }
    }
}
