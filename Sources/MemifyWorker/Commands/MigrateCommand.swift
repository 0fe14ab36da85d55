import ArgumentParser
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create or upgrade the graph schema (idempotent; upgrades tables cognee created).")

    @OptionGroup var graph: GraphOptions

    func run() async throws {
        try await withExitStatus {
            let writer = try await graph.target().open(placement: graph.graphPlacement)
            try await writer.migrate()
            print("graph schema ready at \(writer.location) (memify schema version \(PostgresGraphWriter.schemaVersion))")
            return .done
        }
    }
}
