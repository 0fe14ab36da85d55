import ArgumentParser
import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools

/// Where the session cache is, shared by every command that reads one.
struct CacheOptions: ParsableArguments {
    @Option(name: .customLong("cache"),
            help: "redis://[user:pass@]host:port[/db], rediss://… (TLS), unix:///path/redis.sock[?db=N], fs:PATH (a cognee data root or its sessions_db folder), sqlite:PATH (cognee's SQL cache.db or its folder) or postgresql://… (cognee's SQL cache in PostgreSQL). Default: MEMIFY_CACHE_URL, then cognee's CACHE_BACKEND with CACHE_*/DB_PATH/DB_*/DATA_ROOT_DIRECTORY, then fs:. A password written here is visible to every user in `ps`: give it in MEMIFY_CACHE_URL, CACHE_PASSWORD or PGPASSWORD instead.")
    var cacheURL: String?

    @Flag(help: "Also read filesystem-cache sessions whose expiry has passed (a rescue for sessions not yet persisted).")
    var includeExpired = false

    @Option(help: ArgumentHelp("Evaluate expiry at this time (ISO 8601 or Unix seconds) instead of now.", visibility: .hidden))
    var now: String?

    func validate() throws {
        if let now, parseTimestamp(now) == nil { throw ValidationError("--now '\(now)' is not an ISO 8601 time or Unix seconds") }
    }

    /// How the cache is read, as these options say.
    var readOptions: CacheReadOptions { CacheReadOptions(includeExpired: includeExpired, now: now.flatMap(parseTimestamp)) }

    func makeSource(environment: [String: String] = WorkerEnvironment.values, options: CacheReadOptions? = nil) throws -> any CacheSource {
        let options = options ?? readOptions
        if let url = cacheURL ?? environment["MEMIFY_CACHE_URL"] {
            return try CacheSourceFactory.make(url: url, options: options)
        }
        switch environment["CACHE_BACKEND"]?.lowercased() {
        case "redis":
            // CACHE_HOST, CACHE_PORT, CACHE_USERNAME, CACHE_PASSWORD, CACHE_SSL, CACHE_SSL_CERT_REQS, CACHE_SSL_CA_CERTS…
            return RedisCacheSource(url: try RedisURL(cogneeEnvironment: environment), options: options)
        case "fs", "tapes":
            guard let root = environment["DATA_ROOT_DIRECTORY"] else {
                throw WorkerError(.usage, operation: "open cache from CACHE_BACKEND=fs",
                                    message: "DATA_ROOT_DIRECTORY is not set; pass --cache fs:PATH")
            }
            return try FileCacheSource(path: root, options: options)
        case .some(let backend) where ["sqlite", "turso", "postgres"].contains(backend):
            return try SQLCacheSource(database: try Self.cogneeSQLCache(backend: backend, environment: environment),
                                      options: options)
        case .some(let other) where !other.isEmpty:
            throw WorkerError(.usage, operation: "open cache from CACHE_BACKEND=\(other)",
                                message: "cognee's cache backends are redis, fs, tapes, sqlite, turso and postgres; pass --cache")
        default:
            return try FileCacheSource(path: ".", options: options)
        }
    }
}

extension CacheOptions {
    /// Where cognee keeps its SQL cache, resolved as cognee's `_resolve_cache_db_url` does:
    /// `CACHE_DB_URL`; else `{DB_PATH}/cache.db` for sqlite and turso; else, for postgres, the
    /// relational database of `DB_*` (which cognee requires to be PostgreSQL).
    static func cogneeSQLCache(backend: String, environment: [String: String]) throws -> SQLCacheSource.Database {
        let operation = "open cache from CACHE_BACKEND=\(backend)"
        if let url = environment["CACHE_DB_URL"], !url.isEmpty {
            guard let database = try CacheSourceFactory.sqlDatabase(url) else {
                throw WorkerError(.usage, operation: operation,
                                    message: "CACHE_DB_URL is neither a sqlite nor a postgresql URL")
            }
            return database
        }
        if backend == "postgres" {
            guard environment["DB_PROVIDER"]?.lowercased() == "postgres" else {
                throw WorkerError(.usage, operation: operation,
                                    message: "cognee keeps this cache in its relational database, which DB_PROVIDER does not make PostgreSQL; set CACHE_DB_URL or DB_PROVIDER=postgres with DB_*, or pass --cache postgresql://…")
            }
            return .postgres(conninfo: PostgresConnection.conninfo([
                ("host", environment["DB_HOST"] ?? "localhost"), ("port", environment["DB_PORT"] ?? "5432"),
                ("user", environment["DB_USERNAME"]), ("password", environment["DB_PASSWORD"]),
                ("dbname", environment["DB_NAME"] ?? "cognee_db"),
            ]))
        }
        let databases = environment["DB_PATH"] ?? environment["SYSTEM_ROOT_DIRECTORY"].map { $0 + "/databases" }
        guard let databases else {
            throw WorkerError(.usage, operation: operation,
                                message: "DB_PATH is not set, and cognee's default lies inside its Python package (<cognee>/.cognee_system/databases/cache.db); set DB_PATH or SYSTEM_ROOT_DIRECTORY, or pass --cache sqlite:PATH")
        }
        return .sqlite(path: databases + "/cache.db")
    }
}

/// Which sessions to read.
struct SelectionOptions: ParsableArguments {
    @Option(name: .customLong("user"), help: "Only this user id (repeatable).")
    var users: [String] = []

    @Option(name: .customLong("session"), help: "Only this session id (repeatable).")
    var sessions: [String] = []

    var filter: SessionFilter { SessionFilter(userIDs: Set(users), sessionIDs: Set(sessions)) }
}
