import ArgumentParser

@main
struct MemifyWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memify-worker",
        abstract: "Persist cognee session caches into a knowledge graph.",
        subcommands: [RunCommand.self, StatusCommand.self, StatsCommand.self, QuarantineCommand.self, SessionsCommand.self, MigrateCommand.self, SynthCommand.self, BenchCommand.self])
}
