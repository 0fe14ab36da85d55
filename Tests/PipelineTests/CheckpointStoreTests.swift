import Foundation
@testable import MemifyCore
@testable import GraphStore
@testable import SessionCache
@testable import Extraction
@testable import Pipeline
@testable import MemifyTools
import Testing

@Suite("The state database's schema")
struct CheckpointStoreSchemaTests {
    static func value(_ db: SQLiteDatabase, _ sql: String) throws -> String? {
        try db.withStatement(sql, operation: "test") { stmt throws(DatabaseError) -> String? in try stmt.step() ? stmt.text(0) : nil }
    }

    static func plan(_ db: SQLiteDatabase, _ sql: String) throws -> String {
        try db.withStatement("EXPLAIN QUERY PLAN " + sql, operation: "test") { stmt throws(DatabaseError) -> String in
            var lines: [String] = []
            while try stmt.step() { lines.append(stmt.text(3) ?? "") }
            return lines.joined(separator: "; ")
        }
    }

    @Test("an open at the current version runs no DDL; an older version is upgraded, and leftover running rows are found by index")
    func upgradeAndFastOpen() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("memify-state-\(UUID().uuidString).db").path
        do {
            let store = try StateDatabase(path: path)
            try store.startRun("run-1")
            #expect(try Self.value(store.database, "SELECT value FROM meta WHERE key = 'schema_version'") == String(StateDatabase.schemaVersion))
            #expect(try Self.plan(store.database, "UPDATE runs SET status = 'aborted' WHERE status = 'running'").contains("runs_running"))
            // Gone, but the version says current: the next open must not make it again.
            try store.database.execute("DROP INDEX runs_running")
        }
        do {
            let store = try StateDatabase(path: path)
            #expect(try Self.value(store.database, "SELECT count(*) FROM sqlite_master WHERE name = 'runs_running'") == "0",
                    "an open at the current version ran DDL")
            // An older database: upgraded on open, its rows kept.
            try store.database.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
        }
        let store = try StateDatabase(path: path)
        #expect(try Self.value(store.database, "SELECT count(*) FROM sqlite_master WHERE name = 'runs_running'") == "1")
        #expect(try Self.value(store.database, "SELECT value FROM meta WHERE key = 'schema_version'") == "5")
        #expect(try Self.value(store.database, "SELECT count(*) FROM sqlite_master WHERE name = 'embedding_cache'") == "1")
        try store.startRun("run-2")
        #expect(try Self.value(store.database, "SELECT status FROM runs WHERE run_id = 'run-1'") == "aborted")
        #expect(try Self.value(store.database, "SELECT status FROM runs WHERE run_id = 'run-2'") == "running")
    }
}

@Suite("The state database's close")
struct CheckpointStoreCloseTests {
    @Test("a run that changed only its runs row leaves it in the WAL (no checkpoint, no fsync); any other write is checkpointed into the file")
    func noCheckpointAfterANoOp() throws {
        let fm = FileManager.default
        let path = fm.temporaryDirectory.appendingPathComponent("memify-close-\(UUID().uuidString).db").path
        let wal = path + "-wal"
        func walSize() -> Int { ((try? fm.attributesOfItem(atPath: wal))?[.size] as? Int) ?? -1 }
        // Making the schema writes: checkpointed on close, the WAL removed.
        try StateDatabase(path: path).close()
        #expect(!fm.fileExists(atPath: wal))
        // A no-op run: its runs row stays in the WAL, and the next open reads it.
        do {
            let store = try StateDatabase(path: path)
            try store.startRun("run-1")
            try store.finishRun("run-1", status: "done", exitCode: 0, summary: "{}")
            store.close()
        }
        #expect(walSize() > 0)
        do {
            let store = try StateDatabase(path: path)
            #expect(try store.status().lastRuns.map(\.runID) == ["run-1"])
            store.close()
        }
        // A run that writes anything else: everything goes into the file, which alone then
        // holds both runs (a backup copying only it loses nothing).
        do {
            let store = try StateDatabase(path: path)
            try store.startRun("run-2")
            _ = try store.quarantine(key: SessionKey(userID: "u", sessionID: "s"), index: 0, reason: "test", raw: [1], runID: "run-2")
            try store.finishRun("run-2", status: "partial", exitCode: 3, summary: "{}")
            store.close()
        }
        #expect(!fm.fileExists(atPath: wal))
        let copy = path + ".copy"
        try fm.copyItem(atPath: path, toPath: copy)
        let alone = try StateDatabase(readOnlyPath: copy)
        #expect(Set(try alone.status().lastRuns.map(\.runID)) == ["run-1", "run-2"])
        #expect(try alone.quarantined().count == 1)
    }
}

@Suite("SCAN's duplicate filter")
struct KeyFingerprintSetTests {
    @Test("answers as a Set does, through growth, clustered low bits and the all-zero fingerprint")
    func agreesWithSet() {
        var generator = SystemRandomNumberGenerator()
        var table = KeyFingerprintSet()
        var reference = Set<KeyFingerprint>()
        var keys: [KeyFingerprint] = [KeyFingerprint(a: 0, b: 0), KeyFingerprint(a: 0, b: 1), KeyFingerprint(a: 1, b: 0)]
        for i in 0..<5_000 { keys.append(KeyFingerprint(a: UInt64(i) << 20, b: UInt64(i % 7))) }  // same low bits: all in one shard, one long probe cluster
        for _ in 0..<50_000 { keys.append(KeyFingerprint(a: generator.next(), b: generator.next())) }  // every shard grows
        var disagreements = 0
        for _ in 0..<3 {
            for key in keys.shuffled() where table.insert(key) != reference.insert(key).inserted { disagreements += 1 }
        }
        #expect(disagreements == 0)
        #expect(table.count == reference.count && table.count == Set(keys).count && table.count > 54_000)
        // Real keys, as SCAN sees them, each twice.
        var fromBytes = KeyFingerprintSet()
        let bytes = (0..<5000).map { Array("agent_sessions:u\($0 % 17):s\($0)".utf8) }
        #expect(bytes.allSatisfy { fromBytes.insert(KeyFingerprint($0)) })
        #expect(!bytes.contains { fromBytes.insert(KeyFingerprint($0)) })
    }
}
