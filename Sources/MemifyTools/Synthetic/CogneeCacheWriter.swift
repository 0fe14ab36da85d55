package import MemifyCore
import GraphStore
package import SessionCache
import Extraction
import Pipeline
import Foundation

/// Writes sessions in cognee's Redis format (spec §4): one list per session, `RPUSH`ed entry by
/// entry, then `EXPIRE`. For tests, examples and benchmarks; the worker itself never writes to
/// a cache.
package struct RedisCacheWriter: Sendable {
    package let connection: RedisConnection
    /// Seconds; nil or 0 writes no TTL (cognee's `SESSION_TTL_SECONDS=0`).
    package var ttlSeconds: Int?

    package init(connection: RedisConnection, ttlSeconds: Int? = 604_800) {
        self.connection = connection
        self.ttlSeconds = ttlSeconds
    }

    /// Appends each session's elements (raw bytes, written as given) in one pipeline. Blocking.
    package func append(_ sessions: [(SessionKey, [[UInt8]])]) throws(WorkerError) {
        var commands: [[[UInt8]]] = []
        commands.reserveCapacity(sessions.count * 2)
        for (key, elements) in sessions where !elements.isEmpty {
            let name = Array(key.cacheKey.utf8)
            commands.append([Array("RPUSH".utf8), name] + elements)
            if let ttl = ttlSeconds, ttl > 0 {
                commands.append([Array("EXPIRE".utf8), name, Array(String(ttl).utf8)])
            }
        }
        let replies = try connection.pipeline(commands)
        if let failure = replies.first(where: { if case .error = $0 { true } else { false } }), case .error(let m) = failure {
            throw WorkerError(.protocolError, operation: "write sessions to \(connection.url)", message: m)
        }
    }

    package func append(entries sessions: [(SessionKey, [SessionQAEntry])]) throws(WorkerError) {
        try append(sessions.map { ($0.0, $0.1.map(\.cogneeJSON)) })
    }
}

