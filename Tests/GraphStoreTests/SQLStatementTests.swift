import Foundation
import MemifyCore
import GraphStore
import TestSupport
import Testing

@Suite("SQLStatement")
struct SQLStatementTests {
    @Test func interpolationsAreNumberedParameters() {
        let missing: String? = nil
        let statement: SQLStatement = "SELECT a FROM t WHERE b = \("x") AND c = \(7) AND d = \(missing) AND e > \(Int64(-3))"
        #expect(statement.sql == "SELECT a FROM t WHERE b = $1 AND c = $2 AND d = $3 AND e > $4")
        #expect(statement.parameters == ["x", "7", nil, "-3"])
    }

    @Test func valuesInTextFormat() {
        let statement: SQLStatement = "\(true) \(false) \(1.5) \(1e-5) \(Int.max) \(Int64.min)"
        #expect(statement.sql == "$1 $2 $3 $4 $5 $6")
        #expect(statement.parameters == ["true", "false", "1.5", "1e-05", String(Int.max), String(Int64.min)])
    }

    @Test func piecesAreNumberedAsAWhole() {
        let user: SQLStatement = "user_id = \("u")"
        let session: SQLStatement = "session_id = \("s")"
        var statement: SQLStatement = "SELECT 1 FROM t WHERE \(user) AND \(session)"
        statement += " LIMIT \(10)"
        #expect(statement.sql == "SELECT 1 FROM t WHERE user_id = $1 AND session_id = $2 LIMIT $3")
        #expect(statement.parameters == ["u", "s", "10"])

        let joined = "SELECT 1 FROM t WHERE " + [user, session, "seq > \(Int64(5))"].joined(separator: " AND ")
        #expect(joined.sql == "SELECT 1 FROM t WHERE user_id = $1 AND session_id = $2 AND seq > $3")
        #expect(joined.parameters == ["u", "s", "5"])

        let empty = [SQLStatement]().joined(separator: " AND ")
        #expect(empty.sql == "" && empty.parameters.isEmpty)
        // A fragment with no parameters in the middle keeps the numbering going.
        let nested: SQLStatement = "\(1) \(SQLStatement(unsafeSQL: "x")) \(2) \(user)"
        #expect(nested.sql == "$1 x $2 user_id = $3")
    }

    @Test func unsafeSQLIsTextNotAParameter() {
        let table = PostgresGraphWriter.quoteIdentifier("my \"odd\" table")
        let statement: SQLStatement = "SELECT count(*) FROM \(unsafeSQL: table) WHERE id = \("a")"
        #expect(statement.sql == #"SELECT count(*) FROM "my ""odd"" table" WHERE id = $1"#)
        #expect(statement.parameters == ["a"])
        #expect(SQLStatement(unsafeSQL: "SELECT 1").sql == "SELECT 1")
    }

    @Test func arraysAsPostgresLiterals() {
        let statement: SQLStatement = "\(["a", "b\"c", "d\\e", "", "NULL", "x,y{}"]) \([Int64(1), -2]) \([String]())"
        #expect(statement.parameters == [#"{"a","b\"c","d\\e","","NULL","x,y{}"}"#, "{1,-2}", "{}"])
    }
}

/// The statements and rows against the real server (`scripts/servers`).
@Suite("SQLStatement: PostgreSQL",
       .enabled(if: TestEnvironment.postgresURL != nil, "set MEMIFY_TEST_POSTGRES_URL (scripts/test starts a PostgreSQL)"))
