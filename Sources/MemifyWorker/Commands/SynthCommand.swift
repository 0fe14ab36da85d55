import ArgumentParser
import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools

/// Writes a deterministic synthetic corpus in cognee's cache format (Redis or filesystem), for
/// examples, tests and benchmarks. Never used on a production cache.
struct SynthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write a synthetic cognee-format session cache (for examples, tests and benchmarks).")

    @Option(name: .customLong("cache"), help: "redis://host:port/db, fs:DATA_ROOT (sessions go to DATA_ROOT/.cognee_fs_cache/sessions_db), sqlite:PATH/cache.db or postgresql://… (cognee's SQL cache table).")
    var cacheURL: String
    @Option(help: "Number of sessions.") var sessions = 100
    @Option(help: "Turns per session.") var turns = 10
    @Option(help: "Number of users the sessions are spread over.") var users = 10
    @Option(help: "Approximate bytes per stored entry.") var entryBytes = 1000
    @Option(help: "Seed: the same seed writes the same corpus.") var seed: UInt64 = 20_261_124
    @Option(help: "TTL in seconds; 0 writes none (cognee's SESSION_TTL_SECONDS=0).") var ttl = 604_800
    @Flag(help: "SQL caches: write turn by turn across all sessions (first turns, then second turns, …), as concurrent conversations lay out cognee's table.")
    var interleave = false

    func run() async throws {
        try await withExitStatus {
            let corpus = SyntheticCorpus(seed: seed, users: users, sessions: sessions, turnsPerSession: turns,
                                         entryBytes: entryBytes)
            let ttl = self.ttl
            let executor = BlockingExecutor(label: "memify.synth")
            let batchSize = 200
            if cacheURL.hasPrefix("fs:") {
                let root = String(cacheURL.dropFirst(3))
                let directory = root + "/.cognee_fs_cache/sessions_db"
                let writer = try await executor.run { try FileCacheWriter(directory: directory, ttlSeconds: ttl > 0 ? Double(ttl) : nil) }
                for start in stride(from: 0, to: sessions, by: batchSize) {
                    let range = start..<min(sessions, start + batchSize)
                    try await executor.run {
                        try writer.write(entries: range.map { (corpus.key(session: $0), corpus.entries(session: $0)) })
                    }
                }
            } else if let database = try CacheSourceFactory.sqlDatabase(cacheURL) {
                let writer = try await executor.run { try SQLCacheWriter(database: database, ttlSeconds: Double(ttl)) }
                // Interleaved: every session's first turn, then every second turn…, as a cache
                // that many conversations wrote at once is laid out (rows of a session far apart).
                let rounds = interleave ? turns : 1
                for round in 0..<rounds {
                    for start in stride(from: 0, to: sessions, by: batchSize) {
                        let range = start..<min(sessions, start + batchSize)
                        let interleave = self.interleave
                        try await executor.run {
                            try writer.append(entries: range.map {
                                let entries = corpus.entries(session: $0)
                                return (corpus.key(session: $0), interleave ? [entries[round]] : entries)
                            })
                        }
                    }
                }
                writer.close()
            } else {
                let url = try RedisURL(parsing: cacheURL)
                let connection = try await executor.run { try RedisConnection(url: url) }
                let writer = RedisCacheWriter(connection: connection, ttlSeconds: ttl > 0 ? ttl : nil)
                for start in stride(from: 0, to: sessions, by: batchSize) {
                    let range = start..<min(sessions, start + batchSize)
                    try await executor.run {
                        try writer.append(entries: range.map { (corpus.key(session: $0), corpus.entries(session: $0)) })
                    }
                }
            }
            let shown = cacheURL.hasPrefix("redis") ? (try? RedisURL(parsing: cacheURL).description) ?? "redis" : PostgresConnection.masked(cacheURL)
            StandardError.write("memify-worker: wrote \(sessions) sessions × \(turns) turns to \(shown)\n")
            return .done
        }
    }
}
