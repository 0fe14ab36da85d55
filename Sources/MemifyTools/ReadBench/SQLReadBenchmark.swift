import MemifyCore
import GraphStore
package import SessionCache
import Extraction
import Pipeline

/// Measures reading cognee's SQL cache: the worker's reader (paged by session, every payload
/// decoded and validated) against a raw read of the same rows (`SELECT payload … ORDER BY seq`,
/// paged by `seq`, each payload's bytes touched and dropped) in the same process.
package enum SQLReadBenchmark {
    package static func reader(_ database: SQLCacheSource.Database) async throws -> ReadBenchmark.Measurement {
        try await ReadBenchmark.reader(SQLCacheSource(database: database, options: CacheReadOptions(includeExpired: true)))
    }

    /// The raw limit: every payload in `seq` order, 2,000 rows a query, summed byte by byte
    /// (so the bytes are really read), nothing decoded.
    package static func raw(_ database: SQLCacheSource.Database) async throws -> ReadBenchmark.Measurement {
        let executor = BlockingExecutor(label: "memify.bench.sql")
        return try await executor.run {
            let start = ReadBenchmark.monotonicSeconds()
            var entries = 0, checksum: UInt64 = 0, last: Int64 = -1
            func touch(_ bytes: UnsafeRawBufferPointer) {
                var sum: UInt64 = 0
                for byte in bytes { sum &+= UInt64(byte) }
                checksum &+= sum
            }
            switch database {
            case .sqlite(let path):
                let db = try SQLiteDatabase(path: try SQLCacheSource.locate(path), mode: .readOnly)
                while true {
                    let n = try db.withStatement("SELECT seq, payload FROM cache_qa_entries WHERE seq > ?1 ORDER BY seq LIMIT 2000",
                                                 operation: "raw read") { stmt throws(DatabaseError) -> Int in
                        try stmt.bind(1, last)
                        var n = 0
                        while try stmt.step() {
                            n += 1
                            last = stmt.int64(0)
                            stmt.withBytes(1) { touch($0) }
                        }
                        return n
                    }
                    entries += n
                    if n < 2000 { break }
                }
            case .postgres(let conninfo):
                let connection = try PostgresConnection(conninfo: conninfo)
                while true {
                    var n = 0
                    try connection.forEachRow("SELECT seq, payload::text FROM cache_qa_entries WHERE seq > \(last) ORDER BY seq LIMIT 2000",
                                              operation: "raw read") { (row: PostgresRow) throws(DatabaseError) in
                        n += 1
                        last = try row.int64(0)
                        touch(try row.bytes(1))
                    }
                    entries += n
                    if n < 2000 { break }
                }
                connection.close()
            }
            if checksum == 0 && entries > 0 { throw WorkerError(.cacheFormat, operation: "raw read", message: "empty payloads") }
            return ReadBenchmark.Measurement(mode: "raw", seconds: ReadBenchmark.monotonicSeconds() - start,
                                             sessions: 0, entries: entries)
        }
    }
}