struct SQLStatementPostgresTests {
    /// Runs `body` on a new connection, off the cooperative pool.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let url = try #require(TestEnvironment.postgresURL)
        return try await BlockingExecutor(label: "test.sqlstatement").run {
            let connection = try PostgresConnection(conninfo: url)
            defer { connection.close() }
            return try body(connection)
        }
    }

    static let hostile = [
        "it's", #"a "quoted" word"#, #"back\slash \\ and \'"#, "$1", "$2::text", "'; DROP TABLE graph_node; --",
        "line\nbreak\ttab\r", "NULL", "", "{\"a\",\"b\"}", "ümlaut ✓ 𝄞", "x,y{}", "E'\\x41'",
    ]

    @Test func hostileValuesStayData() async throws {
        let back = try await withConnection { connection in
            try Self.hostile.map { value in
                // Two values so a stray `$1` inside one would show up as the other.
                let row = try connection.row("SELECT \(value)::text, \("second")::text", operation: "echo a value")
                return [try row.string(0), try row.string(1)]
            }
        }
        #expect(back == Self.hostile.map { [$0, "second"] })
    }

    @Test func arraysRoundTrip() async throws {
        let back = try await withConnection { connection in
            try connection.rows("SELECT x FROM unnest(\(Self.hostile)::text[]) WITH ORDINALITY AS u(x, n) ORDER BY n",
                                operation: "echo an array").map { (row) throws(DatabaseError) in try row.string(0) }
        }
        #expect(back == Self.hostile)
        let keys = try await withConnection { connection in
            try connection.rows("SELECT k FROM unnest(\([Int64.min, 0, Int64.max])::bigint[]) AS k ORDER BY k",
                                operation: "echo keys").map { (row) throws(DatabaseError) in try row.int64(0) }
        }
        #expect(keys == [Int64.min, 0, Int64.max])
    }

    @Test func typedValues() async throws {
        let missing: String? = nil
        let values = try await withConnection { connection in
            let row = try connection.row("""
                SELECT \(Int64.max)::bigint, \(2.25)::float8, \(true)::boolean, \(false)::boolean, \(missing)::text, \(missing)::text IS NULL
                """, operation: "echo typed values")
            return (try row.int64(0), try row.double(1), try row.bool(2), try row.bool(3), try row.optionalString(4), try row.bool(5))
        }
        #expect(values.0 == Int64.max)
        #expect(values.1 == 2.25)
        #expect(values.2 && !values.3)
        #expect(values.4 == nil)
        #expect(values.5)
    }

    @Test func pieceByPieceRunsAsBuilt() async throws {
        let count = try await withConnection { connection in
            var statement: SQLStatement = "SELECT count(*) FROM (VALUES ('a', 1), ('b', 2), ('c', 3)) AS v(k, n) WHERE "
            let conditions: [SQLStatement] = ["k <> \("b")", "n >= \(1)", "k = ANY(\(["a", "b", "c"])::text[])"]
            statement += conditions.joined(separator: " AND ")
            return try connection.row(statement, operation: "count").int(0)
        }
        #expect(count == 2)
    }

    @Test func unsafeSQLNamesAQuotedIdentifier() async throws {
        let table = PostgresGraphWriter.quoteIdentifier("memify \"sql\" $1 test")
        let read = try await withConnection { connection in
            try connection.perform("CREATE TEMP TABLE \(unsafeSQL: table) (id text NOT NULL, note text)", operation: "create a table")
            try connection.perform("INSERT INTO \(unsafeSQL: table) (id, note) VALUES (\("$1"), \(nil as String?))", operation: "insert a row")
            let row = try connection.row("SELECT id, note FROM \(unsafeSQL: table)", operation: "read the row")
            return (try row.string(0), try row.optionalString(1))
        }
        #expect(read.0 == "$1")
        #expect(read.1 == nil)
    }

    @Test func performRunsAScriptWithoutParameters() async throws {
        let value = try await withConnection { connection in
            try connection.perform("CREATE TEMP TABLE memify_script_test (v int); INSERT INTO memify_script_test VALUES (41), (1)",
                                   operation: "run a script")
            return try connection.row("SELECT sum(v) FROM memify_script_test", operation: "sum").int(0)
        }
        #expect(value == 42)
    }

    @Test func nullWhereAValueIsNeededNamesTheColumn() async throws {
        let error = await #expect(throws: DatabaseError.self) {
            try await withConnection { connection in
                let row = try connection.row("SELECT 'x'::text AS user_id, NULL::text AS session_id", operation: "read a session key")
                // The same NULL read where NULL is allowed is nil, and the column beside it reads.
                guard try row.optionalString(1) == nil, try row.string(0) == "x" else { throw FixtureError("the row reads wrong") }
                return try row.string(1)
            }
        }
        #expect(error?.code == .decoding)
        #expect(error?.operation == "read a session key")
        #expect(error?.message == "column 1 (session_id) is NULL")
    }

    @Test func missingColumnAndWrongTypeThrow() async throws {
        let missing = await #expect(throws: DatabaseError.self) {
            try await withConnection { connection in
                try connection.row("SELECT 'a' AS id", operation: "read an id").string(1)
            }
        }
        #expect(missing?.code == .decoding)
        #expect(missing?.message == "the result has no column 1 (it has 1)")

        let notNumber = await #expect(throws: DatabaseError.self) {
            try await withConnection { connection in
                try connection.row("SELECT 'secret-value' AS seq", operation: "read a seq").int64(0)
            }
        }
        // Named by column, never by the value it holds.
        #expect(notNumber?.message == "column 0 (seq) is not a 64-bit integer")
        #expect(notNumber?.description.contains("secret-value") == false)

        let noRow = await #expect(throws: DatabaseError.self) {
            try await withConnection { connection in
                try connection.row("SELECT 1 WHERE false", operation: "read one row").int(0)
            }
        }
        #expect(noRow?.message == "expected one row, the server answered 0")
    }

    @Test func forEachRowLendsBytes() async throws {
        let read = try await withConnection { connection in
            var out: [String] = []
            try connection.forEachRow("SELECT x FROM unnest(\(["a", "", "ü"])::text[]) WITH ORDINALITY AS u(x, n) ORDER BY n",
                                      operation: "read rows") { (row: PostgresRow) throws(DatabaseError) in
                out.append(String(decoding: try row.bytes(0), as: UTF8.self))
            }
            return out
        }
        #expect(read == ["a", "", "ü"])
    }

    /// cognee's schema lets a node's name, type and properties be NULL: those read as empty,
    /// while every column the graph needs is read strictly.
    @Test func cogneeNullColumnsReadAsEmpty() async throws {
        let url = try #require(TestEnvironment.postgresURL)
        let placement = GraphPlacement.shared(schema: "t_" + UUID().uuidString.prefix(8).lowercased())
        let writer = try await PostgresGraphWriter.connect(conninfo: url, placement: placement)
        try await writer.migrate()
        try await writer.execute("INSERT INTO graph_node (id, name, type, properties) VALUES ('n1', NULL, NULL, NULL)")
        let reader = try await PostgresGraphReader.connect(conninfo: url, placement: placement)
        let nodes = try await reader.nodes(ids: ["n1"])
        #expect(nodes.count == 1)
        #expect(nodes.first?.node.name == "" && nodes.first?.node.type == "" && nodes.first?.node.properties.isEmpty == true)
        #expect(nodes.first?.sourceRefKeys == [])
        try await writer.execute("DROP SCHEMA \(PostgresGraphWriter.quoteIdentifier(placement.schema)) CASCADE")
    }
}
