import ArgumentParser
import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools

/// Where the graph is, shared by every command that writes or reads one.
struct GraphOptions: ParsableArguments {
    @Option(name: .customLong("graph"),
            help: "postgresql://… (passed to libpq as is) or sqlite:PATH. Default: MEMIFY_GRAPH_URL, then cognee's GRAPH_DATABASE_PROVIDER=postgres with GRAPH_DATABASE_*/DB_*, then sqlite:.memify/graph.db.")
    var graphURL: String?

    @Option(name: .customLong("placement"),
            help: "shared (one graph, cognee with access control off) or per-dataset (schema ds_<dataset uuid hex>, cognee's postgres_graph_shared). Default: shared.")
    var placementOption: Placement?

    @Option(name: .customLong("schema"), help: "The schema of the shared graph. Default: public.")
    var schemaOption: String?

    var placement: Placement { placementOption ?? .shared }
    var schema: String { schemaOption ?? "public" }

    @Option(help: "The dataset's uuid (per-dataset placement, and provenance).")
    var datasetID: String?

    @Option(help: "Compute the dataset id as cognee does from its name, with --owner-id (and --tenant-id).")
    var datasetName: String?

    @Option(help: "The dataset owner's user id, for --dataset-name.")
    var ownerID: String?

    @Option(help: "The owner's tenant id, for --dataset-name.")
    var tenantID: String?

    @Flag(help: "Create the directory of an embedded graph given with --graph sqlite:PATH when it does not exist (the default .memify/graph.db is always created).")
    var create = false

    enum Placement: String, ExpressibleByArgument, CaseIterable { case shared, perDataset = "per-dataset" }

    func validate() throws {
        if let problem = Self.schemaProblem(schema) { throw ValidationError("--schema '\(schema)': \(problem)") }
        if let datasetID, !GraphIdentity.isUUID(datasetID) { throw ValidationError("--dataset-id '\(datasetID)' is not a UUID") }
        if datasetName != nil, ownerID == nil { throw ValidationError("--dataset-name needs --owner-id") }
        if placement == .perDataset, resolvedDatasetID == nil {
            throw ValidationError("--placement per-dataset needs --dataset-id, or --dataset-name with --owner-id")
        }
    }

    /// Why a name cannot be the graph's schema, or nil: PostgreSQL cuts names at 63 bytes without a
    /// word (two long names would then be one schema), and its own schemas are not a graph's place.
    static func schemaProblem(_ name: String) -> String? {
        if name.isEmpty { return "a schema name cannot be empty" }
        if name.utf8.count > 63 { return "PostgreSQL cuts names longer than 63 bytes (this one has \(name.utf8.count)); choose a shorter one" }
        if name.utf8.contains(0) { return "a schema name cannot hold a NUL character" }
        let lower = name.lowercased()
        if lower.hasPrefix("pg_") || lower == "information_schema" {
            return "names starting with pg_, and information_schema, are PostgreSQL's own schemas"
        }
        return nil
    }

    var resolvedDatasetID: String? {
        if let datasetID { return datasetID.lowercased() }
        if let datasetName, let ownerID { return GraphIdentity.dataset(name: datasetName, ownerID: ownerID, tenantID: tenantID) }
        return nil
    }

    var graphPlacement: GraphPlacement {
        switch placement {
        case .shared: return .shared(schema: schema)
        case .perDataset: return .perDataset(datasetID: resolvedDatasetID ?? "")
        }
    }

    func target(environment: [String: String] = WorkerEnvironment.values) throws -> GraphTarget {
        if let url = graphURL ?? environment["MEMIFY_GRAPH_URL"] {
            let target = try GraphTarget(parsing: url)
            if case .sqlite(let path) = target, !create {
                // A typo in a path must not quietly start a new, empty graph somewhere else.
                let directory = (path as NSString).deletingLastPathComponent
                var isDirectory: ObjCBool = false
                if !directory.isEmpty, !(FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && isDirectory.boolValue) {
                    throw DatabaseError(.invalidArgument, operation: "open the graph \(target)",
                                          message: "the directory \(directory) does not exist; create it, or pass --create")
                }
            }
            return target
        }
        if let provider = environment["GRAPH_DATABASE_PROVIDER"]?.lowercased(), !provider.isEmpty {
            guard provider == "postgres" || provider == "postgres_demo" else {
                throw DatabaseError(.invalidArgument, operation: "choose the graph from GRAPH_DATABASE_PROVIDER=\(provider)",
                                      message: "the worker writes cognee's postgres graph (GRAPH_DATABASE_PROVIDER=postgres with GRAPH_DATABASE_* or DB_*) or its own embedded SQLite graph; pass --graph postgresql://… or --graph sqlite:PATH")
            }
            func value(_ graph: String, _ db: String) -> String? { environment[graph] ?? environment[db] }
            return .postgres(conninfo: PostgresConnection.conninfo([
                ("host", value("GRAPH_DATABASE_HOST", "DB_HOST") ?? "localhost"),
                ("port", value("GRAPH_DATABASE_PORT", "DB_PORT")),
                ("user", value("GRAPH_DATABASE_USERNAME", "DB_USERNAME")),
                ("password", value("GRAPH_DATABASE_PASSWORD", "DB_PASSWORD")),
                ("dbname", value("GRAPH_DATABASE_NAME", "DB_NAME")),
            ]))
        }
        return .defaultSQLite
    }
}
