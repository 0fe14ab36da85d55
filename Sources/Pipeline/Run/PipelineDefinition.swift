package import MemifyCore
import GraphStore
import SessionCache
import Foundation
import Logging
import Yams

/// A pipeline declared in `pipelines/<name>.yml`, a YAML mapping: its `name`, its `stages` in
/// order, and its `options`.
///
/// `options` holds the pipeline's own settings (`extractor`, `concurrency`, `batch_rows`) and
/// may hold any run option, named as its flag without the dashes and with `_` for `-` (`graph`,
/// `since`, `dry_run`, `max_cost`, …; `dataset` is `--dataset-id`). A flag given on the command
/// line wins over the file, and the file over the environment. An unknown key, a value of the
/// wrong type or out of range is an error naming the file, the line and the key.
package struct PipelineDefinition: Sendable, Equatable {
    package var name: String
    package var stages: [String]
    /// `extractor`: builtin or llm.
    package var extractor: String
    /// `concurrency`: extractor calls in flight, 1…256.
    package var concurrency: Int
    /// `batch_rows`: graph rows per transaction.
    package var batchRows: Int
    /// Where it was loaded from ("built-in" for the compiled-in default).
    package var origin: String

    // Run options; nil when the file does not set them.

    /// `cache`: the session cache URL (`--cache`).
    package var cache: String?
    /// `graph`: postgresql://… or sqlite:PATH (`--graph`).
    package var graph: String?
    /// `state`: the checkpoint database's path (`--state`).
    package var state: String?
    /// `schema`: the shared graph's PostgreSQL schema (`--schema`).
    package var schema: String?
    /// `placement`: shared or per-dataset (`--placement`).
    package var placement: String?
    /// `dataset`: the dataset's uuid (`--dataset-id`).
    package var dataset: String?
    /// `since`: only turns at or after this time, ISO 8601 or Unix seconds (`--since`).
    package var since: String?
    /// `until`: only turns before this time, ISO 8601 or Unix seconds (`--until`).
    package var until: String?
    /// `limit`: at most this many sessions, at least 1 (`--limit`).
    package var limit: Int?
    /// `shard`: K/N, only shard K of N (`--shard`).
    package var shard: String?
    /// `dry_run`: say what would be done and write nothing (`--dry-run`).
    package var dryRun: Bool?
    /// `max_tokens`: the LLM token budget of a run, at least 1 (`--max-tokens`).
    package var maxTokens: Int?
    /// `max_cost`: the LLM cost budget of a run in US dollars, at least 0 (`--max-cost`).
    package var maxCost: Double?
    /// `no_vectors`: write the graph only (`--no-vectors`).
    package var noVectors: Bool?
    /// `embedding_model`: the embedding model as cognee names it (`--embedding-model`).
    package var embeddingModel: String?
    /// `metrics_file`: where the Prometheus metrics are written (`--metrics-file`).
    package var metricsFile: String?
    /// `log_format`: text or json (`--log-format`).
    package var logFormat: String?
    /// `log_level`: trace, debug, info, notice, warning, error or critical (`--log-level`).
    package var logLevel: String?

    /// The stages the runner implements, in the only order that is meaningful.
    package static let persistSessionsStages = ["discover", "read", "diff", "build", "extract", "write", "checkpoint"]

    package static let builtIn = PipelineDefinition(name: "persist-sessions", stages: persistSessionsStages, extractor: "builtin",
                                                   concurrency: 4, batchRows: 1000, origin: "built-in")

    /// The keys `options` takes.
    static let optionKeys = [
        "extractor", "concurrency", "batch_rows", "cache", "graph", "state", "schema", "placement", "dataset", "since", "until",
        "limit", "shard", "dry_run", "max_tokens", "max_cost", "no_vectors", "embedding_model", "metrics_file", "log_format",
        "log_level",
    ]

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
        let reader = Reader(origin: origin)
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw WorkerError(.usage, operation: reader.operation, message: "not valid YAML: \(error)")
        }
        guard let root, case .mapping(let top) = root else {
            throw reader.fail(root, "expected a mapping with name, stages and options, not \(Reader.describe(root))")
        }
        var definition = PipelineDefinition(name: "", stages: [], extractor: builtIn.extractor, concurrency: builtIn.concurrency,
                                            batchRows: builtIn.batchRows, origin: origin)
        for (keyNode, value) in top {
            switch try reader.key(keyNode) {
            case "name":
                definition.name = try reader.string(value, "name")
            case "stages":
                guard case .sequence(let items) = value else {
                    throw reader.fail(value, "'stages' must be a list of stage names, not \(Reader.describe(value))")
                }
                for item in items { definition.stages.append(try reader.string(item, "stages")) }
            case "options":
                guard case .mapping(let options) = value else {
                    throw reader.fail(value, "'options' must be a mapping of option: value, not \(Reader.describe(value))")
                }
                for (optionNode, optionValue) in options {
                    try definition.set(try reader.key(optionNode), at: optionNode, to: optionValue, reader)
                }
            case let key:
                throw reader.fail(keyNode, "unknown key '\(key)' (expected name, stages, options)")
            }
        }
        guard !definition.name.isEmpty else { throw reader.fail(root, "missing 'name:'") }
        guard definition.stages == persistSessionsStages else {
            throw WorkerError(.usage, operation: reader.operation,
                                message: "stages must be \(persistSessionsStages.joined(separator: ", ")) in this order (got \(definition.stages.joined(separator: ", ")))")
        }
        return definition
    }

    /// One entry of `options`.
    private mutating func set(_ key: String, at keyNode: Node, to value: Node, _ reader: Reader) throws(WorkerError) {
        switch key {
        case "extractor": extractor = try reader.oneOf(value, key, ["builtin", "llm"])
        case "concurrency": concurrency = try reader.integer(value, key, 1...256)
        case "batch_rows": batchRows = try reader.integer(value, key, 1...Int.max)
        case "cache": cache = try reader.string(value, key)
        case "graph": graph = try reader.string(value, key)
        case "state": state = try reader.string(value, key)
        case "schema": schema = try reader.string(value, key)
        case "placement": placement = try reader.oneOf(value, key, ["shared", "per-dataset"])
        case "dataset":
            let id = try reader.string(value, key)
            guard GraphIdentity.isUUID(id) else { throw reader.fail(value, "'dataset' must be the dataset's uuid, not '\(id)'") }
            dataset = id
        case "since": since = try reader.timestamp(value, key)
        case "until": until = try reader.timestamp(value, key)
        case "limit": limit = try reader.integer(value, key, 1...Int.max)
        case "shard":
            let text = try reader.string(value, key)
            do throws(WorkerError) { _ = try Shard(parsing: text) } catch { throw reader.fail(value, "'shard': \(error.message)") }
            shard = text
        case "dry_run": dryRun = try reader.boolean(value, key)
        case "max_tokens": maxTokens = try reader.integer(value, key, 1...Int.max)
        case "max_cost":
            let cost = try reader.number(value, key)
            guard cost >= 0, cost.isFinite else { throw reader.fail(value, "'max_cost' must be a number of US dollars, at least 0, not \(cost)") }
            maxCost = cost
        case "no_vectors": noVectors = try reader.boolean(value, key)
        case "embedding_model": embeddingModel = try reader.string(value, key)
        case "metrics_file": metricsFile = try reader.string(value, key)
        case "log_format": logFormat = try reader.oneOf(value, key, ["text", "json"])
        case "log_level": logLevel = try reader.oneOf(value, key, Logger.Level.allCases.map(\.rawValue))
        default:
            throw reader.fail(keyNode, "unknown option '\(key)' (expected \(Self.optionKeys.joined(separator: ", ")))")
        }
    }
}

