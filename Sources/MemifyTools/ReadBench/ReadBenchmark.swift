import MemifyCore
import GraphStore
package import SessionCache
import Extraction
import Pipeline
import Glibc

/// Measures reading a Redis session cache: the worker's reader (SCAN, pipelined LRANGE,
/// decoding and validating every entry) against a raw read of the same keys (pipelined LRANGE,
/// 100 keys per round trip, replies parsed as the reader parses them and dropped) in the same process.
package enum ReadBenchmark {
    package struct Measurement: Sendable {
        package var mode: String
        package var seconds: Double
        package var sessions: Int
        package var entries: Int
        package var entriesPerSecond: Double { Double(entries) / seconds }
    }

    /// The worker's reader over every session.
    package static func reader(url: RedisURL) async throws -> Measurement {
        try await reader(RedisCacheSource(url: url))
    }

    /// A source's reader over every session: reading, decoding and validating every entry.
    package static func reader(_ source: any CacheSource) async throws -> Measurement {
        let start = monotonicSeconds()
        var sessions = 0, entries = 0, bad = 0
        for try await read in source.sessions() {
            sessions += 1
            entries += read.elements.count
            bad += read.errors.count
        }
        if bad > 0 {
            throw WorkerError(.cacheFormat, operation: "benchmark read", message: "\(bad) elements failed to decode")
        }
        return Measurement(mode: "reader", seconds: monotonicSeconds() - start, sessions: sessions, entries: entries)
    }

    /// The raw limit: pipelined `LRANGE` of keys collected beforehand (SCAN not timed), the
    /// replies read as the reader reads them (RESP parsed into one reused buffer) and dropped.
    package static func raw(url: RedisURL, depth: Int = 100) async throws -> Measurement {
        let executor = BlockingExecutor(label: "memify.bench.raw")
        return try await executor.run {
            let connection = try RedisConnection(url: url)
            var keys: [[UInt8]] = []
            var cursor = "0"
            repeat {
                guard case .array(let parts) = try connection.command(["SCAN", cursor, "MATCH", "agent_sessions:*", "COUNT", "1000"]),
                      parts.count == 2, let next = parts[0].text, case .array(let found) = parts[1] else {
                    throw WorkerError(.protocolError, operation: "benchmark SCAN", message: "unexpected reply")
                }
                for case .string(let key) in found { keys.append(key) }
                cursor = next
            } while cursor != "0"
            let start = monotonicSeconds()
            var entries = 0
            let arena = ReplyArena()
            for chunk in stride(from: 0, to: keys.count, by: depth) {
                let batch = keys[chunk..<min(keys.count, chunk + depth)]
                try connection.sendLRANGEs(batch)
                arena.reset()
                entries += try connection.receiveLists(batch.count, into: arena).reduce(0) { $0 + $1.elementCount }
            }
            return Measurement(mode: "raw", seconds: monotonicSeconds() - start, sessions: keys.count, entries: entries)
        }
    }

    /// The decoder alone over elements held in memory, on this thread, ten elements per session
    /// as the reader hands them over (Redis and I/O not involved).
    package static func decode(_ elements: [[UInt8]]) -> Measurement {
        let start = monotonicSeconds()
        var entries = 0
        for chunk in stride(from: 0, to: elements.count, by: 10) {
            var read = SessionRead(key: SessionKey(userID: "u", sessionID: "s"), location: "memory")
            read.decode(elements: Array(elements[chunk..<min(elements.count, chunk + 10)]))
            entries += read.elements.count
        }
        return Measurement(mode: "decode", seconds: monotonicSeconds() - start, sessions: elements.count / 10, entries: entries)
    }

    package static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Peak resident set size of this process, in KiB.
    package static func peakRSSKiB() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss
    }
}
