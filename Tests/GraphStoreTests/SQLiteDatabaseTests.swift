import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import Testing

@Suite("SQLite wrapper")
struct SQLiteDatabaseTests {
    func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("memify-\(UUID().uuidString).db").path
    }

    @Test("a failed transaction rolls back; values round-trip exactly, NUL and quotes included")
    func transactions() throws {
        let db = try SQLiteDatabase(path: temporaryPath(), mode: .readWriteCreate)
        try db.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)")
        let tricky = "it's \"quoted\" \\ back\u{0}slash; DROP TABLE t; -- 🧠"
        try db.transaction { () throws(DatabaseError) in
            try db.withStatement("INSERT INTO t VALUES (?1, ?2)", operation: "insert") { stmt throws(DatabaseError) in
                try stmt.bind(1, "a")
                try stmt.bindText(2, bytes: Array(tricky.utf8))
                _ = try stmt.step()
            }
        }
        // bind(String) keeps a NUL inside the value (a session id may hold one).
        let keyWithNUL = "nul\u{0}inside"
        try db.withStatement("INSERT INTO t VALUES (?1, 'n')", operation: "insert") { stmt throws(DatabaseError) in
            try stmt.bind(1, keyWithNUL)
            _ = try stmt.step()
        }
        let found = try db.withStatement("SELECT length(CAST(k AS BLOB)) FROM t WHERE k = ?1", operation: "select") { stmt throws(DatabaseError) -> Int64 in
            try stmt.bind(1, keyWithNUL)
            return try stmt.step() ? stmt.int64(0) : -1
        }
        #expect(found == Int64(keyWithNUL.utf8.count))
        try db.execute("DELETE FROM t WHERE v = 'n'")
        #expect(throws: DatabaseError.self) {
            try db.transaction { () throws(DatabaseError) in
                try db.execute("INSERT INTO t VALUES ('b', 'x')")
                try db.execute("INSERT INTO t VALUES ('a', 'duplicate')")
            }
        }
        let rows = try db.withStatement("SELECT k, v FROM t ORDER BY k", operation: "select") { stmt throws(DatabaseError) in
            var out: [[UInt8]] = []
            while try stmt.step() { out.append(stmt.bytes(1)) }
            return out
        }
        #expect(rows == [Array(tricky.utf8)])
    }

    @Test("read-only connections refuse writes, with an error naming the operation")
    func readOnly() throws {
        let path = temporaryPath()
        try SQLiteDatabase(path: path, mode: .readWriteCreate).execute("CREATE TABLE t (x)")
        let db = try SQLiteDatabase(path: path, mode: .readOnly)
        let error = #expect(throws: DatabaseError.self) { try db.execute("INSERT INTO t VALUES (1)") }
        #expect(error?.description.contains("readonly") == true)
        #expect(throws: DatabaseError.self) { try SQLiteDatabase(path: path + ".missing", mode: .readOnly) }
    }
}