/// Typed values out of the composed YAML, each failure naming the line, the key and what it
/// expected.
private struct Reader {
    let origin: String
    var operation: String { "read pipeline \(origin)" }

    func fail(_ node: Node?, _ message: String) -> WorkerError {
        WorkerError(.usage, operation: operation, message: (node?.mark.map { "line \($0.line): " } ?? "") + message)
    }

    /// A mapping's key (Yams refuses a mapping that repeats one).
    func key(_ node: Node) throws(WorkerError) -> String {
        guard case .scalar(let scalar) = node, Self.tag(node) != .null else {
            throw fail(node, "a key must be a name, not \(Self.describe(node))")
        }
        return scalar.string
    }

    /// Any scalar but null, as written: `since: 2024-01-01` and `schema: 2024` are strings here.
    func string(_ node: Node, _ key: String) throws(WorkerError) -> String {
        guard case .scalar(let scalar) = node, Self.tag(node) != .null else {
            throw fail(node, "'\(key)' must be a string, not \(Self.describe(node))")
        }
        return scalar.string
    }

    func oneOf(_ node: Node, _ key: String, _ allowed: [String]) throws(WorkerError) -> String {
        let value = try string(node, key)
        guard allowed.contains(value) else {
            throw fail(node, "'\(key)' must be \(allowed.joined(separator: ", ")), not '\(value)'")
        }
        return value
    }

    func integer(_ node: Node, _ key: String, _ range: ClosedRange<Int>) throws(WorkerError) -> Int {
        let expected = range.upperBound == Int.max ? "an integer, at least \(range.lowerBound)"
            : "an integer from \(range.lowerBound) to \(range.upperBound)"
        guard Self.tag(node) == .int, let value = node.int else { throw fail(node, "'\(key)' must be \(expected), not \(Self.describe(node))") }
        guard range.contains(value) else { throw fail(node, "'\(key)' must be \(expected), not \(value)") }
        return value
    }

    func number(_ node: Node, _ key: String) throws(WorkerError) -> Double {
        guard [.int, .float].contains(Self.tag(node)), let value = node.float else {
            throw fail(node, "'\(key)' must be a number, not \(Self.describe(node))")
        }
        return value
    }

    func boolean(_ node: Node, _ key: String) throws(WorkerError) -> Bool {
        guard Self.tag(node) == .bool, let value = node.bool else {
            throw fail(node, "'\(key)' must be true or false, not \(Self.describe(node))")
        }
        return value
    }

    /// A time as `--since` and `--until` take it, kept as written.
    func timestamp(_ node: Node, _ key: String) throws(WorkerError) -> String {
        let text = try string(node, key)
        guard parseTimestamp(text) != nil else {
            throw fail(node, "'\(key)' must be an ISO 8601 time or Unix seconds, not '\(text)'")
        }
        return text
    }

    /// The node's resolved tag (a quoted scalar is a string whatever it holds).
    static func tag(_ node: Node) -> Tag.Name { Tag.Name(rawValue: node.tag.description) }

    /// What a node is, for messages.
    static func describe(_ node: Node?) -> String {
        guard let node else { return "an empty file" }
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            switch tag(node) {
            case .null: return "null"
            case .bool: return "the boolean \(scalar.string)"
            case .int: return "the integer \(scalar.string)"
            case .float: return "the number \(scalar.string)"
            default: return "the string '\(scalar.string)'"
            }
        }
    }
}
