import MemifyCore
import GraphStore
package import SessionCache
import Extraction
import Pipeline
import Foundation

/// Writes sessions in cognee's SQL cache format (spec §7): one `cache_qa_entries` row per entry,
/// on SQLite (the tables as cognee's SQLAlchemy metadata creates them) or PostgreSQL (payload
/// JSONB, rows `COPY`ed). For tests, examples and benchmarks; the worker itself never writes to
/// a cache.
package final class SQLCacheWriter: Sendable {
    private enum Handle: Sendable {
        case sqlite(SQLiteDatabase)
        case postgres(PostgresConnection)
    }

    private let handle: Handle
    /// Seconds; nil writes no expiry (cognee's `SESSION_TTL_SECONDS=0`).
    package let ttlSeconds: Double?

    /// Opens the database and creates cognee's tables where missing. Blocking.
    package init(database: SQLCacheSource.Database, ttlSeconds: Double? = 604_800) throws {
        self.ttlSeconds = ttlSeconds.flatMap { $0 > 0 ? $0 : nil }
        switch database {
        case .sqlite(let path):
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            let db = try SQLiteDatabase(path: path, mode: .readWriteCreate)
            try db.execute("PRAGMA journal_mode=WAL")
            try db.execute(Self.sqliteSchema)
            handle = .sqlite(db)
        case .postgres(let conninfo):
            let connection = try PostgresConnection(conninfo: conninfo)
            try connection.execute(Self.postgresSchema, operation: "create cognee's cache tables")
            handle = .postgres(connection)
        }
    }

    /// cognee's DDL on SQLite (spec §7.1), the QA table and its indexes.
    static let sqliteSchema = """
        CREATE TABLE IF NOT EXISTS cache_qa_entries (
          seq INTEGER NOT NULL, user_id TEXT NOT NULL, session_id TEXT NOT NULL, qa_id TEXT NOT NULL,
          payload JSON NOT NULL, created_at DATETIME DEFAULT CURRENT_TIMESTAMP NOT NULL, expires_at DATETIME,
          PRIMARY KEY (seq), CONSTRAINT uq_cache_qa_entry UNIQUE (user_id, session_id, qa_id));
        CREATE INDEX IF NOT EXISTS idx_cache_qa_session ON cache_qa_entries (user_id, session_id, seq);
        CREATE INDEX IF NOT EXISTS idx_cache_qa_expires ON cache_qa_entries (expires_at) WHERE expires_at IS NOT NULL;
        """

    /// The same table as cognee creates it on PostgreSQL.
    static let postgresSchema = """
        CREATE TABLE IF NOT EXISTS cache_qa_entries (
          seq BIGSERIAL PRIMARY KEY, user_id TEXT NOT NULL, session_id TEXT NOT NULL, qa_id TEXT NOT NULL,
          payload JSONB NOT NULL, created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
          expires_at TIMESTAMP WITH TIME ZONE,
          CONSTRAINT uq_cache_qa_entry UNIQUE (user_id, session_id, qa_id));
        CREATE INDEX IF NOT EXISTS idx_cache_qa_session ON cache_qa_entries (user_id, session_id, seq);
        CREATE INDEX IF NOT EXISTS idx_cache_qa_expires ON cache_qa_entries (expires_at) WHERE expires_at IS NOT NULL;
        """

    /// Appends one row per entry (payloads written as given), in one transaction. Blocking.
    /// `now` defaults to the wall clock; rows expire `ttlSeconds` after it.
    package func append(_ rows: [(key: SessionKey, qaID: String, payload: [UInt8])], now: Double? = nil) throws {
        let now = now ?? Date().timeIntervalSince1970
        let created = UTCTime.sqlite(now)
        let expires = ttlSeconds.map { UTCTime.sqlite(now + $0) }
        switch handle {
        case .sqlite(let db):
            try db.transaction { () throws(DatabaseError) in
                try db.withStatement(
                    "INSERT INTO cache_qa_entries (user_id, session_id, qa_id, payload, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    operation: "append cache rows"
                ) { stmt throws(DatabaseError) in
                    for row in rows {
                        stmt.reset()
                        try stmt.bind(1, row.key.userID)
                        try stmt.bind(2, row.key.sessionID)
                        try stmt.bind(3, row.qaID)
                        try stmt.bindText(4, bytes: row.payload)
                        try stmt.bind(5, created)
                        try stmt.bind(6, expires)
                        _ = try stmt.step()
                    }
                }
            }
        case .postgres(let connection):
            var data: [UInt8] = []
            for row in rows {
                for text in [row.key.userID, row.key.sessionID, row.qaID] {
                    CopyText.append(text, to: &data)
                    data.append(0x09)
                }
                CopyText.append(bytes: row.payload, to: &data)
                data.append(0x09)
                data.append(contentsOf: (created + "+00").utf8)
                data.append(0x09)
                if let expires { data.append(contentsOf: (expires + "+00").utf8) } else { data.append(contentsOf: "\\N".utf8) }
                data.append(0x0A)
            }
            try connection.copyIn("COPY cache_qa_entries (user_id, session_id, qa_id, payload, created_at, expires_at) FROM STDIN",
                                  data: data, operation: "append \(rows.count) cache rows")
        }
    }

    package func append(entries sessions: [(SessionKey, [SessionQAEntry])], now: Double? = nil) throws {
        try append(sessions.flatMap { key, entries in
            entries.map { (key: key, qaID: $0.qaID ?? "", payload: $0.cogneeJSON) }
        }, now: now)
    }

    package func close() {
        switch handle {
        case .sqlite(let db): db.close()
        case .postgres(let connection): connection.close()
        }
    }
}