/// Writes sessions in cognee's filesystem format (diskcache, spec §5.5): one `Cache` row per
/// session holding the JSON list, inline below 32,768 characters and in a `.val` file above,
/// so that diskcache (and so cognee) reads it back.
package final class FileCacheWriter: Sendable {
    package let directory: String
    package let ttlSeconds: Double?
    private let database: SQLiteDatabase

    /// Python's `len()` limit for inline values (`disk_min_file_size`).
    static let inlineLimit = 32_768

    /// Opens (creating if needed) `directory/cache.db` with diskcache's schema. Blocking.
    package init(directory: String, ttlSeconds: Double? = 604_800) throws {
        self.directory = directory
        self.ttlSeconds = ttlSeconds
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        database = try SQLiteDatabase(path: directory + "/cache.db", mode: .readWriteCreate)
        try database.execute("PRAGMA journal_mode=WAL")
        try database.execute(Self.schema)
    }

    private static let schema = """
        CREATE TABLE IF NOT EXISTS Settings ( key TEXT NOT NULL UNIQUE, value);
        CREATE TABLE IF NOT EXISTS Cache ( rowid INTEGER PRIMARY KEY, key BLOB, raw INTEGER, store_time REAL, expire_time REAL, access_time REAL, access_count INTEGER DEFAULT 0, tag BLOB, size INTEGER DEFAULT 0, mode INTEGER DEFAULT 0, filename TEXT, value BLOB);
        CREATE UNIQUE INDEX IF NOT EXISTS Cache_key_raw ON Cache(key, raw);
        CREATE INDEX IF NOT EXISTS Cache_expire_time ON Cache (expire_time);
        CREATE INDEX IF NOT EXISTS Cache_store_time ON Cache (store_time);
        INSERT OR IGNORE INTO Settings VALUES ('statistics', 0), ('tag_index', 0),
            ('eviction_policy', 'least-recently-stored'), ('size_limit', 1073741824), ('cull_limit', 10),
            ('sqlite_auto_vacuum', 1), ('sqlite_cache_size', 8192), ('sqlite_journal_mode', 'wal'),
            ('sqlite_mmap_size', 67108864), ('sqlite_synchronous', 1), ('disk_min_file_size', 32768),
            ('disk_pickle_protocol', 5), ('count', 0), ('size', 0), ('hits', 0), ('misses', 0);
        CREATE TRIGGER IF NOT EXISTS Settings_count_insert AFTER INSERT ON Cache FOR EACH ROW BEGIN UPDATE Settings SET value = value + 1 WHERE key = "count"; END;
        CREATE TRIGGER IF NOT EXISTS Settings_count_delete AFTER DELETE ON Cache FOR EACH ROW BEGIN UPDATE Settings SET value = value - 1 WHERE key = "count"; END;
        CREATE TRIGGER IF NOT EXISTS Settings_size_insert AFTER INSERT ON Cache FOR EACH ROW BEGIN UPDATE Settings SET value = value + NEW.size WHERE key = "size"; END;
        CREATE TRIGGER IF NOT EXISTS Settings_size_update AFTER UPDATE ON Cache FOR EACH ROW BEGIN UPDATE Settings SET value = value + NEW.size - OLD.size WHERE key = "size"; END;
        CREATE TRIGGER IF NOT EXISTS Settings_size_delete AFTER DELETE ON Cache FOR EACH ROW BEGIN UPDATE Settings SET value = value - OLD.size WHERE key = "size"; END;
        """

    /// Stores each session's whole list, replacing what was there, in one transaction. Blocking.
    /// `storeTime` defaults to now; rows expire `ttlSeconds` after it.
    package func write(_ sessions: [(SessionKey, [[UInt8]])], storeTime: Double? = nil) throws {
        let now = storeTime ?? Date().timeIntervalSince1970
        let expire = ttlSeconds.flatMap { $0 > 0 ? now + $0 : nil }
        var oldFiles: [String] = []
        try database.transaction { () throws(DatabaseError) in
            for (key, elements) in sessions {
                var value: [UInt8] = [UInt8(ascii: "[")]
                for (i, element) in elements.enumerated() {
                    if i > 0 { value.append(contentsOf: ", ".utf8) }
                    value.append(contentsOf: element)
                }
                value.append(UInt8(ascii: "]"))
                let existing = try database.withStatement(
                    "SELECT rowid, filename FROM Cache WHERE key = ?1 AND raw = 1", operation: "find \(key)"
                ) { stmt throws(DatabaseError) -> (Int64, String?)? in
                    try stmt.bind(1, key.cacheKey)
                    return try stmt.step() ? (stmt.int64(0), stmt.text(1)) : nil
                }
                if let old = existing?.1 { oldFiles.append(old) }
                // cognee's JSON is ASCII, so bytes = characters for the inline limit.
                let characters = String(decoding: value, as: UTF8.self).count
                var filename: String?
                if characters >= Self.inlineLimit {
                    let name = Self.randomFilename()
                    filename = name
                    let path = directory + "/" + name
                    do {
                        try FileManager.default.createDirectory(
                            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                        try Data(value).write(to: URL(fileURLWithPath: path))
                    } catch {
                        throw DatabaseError(.invalidArgument, operation: "write value file \(path)",
                                              message: "\(error)")
                    }
                }
                let sql = existing == nil
                    ? "INSERT INTO Cache(key, raw, store_time, expire_time, access_time, access_count, tag, size, mode, filename, value) VALUES (?1, 1, ?2, ?3, ?2, 0, NULL, ?4, ?5, ?6, ?7)"
                    : "UPDATE Cache SET store_time = ?2, expire_time = ?3, access_time = ?2, access_count = 0, tag = NULL, size = ?4, mode = ?5, filename = ?6, value = ?7 WHERE rowid = ?8"
                try database.withStatement(sql, operation: "store \(key)") { stmt throws(DatabaseError) in
                    try stmt.bind(1, key.cacheKey)
                    try stmt.bind(2, now)
                    try stmt.bind(3, expire)
                    try stmt.bind(4, Int64(filename == nil ? 0 : value.count))
                    try stmt.bind(5, Int64(filename == nil ? 1 : 3))
                    try stmt.bind(6, filename)
                    if filename == nil { try stmt.bindText(7, bytes: value) } else { try stmt.bind(7, nil as String?) }
                    if let rowid = existing?.0 { try stmt.bind(8, rowid) }
                    _ = try stmt.step()
                }
            }
        }
        for old in oldFiles { try? FileManager.default.removeItem(atPath: directory + "/" + old) }
    }

    package func write(entries sessions: [(SessionKey, [SessionQAEntry])], storeTime: Double? = nil) throws {
        try write(sessions.map { ($0.0, $0.1.map(\.cogneeJSON)) }, storeTime: storeTime)
    }

    /// diskcache's file naming: 16 random bytes as hex, split 2/2/28, `.val`.
    private static func randomFilename() -> String {
        var hex = ""
        for _ in 0..<16 {
            let byte = UInt8.random(in: 0...255)
            hex += (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }
        let chars = Array(hex)
        return String(chars[0..<2]) + "/" + String(chars[2..<4]) + "/" + String(chars[4...]) + ".val"
    }
}
