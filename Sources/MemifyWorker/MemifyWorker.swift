import ArgumentParser
internal import CScan
internal import MemifyAllocator

@main
struct MemifyWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memify-worker",
        abstract: "Persist cognee session caches into a knowledge graph.",
        version: "memify-worker (reads cognee 1.6.5 caches; allocator: \(allocatorDescription); string copy: \(scanDescription))",
        subcommands: [RunCommand.self, StatusCommand.self, StatsCommand.self, QuarantineCommand.self, SessionsCommand.self, MigrateCommand.self, SynthCommand.self, BenchCommand.self])
}

/// The linked jemalloc's version and settings (it replaces glibc's malloc for the whole process).
let allocatorDescription: String = memify_allocator_description().map { String(cString: $0) } ?? "unknown"

/// The vectors decoding copies JSON strings with (the CPU's widest, or MEMIFY_SCAN_LEVEL's cap).
let scanDescription: String = ["bytes", "SSE2", "AVX2", "AVX-512BW"][Int(memify_scan_level())]
