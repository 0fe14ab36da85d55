import ArgumentParser
import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools

/// `config`: every setting the worker reads, its value (secrets masked) and where it came from.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Every setting the worker reads, its value (passwords and keys masked) and where it came from: flag, env (the process environment), .env (cognee's .env of the working directory, or --env-file PATH, which every command takes), or default. The process environment wins over .env, as in cognee.")

    @OptionGroup var graph: GraphOptions

    @Option(name: .customLong("cache"), help: "As for run: shown as the flag's value.")
    var cacheURL: String?

    @OptionGroup var state: StateOptions

    @Flag(help: "One JSON object.")
    var json = false

    /// (variable, what it sets, default).
    static let settings: [(String, String, String?)] = [
        ("MEMIFY_GRAPH_URL", "the graph (--graph)", nil), ("MEMIFY_CACHE_URL", "the cache (--cache)", nil),
        ("MEMIFY_STATE", "the checkpoint database (--state)", ".memify/state.db"),
        ("MEMIFY_LLM_PROVIDER", "LLM extractor", nil), ("MEMIFY_LLM_MODEL", "LLM extractor", nil),
        ("MEMIFY_LLM_ENDPOINT", "LLM extractor", nil), ("MEMIFY_LLM_API_VERSION", "LLM extractor", nil),
        ("MEMIFY_LLM_API_KEY", "LLM extractor", nil),
        ("GRAPH_DATABASE_PROVIDER", "cognee's graph (postgres: GRAPH_DATABASE_*/DB_*)", nil),
        ("GRAPH_DATABASE_HOST", "cognee's graph", "DB_HOST, then localhost"), ("GRAPH_DATABASE_PORT", "cognee's graph", "DB_PORT"),
        ("GRAPH_DATABASE_USERNAME", "cognee's graph", "DB_USERNAME"), ("GRAPH_DATABASE_PASSWORD", "cognee's graph", "DB_PASSWORD"),
        ("GRAPH_DATABASE_NAME", "cognee's graph", "DB_NAME"),
        ("DB_PROVIDER", "cognee's relational database", nil), ("DB_HOST", "cognee's relational database", nil),
        ("DB_PORT", "cognee's relational database", nil), ("DB_USERNAME", "cognee's relational database", nil),
        ("DB_PASSWORD", "cognee's relational database", nil), ("DB_NAME", "cognee's relational database", nil),
        ("DB_PATH", "cognee's SQL cache folder", nil), ("SYSTEM_ROOT_DIRECTORY", "cognee's SQL cache ($SYSTEM_ROOT_DIRECTORY/databases)", nil),
        ("DATA_ROOT_DIRECTORY", "cognee's fs cache", nil),
        ("CACHE_BACKEND", "cognee's cache", nil), ("CACHE_DB_URL", "cognee's SQL cache", nil),
        ("CACHE_HOST", "cognee's Redis cache", "localhost"), ("CACHE_PORT", "cognee's Redis cache", "6379"),
        ("CACHE_USERNAME", "cognee's Redis cache", nil), ("CACHE_PASSWORD", "cognee's Redis cache", nil),
        ("CACHE_SSL", "cognee's Redis cache", "false"), ("CACHE_SSL_CERT_REQS", "cognee's Redis cache", "required"),
        ("CACHE_SSL_CA_CERTS", "Redis TLS", nil), ("CACHE_SSL_CERTFILE", "Redis TLS", nil), ("CACHE_SSL_KEYFILE", "Redis TLS", nil),
        ("CACHE_SSL_CHECK_HOSTNAME", "Redis TLS", "true"),
        ("LLM_PROVIDER", "cognee's LLM (--extractor llm)", nil), ("LLM_MODEL", "cognee's LLM", nil), ("LLM_ENDPOINT", "cognee's LLM", nil),
        ("LLM_API_VERSION", "cognee's LLM", nil), ("LLM_API_KEY", "cognee's LLM", nil),
        ("EMBEDDING_PROVIDER", "vectors", nil), ("EMBEDDING_MODEL", "vectors", nil), ("EMBEDDING_ENDPOINT", "vectors", nil),
        ("EMBEDDING_API_BASE", "vectors", nil), ("EMBEDDING_API_VERSION", "vectors", nil), ("EMBEDDING_API_KEY", "vectors", nil),
        ("EMBEDDING_DIMENSIONS", "vectors", nil), ("EMBEDDING_BATCH_SIZE", "vectors", nil),
        ("EMBEDDING_MAX_CONCURRENT_DATA_POINTS", "vectors", nil),
        ("MEMIFY_SCAN_LEVEL", "JSON string copy width (read by the C scanner from the process environment only)", nil),
    ]

    /// Secrets print as `***`; URLs lose their passwords (userinfo and password-like query parameters).
    static func masked(name: String, value: String) -> String {
        let upper = name.uppercased()
        if ["PASSWORD", "API_KEY", "SECRET", "TOKEN"].contains(where: upper.contains) { return value.isEmpty ? "" : "***" }
        if value.contains("://") || value.lowercased().contains("password") { return PostgresConnection.masked(value) }
        return value
    }

    struct Line {
        var name: String
        var value: String?
        var source: String
        var about: String
    }

    func lines() -> [Line] {
        let environment = WorkerEnvironment.current
        func source(_ name: String) -> String { environment.sources[name]?.rawValue ?? "env" }
        var out: [Line] = []
        // The effective targets first.
        let graphSource: String
        if graph.graphURL != nil { graphSource = "flag --graph" }
        else if environment.values["MEMIFY_GRAPH_URL"] != nil { graphSource = "\(source("MEMIFY_GRAPH_URL")) MEMIFY_GRAPH_URL" }
        else if let p = environment.values["GRAPH_DATABASE_PROVIDER"], !p.isEmpty { graphSource = "\(source("GRAPH_DATABASE_PROVIDER")) GRAPH_DATABASE_PROVIDER" }
        else { graphSource = "default" }
        let graphValue: String
        do { graphValue = try graph.target(environment: environment.values).description } catch { graphValue = "error: \(error)" }
        out.append(Line(name: "graph", value: graphValue, source: graphSource, about: "where run writes and graph reads"))
        let stateSource = state.statePath != nil ? "flag --state" : environment.values["MEMIFY_STATE"] != nil ? "\(source("MEMIFY_STATE")) MEMIFY_STATE" : "default"
        out.append(Line(name: "state", value: state.path, source: stateSource, about: "the checkpoint database"))
        if let cacheURL { out.append(Line(name: "cache", value: Self.masked(name: "cache", value: cacheURL), source: "flag --cache", about: "the session cache")) }
        for (name, about, fallback) in Self.settings {
            if let value = environment.values[name] {
                out.append(Line(name: name, value: Self.masked(name: name, value: value), source: source(name), about: about))
            } else {
                out.append(Line(name: name, value: nil, source: fallback.map { "default: \($0)" } ?? "unset", about: about))
            }
        }
        return out
    }

    func run() async throws {
        try await withExitStatus {
            let lines = lines()
            let file = WorkerEnvironment.current.file
            if json {
                let settings = lines.map { l in
                    JSONValue.object(JSONObject([("name", .string(l.name)), ("value", l.value.map(JSONValue.string) ?? .null),
                                                 ("source", .string(l.source))]))
                }
                print(JSONWriter.string(.object(JSONObject([("env_file", file.map(JSONValue.string) ?? .null), ("settings", .array(settings))])),
                                        style: .compact))
            } else {
                print("precedence: flag, then the process environment (env), then \(file.map { "the .env file \($0)" } ?? "a .env file (none read: no ./.env, no --env-file)"), then the default")
                let width = lines.map(\.name.count).max() ?? 0
                for l in lines {
                    print(l.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + (l.value ?? "-") + "  [\(l.source)]  " + l.about)
                }
            }
            return .done
        }
    }
}
