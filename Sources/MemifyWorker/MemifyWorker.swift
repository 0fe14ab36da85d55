import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import ArgumentParser
import Foundation
internal import CBuildInfo
internal import CScan
internal import MemifyAllocator

@main
struct MemifyWorker: AsyncParsableCommand {
    /// The worker's semantic version (the metrics' `memify_build_info`), written once: in
    /// Sources/CBuildInfo/include/memify_build_info.h.
    static let version = buildVersion

    static let configuration = CommandConfiguration(
        commandName: "memify-worker",
        abstract: "Persist cognee session caches into a knowledge graph.",
        version: "memify-worker \(buildVersion) (commit \(buildCommit); reads cognee 1.6.5 caches; allocator: \(allocatorDescription); string copy: \(scanDescription))",
        subcommands: [RunCommand.self, StatusCommand.self, StatsCommand.self, GraphCommand.self, ConfigCommand.self, QuarantineCommand.self, SessionsCommand.self, MigrateCommand.self, SynthCommand.self, BenchCommand.self])

    /// A mistyped command is named as such (ArgumentParser would complain about its first
    /// option instead), with the nearest command, before anything else is parsed.
    static func main() async {
        let names = configuration.subcommands.map { $0._commandName } + ["help"]
        let arguments: [String]
        do {
            // cognee's .env under the process environment, before any option's default is read.
            arguments = try WorkerEnvironment.load(arguments: Array(CommandLine.arguments.dropFirst()))
        } catch {
            EarlyFailure.reportParseFailure(arguments: Array(CommandLine.arguments.dropFirst()), error: error, exitCode: exitCode(for: error).rawValue)
            exit(withError: error)
        }
        if let first = arguments.first, !first.hasPrefix("-"), !names.contains(first) {
            let nearest = names.min { editDistance($0, first) < editDistance($1, first) }
            let hint = nearest.map { editDistance($0, first) <= 2 ? " (did you mean '\($0)'?)" : "" } ?? ""
            StandardError.write("memify-worker: unknown command '\(first)'\(hint); commands: \(names.joined(separator: ", "))\n")
            Foundation.exit(ExitStatus.usage.rawValue)
        }
        let parsed: any ParsableCommand
        do {
            parsed = try parseAsRoot(arguments)
        } catch {
            // `run --json`/`--metrics-file` report a refused flag like any failed run.
            EarlyFailure.reportParseFailure(arguments: arguments, error: error, exitCode: exitCode(for: error).rawValue)
            exit(withError: error)
        }
        do {
            var command = parsed
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    /// Levenshtein distance, for suggesting a command.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var previous = row[0]
            row[0] = i
            for j in 1...b.count {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return row[b.count]
    }
}

/// The release's semantic version (Sources/CBuildInfo/include/memify_build_info.h).
let buildVersion = String(cString: memify_build_version())

/// The commit scripts/package built from, or "unknown".
let buildCommit = String(cString: memify_build_commit())

/// The linked jemalloc's version and settings (it replaces glibc's malloc for the whole process).
let allocatorDescription: String = memify_allocator_description().map { String(cString: $0) } ?? "unknown"

/// The vectors decoding copies JSON strings with (the CPU's widest, or MEMIFY_SCAN_LEVEL's cap).
let scanDescription: String = ["bytes", "SSE2", "AVX2", "AVX-512BW"][Int(memify_scan_level())]
