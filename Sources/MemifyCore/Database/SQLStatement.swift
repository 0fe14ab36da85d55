/// One PostgreSQL statement and its parameters, written as a string literal: the literal's text
/// is SQL, and every interpolated value becomes a parameter (`$1`, `$2`, … in order) sent apart
/// from the SQL, never spliced into it.
///
///     let rows = try connection.query("SELECT id FROM graph_node WHERE id = ANY(\(ids)::varchar[]) AND type = \(type)",
///                                     operation: "read nodes")
///
/// Values are sent in text format; the server types them from their use, as when `$n` is
/// written by hand, so a cast (`::varchar[]`, `::bigint`) stays where the SQL needs one. A
/// statement built from pieces (``append(_:)``, `+`, `\(fragment)`, ``joined(separator:)``) is
/// numbered as a whole. Text that must be SQL and cannot be a parameter (an identifier quoted
/// by the caller, a schema name already validated, a constant) goes in with
/// `\(unsafeSQL: text)`: never data.
package struct SQLStatement: Sendable, Equatable, ExpressibleByStringInterpolation {
    /// The literal SQL around the parameters: the text before the first, between each two, and
    /// after the last (so one more than ``parameters``).
    private var segments: [String]
    /// The values in order; nil is NULL.
    package private(set) var parameters: [String?]

    package init() {
        segments = [""]
        parameters = []
    }

    package init(stringLiteral value: String) {
        self.init()
        appendLiteral(value)
    }

    package init(stringInterpolation: StringInterpolation) {
        self = stringInterpolation.statement
    }

    /// Text taken as SQL as it is: for identifiers quoted by the caller and constants, never data.
    package init(unsafeSQL text: String) {
        self.init()
        segments[0] = text
    }

    /// The SQL with `$1`… where the parameters go.
    package var sql: String {
        var out = segments[0]
        for (i, segment) in segments.dropFirst().enumerated() {
            out += "$\(i + 1)"
            out += segment
        }
        return out
    }

    /// Appends `other`, its parameters numbered after this statement's.
    package mutating func append(_ other: SQLStatement) {
        segments[segments.count - 1] += other.segments[0]
        segments += other.segments.dropFirst()
        parameters += other.parameters
    }

    package static func + (lhs: SQLStatement, rhs: SQLStatement) -> SQLStatement {
        var out = lhs
        out.append(rhs)
        return out
    }

    package static func += (lhs: inout SQLStatement, rhs: SQLStatement) {
        lhs.append(rhs)
    }

    /// Binds one value (`$n`).
    fileprivate mutating func bind(_ value: String?) {
        parameters.append(value)
        segments.append("")
    }

    fileprivate mutating func appendLiteral(_ literal: String) {
        // `$n` comes only from interpolations: one written by hand would name whichever value
        // happens to be n-th once statements are put together.
        assert(!Self.holdsPlaceholder(literal), "a literal $n in SQLStatement: interpolate the value instead")
        segments[segments.count - 1] += literal
    }

    private static func holdsPlaceholder(_ text: String) -> Bool {
        var dollar = false
        for byte in text.utf8 {
            if dollar, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { return true }
            dollar = byte == UInt8(ascii: "$")
        }
        return false
    }

    package struct StringInterpolation: StringInterpolationProtocol {
        fileprivate var statement = SQLStatement()

        package init(literalCapacity: Int, interpolationCount: Int) {}

        package mutating func appendLiteral(_ literal: String) { statement.appendLiteral(literal) }

        package mutating func appendInterpolation(_ value: String) { statement.bind(value) }
        /// nil is NULL.
        package mutating func appendInterpolation(_ value: String?) { statement.bind(value) }
        package mutating func appendInterpolation(_ value: Int) { statement.bind(String(value)) }
        package mutating func appendInterpolation(_ value: Int64) { statement.bind(String(value)) }
        /// Swift's shortest round-trip form (`1.5`, `1e-05`, `inf`), which PostgreSQL's float8 input reads.
        package mutating func appendInterpolation(_ value: Double) { statement.bind(String(value)) }
        package mutating func appendInterpolation(_ value: Bool) { statement.bind(value ? "true" : "false") }
        /// A PostgreSQL array literal of the strings (see ``SQLStatement/arrayLiteral(_:)``);
        /// the SQL casts it (`\(ids)::varchar[]`).
        package mutating func appendInterpolation(_ values: [String]) { statement.bind(SQLStatement.arrayLiteral(values)) }
        /// `{1,2,3}`; the SQL casts it (`\(keys)::bigint[]`).
        package mutating func appendInterpolation(_ values: [Int64]) {
            statement.bind("{" + values.map(String.init).joined(separator: ",") + "}")
        }
        /// Another statement, its parameters numbered on from here.
        package mutating func appendInterpolation(_ fragment: SQLStatement) { statement.append(fragment) }
        /// Text taken as SQL as it is: an identifier the caller quoted or validated, a
        /// constant. Never data.
        package mutating func appendInterpolation(unsafeSQL text: String) {
            statement.segments[statement.segments.count - 1] += text
        }
    }

    /// A PostgreSQL array literal (`{"a","b"}`) with every element quoted and escaped, to be
    /// bound as a parameter (or COPY-escaped), never spliced.
    package static func arrayLiteral(_ items: [String]) -> String {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            for byte in item.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }
}

extension Sequence where Element == SQLStatement {
    /// The statements one after another with `separator` between them, numbered as one.
    package func joined(separator: SQLStatement) -> SQLStatement {
        var out = SQLStatement()
        for (i, statement) in enumerated() {
            if i > 0 { out.append(separator) }
            out.append(statement)
        }
        return out
    }
}
