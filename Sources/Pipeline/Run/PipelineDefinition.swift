package import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Foundation

/// A pipeline declared in `pipelines/<name>.yml`: its stages, in order, and their options.
///
/// The format is a small YAML subset (`key: value`, a `stages:` list, an `options:` map,
/// `#` comments), parsed here so a typo is reported with its file and line.
package struct PipelineDefinition: Sendable, Equatable {
    package var name: String
    package var stages: [String]
    package var extractor: String
    package var concurrency: Int
    package var batchRows: Int
    /// Where it was loaded from ("built-in" for the compiled-in default).
    package var origin: String

    /// The stages the runner implements, in the only order that is meaningful.
    package static let persistSessionsStages = ["discover", "read", "diff", "build", "extract", "write", "checkpoint"]

    package static let builtIn = PipelineDefinition(name: "persist-sessions", stages: persistSessionsStages, extractor: "builtin",
                                                   concurrency: 4, batchRows: 1000, origin: "built-in")

    /// Loads `nameOrPath`: a path (contains `/` or ends in `.yml`), or a name looked up in
    /// `./pipelines`, the `pipelines` folder next to the executable's package, and
    /// `/etc/memify-worker/pipelines`. `persist-sessions` falls back to the built-in definition.
    package static func load(_ nameOrPath: String, searchDirectories: [String]? = nil) throws(WorkerError) -> PipelineDefinition {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".yml") || nameOrPath.hasSuffix(".yaml") {
            return try parse(file: nameOrPath)
        }
        let directories = searchDirectories ?? defaultSearchDirectories
        for directory in directories {
            let path = directory + "/" + nameOrPath + ".yml"
            if FileManager.default.fileExists(atPath: path) { return try parse(file: path) }
        }
        if nameOrPath == builtIn.name { return builtIn }
        throw WorkerError(.usage, operation: "load pipeline '\(nameOrPath)'",
                            message: "no \(nameOrPath).yml in \(directories.joined(separator: ", "))")
    }

    static var defaultSearchDirectories: [String] {
        var out = ["pipelines"]
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "")
        // .build/<config>/memify-worker → the package root's pipelines folder.
        out.append(executable.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("pipelines").path)
        out.append("/etc/memify-worker/pipelines")
        return out
    }

    package static func parse(file path: String) throws(WorkerError) -> PipelineDefinition {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw WorkerError(.usage, operation: "read pipeline \(path)", message: "\(error.localizedDescription)")
        }
        return try parse(text, origin: path)
    }

    package static func parse(_ text: String, origin: String) throws(WorkerError) -> PipelineDefinition {
        var definition = PipelineDefinition(name: "", stages: [], extractor: builtIn.extractor, concurrency: builtIn.concurrency,
                                            batchRows: builtIn.batchRows, origin: origin)
        var section = ""
        func fail(_ line: Int, _ message: String) -> WorkerError {
            WorkerError(.usage, operation: "read pipeline \(origin)", message: "line \(line): \(message)")
        }
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            let line = String(raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            let indented = line.first == " "
            if !indented {
                guard let colon = trimmed.firstIndex(of: ":") else { throw fail(number, "expected 'key: value'") }
                let key = String(trimmed[..<colon])
                let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                switch key {
                case "name": definition.name = value; section = ""
                case "stages", "options":
                    guard value.isEmpty else { throw fail(number, "'\(key):' takes an indented block") }
                    section = key
                default: throw fail(number, "unknown key '\(key)' (expected name, stages, options)")
                }
            } else if section == "stages" {
                guard trimmed.hasPrefix("- ") else { throw fail(number, "a stage is written '- name'") }
                definition.stages.append(trimmed.dropFirst(2).trimmingCharacters(in: .whitespaces))
            } else if section == "options" {
                guard let colon = trimmed.firstIndex(of: ":") else { throw fail(number, "expected 'option: value'") }
                let key = String(trimmed[..<colon])
                let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                switch key {
                case "extractor":
                    guard ["builtin", "llm"].contains(value) else { throw fail(number, "extractor must be builtin or llm, not '\(value)'") }
                    definition.extractor = value
                case "concurrency":
                    guard let n = Int(value), n >= 1, n <= 256 else { throw fail(number, "concurrency must be 1…256, not '\(value)'") }
                    definition.concurrency = n
                case "batch_rows":
                    guard let n = Int(value), n >= 1 else { throw fail(number, "batch_rows must be a positive integer, not '\(value)'") }
                    definition.batchRows = n
                default: throw fail(number, "unknown option '\(key)' (expected extractor, concurrency, batch_rows)")
                }
            } else {
                throw fail(number, "indented line outside stages or options")
            }
        }
        guard !definition.name.isEmpty else { throw fail(1, "missing 'name:'") }
        guard definition.stages == persistSessionsStages else {
            throw WorkerError(.usage, operation: "read pipeline \(origin)",
                                message: "stages must be \(persistSessionsStages.joined(separator: ", ")) in this order (got \(definition.stages.joined(separator: ", ")))")
        }
        return definition
    }
}
