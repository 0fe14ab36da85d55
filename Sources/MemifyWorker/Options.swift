import ArgumentParser
import Foundation
import Pipeline

/// Where the session cache is, shared by every command that reads one.
struct CacheOptions: ParsableArguments {
    @Option(name: .customLong("cache"),
            help: "redis://[user:pass@]host:port[/db], rediss://… (TLS), unix:///path/redis.sock[?db=N] or fs:PATH (a cognee data root or its sessions_db folder). Default: MEMIFY_CACHE_URL, then cognee's CACHE_BACKEND/CACHE_HOST/CACHE_PORT/DATA_ROOT_DIRECTORY, then fs:.")
    var cacheURL: String?

    @Flag(help: "Also read filesystem-cache sessions whose expiry has passed (a rescue for sessions not yet persisted).")
    var includeExpired = false

    @Option(help: ArgumentHelp("Evaluate expiry at this time (ISO 8601 or Unix seconds) instead of now.", visibility: .hidden))
    var now: String?

    func validate() throws {
        if let now, parseTimestamp(now) == nil { throw ValidationError("--now '\(now)' is not an ISO 8601 time or Unix seconds") }
    }

    func makeSource(environment: [String: String] = ProcessInfo.processInfo.environment,
                    fingerprints: SessionFingerprints? = nil) throws -> any CacheSource {
        var options = CacheReadOptions(includeExpired: includeExpired, now: now.flatMap(parseTimestamp))
        options.fingerprints = fingerprints
        if let url = cacheURL ?? environment["MEMIFY_CACHE_URL"] {
            return try CacheSourceFactory.make(url: url, options: options)
        }
        switch environment["CACHE_BACKEND"]?.lowercased() {
        case "redis":
            // CACHE_HOST, CACHE_PORT, CACHE_USERNAME, CACHE_PASSWORD, CACHE_SSL, CACHE_SSL_CERT_REQS, CACHE_SSL_CA_CERTS…
            return RedisCacheSource(url: try RedisURL(cogneeEnvironment: environment), options: options)
        case "fs", "tapes":
            guard let root = environment["DATA_ROOT_DIRECTORY"] else {
                throw PipelineError(.usage, operation: "open cache from CACHE_BACKEND=fs",
                                    message: "DATA_ROOT_DIRECTORY is not set; pass --cache fs:PATH")
            }
            return try FileCacheSource(path: root, options: options)
        case .some(let other) where !other.isEmpty:
            throw PipelineError(.unsupported, operation: "open cache from CACHE_BACKEND=\(other)",
                                message: "only the redis and fs cache backends are supported; pass --cache")
        default:
            return try FileCacheSource(path: ".", options: options)
        }
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
