package import MemifyCore
/// Where the graph is: PostgreSQL (a libpq URL, passed on as it is) or the embedded SQLite file.
package enum GraphTarget: Sendable, Equatable, CustomStringConvertible {
    case postgres(conninfo: String)
    case sqlite(path: String)

    /// The embedded default.
    package static let defaultSQLite = GraphTarget.sqlite(path: ".memify/graph.db")

    /// Parses `postgresql://…`, `postgres://…` or `sqlite:PATH`.
    package init(parsing text: String) throws(DatabaseError) {
        if text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") {
            self = .postgres(conninfo: text)
        } else if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else {
                throw DatabaseError(.invalidArgument, operation: "parse graph URL", message: "sqlite: needs a path, e.g. sqlite:.memify/graph.db")
            }
            self = .sqlite(path: path)
        } else {
            throw DatabaseError(.invalidArgument, operation: "parse graph URL '\(PostgresConnection.masked(text))'",
                                  message: "expected postgresql://user@host:port/db or sqlite:PATH")
        }
    }

    /// Safe to log: passwords masked.
    package var description: String {
        switch self {
        case .postgres(let conninfo): return PostgresConnection.masked(conninfo)
        case .sqlite(let path): return "sqlite:\(path)"
        }
    }

    /// Opens a writer for this target (the placement applies to PostgreSQL only).
    package func open(placement: GraphPlacement = .shared()) async throws -> any GraphWriter {
        switch self {
        case .postgres(let conninfo): return try await PostgresGraphWriter.connect(conninfo: conninfo, placement: placement)
        case .sqlite(let path): return try await SQLiteGraphWriter.open(path: path)
        }
    }
}
