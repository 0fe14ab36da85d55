import MemifyCore

/// Reads cognee's Redis session cache (spec §4): discovers `agent_sessions:{user}:{session}`
/// lists with `SCAN` (never `KEYS`) and reads them with pipelined `LRANGE key 0 -1`.
///
/// Read-only: it sends `SCAN`, `LRANGE` and `TYPE`, nothing else.
package struct RedisCacheSource: CacheSource {
    package let url: RedisURL
    package let options: CacheReadOptions

    package init(url: RedisURL, options: CacheReadOptions = CacheReadOptions()) {
        self.url = url
        self.options = options
    }

    package var location: String { url.description }

    package func makeCursor(filter: SessionFilter) async throws -> any SessionCursor {
        let executor = BlockingExecutor(label: "memify.redis.reader")
        let url = self.url
        // Two connections: SCAN runs on its own, so discovering the next keys never waits
        // behind the list replies already on their way.
        let (lists, scan) = try await executor.run { (try RedisConnection(url: url), try RedisConnection(url: url)) }
        return RedisSessionCursor(lists: lists, scan: scan, executor: executor, filter: filter,
                                  batchSize: options.batchSize, location: location, fingerprints: options.fingerprints,
                                  malformed: options.malformedKeys)
    }

    /// The `SCAN MATCH` pattern for a filter: as narrow as the filter allows, with the user's or
    /// session's glob characters escaped. The filter is applied again to every key found.
    static func scanPattern(for filter: SessionFilter) -> String {
        if filter.userIDs.count == 1, let user = filter.userIDs.first {
            return SessionKey.qaPrefix + redisGlobEscape(user) + ":*"
        }
        if filter.userIDs.isEmpty, filter.sessionIDs.count == 1, let session = filter.sessionIDs.first {
            return SessionKey.qaPrefix + "*:" + redisGlobEscape(session)
        }
        return SessionKey.qaPrefix + "*"
    }
}
