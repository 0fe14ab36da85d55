import Foundation
import Testing
import MemifyCore
import Pipeline
import TestSupport

@Suite("The pipeline file (YAML)")
struct PipelineDefinitionTests {
    static let stages = PipelineDefinition.persistSessionsStages.map { "  - \($0)" }.joined(separator: "\n")

    /// A file with the shipped stages and `options` as given.
    static func file(options: String) -> String {
        "name: persist-sessions\nstages:\n\(stages)\noptions:\n" + options
    }

    /// The error parsing `text` throws, as the user reads it.
    static func failure(_ text: String, origin: String = "pipelines/test.yml") -> String {
        do {
            let definition = try PipelineDefinition.parse(text, origin: origin)
            Issue.record("parsed without an error: \(definition)")
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test("the shipped file is the built-in definition")
    func shipped() throws {
        var loaded = try PipelineDefinition.parse(file: TestEnvironment.repositoryDirectory + "/pipelines/persist-sessions.yml")
        loaded.origin = PipelineDefinition.builtIn.origin
        #expect(loaded == PipelineDefinition.builtIn)
    }

    @Test("quoted strings, single or double, and a flow list of stages")
    func quoted() throws {
        let text = """
            name: 'persist-sessions'
            stages: [\(PipelineDefinition.persistSessionsStages.map { "\"\($0)\"" }.joined(separator: ", "))]
            options:
              extractor: "builtin"
              graph: "sqlite:/var/lib/memify/graph #1.db"
              schema: '2024'
            """
        let definition = try PipelineDefinition.parse(text, origin: "t.yml")
        #expect(definition.name == "persist-sessions")
        #expect(definition.stages == PipelineDefinition.persistSessionsStages)
        #expect(definition.extractor == "builtin")
        #expect(definition.graph == "sqlite:/var/lib/memify/graph #1.db", "a # inside quotes is not a comment")
        #expect(definition.schema == "2024")
    }

    @Test("comments: whole lines, after values, between list items")
    func comments() throws {
        let text = """
            # The pipeline.
            name: persist-sessions   # its name
            stages:
              - discover  # find sessions
              # the rest, in order
              - read
              - diff
              - build
              - extract
              - write
              - checkpoint
            options:  # all of them optional
              concurrency: 8 # calls in flight
            """
        let definition = try PipelineDefinition.parse(text, origin: "t.yml")
        #expect(definition.stages == PipelineDefinition.persistSessionsStages)
        #expect(definition.concurrency == 8)
        #expect(definition.extractor == "builtin", "an option not given keeps the built-in value")
        #expect(definition.batchRows == 1000)
    }

    @Test("every option")
    func everyOption() throws {
        let text = Self.file(options: """
              extractor: llm
              concurrency: 16
              batch_rows: 500
              cache: redis://cache.internal:6379/0
              graph: postgresql://memify@db.internal/cognee
              state: /var/lib/memify/state.db
              schema: graphs
              placement: per-dataset
              dataset: 6BA7B812-9DAD-11D1-80B4-00C04FD430C8
              since: 2024-01-01
              until: "2024-06-30T12:00:00Z"
              limit: 100
              shard: 2/4
              dry_run: true
              max_tokens: 200000
              max_cost: 2.5
              no_vectors: false
              embedding_model: openai/text-embedding-3-small
              metrics_file: /var/lib/node_exporter/memify.prom
              log_format: json
              log_level: debug
            """)
        let d = try PipelineDefinition.parse(text, origin: "t.yml")
        #expect(d.extractor == "llm")
        #expect(d.concurrency == 16)
        #expect(d.batchRows == 500)
        #expect(d.cache == "redis://cache.internal:6379/0")
        #expect(d.graph == "postgresql://memify@db.internal/cognee")
        #expect(d.state == "/var/lib/memify/state.db")
        #expect(d.schema == "graphs")
        #expect(d.placement == "per-dataset")
        #expect(d.dataset == "6BA7B812-9DAD-11D1-80B4-00C04FD430C8")
        #expect(d.since == "2024-01-01", "a date YAML would read as a timestamp stays as written")
        #expect(d.until == "2024-06-30T12:00:00Z")
        #expect(d.limit == 100)
        #expect(d.shard == "2/4")
        #expect(d.dryRun == true)
        #expect(d.maxTokens == 200_000)
        #expect(d.maxCost == 2.5)
        #expect(d.noVectors == false)
        #expect(d.embeddingModel == "openai/text-embedding-3-small")
        #expect(d.metricsFile == "/var/lib/node_exporter/memify.prom")
        #expect(d.logFormat == "json")
        #expect(d.logLevel == "debug")
        #expect(d.origin == "t.yml")

        let none = try PipelineDefinition.parse(Self.file(options: "  concurrency: 4\n"), origin: "t.yml")
        #expect(none.cache == nil && none.graph == nil && none.state == nil && none.since == nil && none.limit == nil
            && none.dryRun == nil && none.maxCost == nil && none.logLevel == nil, "run options not given are nil")
        #expect(try PipelineDefinition.parse(Self.file(options: "  max_cost: 3\n"), origin: "t.yml").maxCost == 3,
                "an integer is a number of dollars too")
    }

    @Test("an unknown key or option names the file, the line and the key")
    func unknownKey() {
        let option = Self.failure(Self.file(options: "  concurrency: 4\n  concurrenci: 3\n"))
        #expect(option.contains("pipelines/test.yml") && option.contains("line 12") && option.contains("unknown option 'concurrenci'"), "\(option)")
        #expect(option.contains("batch_rows") && option.contains("log_level"), "it lists what is known: \(option)")

        let top = Self.failure("name: x\nstage:\n  - discover\n")
        #expect(top.contains("pipelines/test.yml") && top.contains("line 2") && top.contains("unknown key 'stage'"), "\(top)")

        let twice = Self.failure(Self.file(options: "  limit: 3\n  limit: 4\n"))
        #expect(twice.contains("pipelines/test.yml") && twice.contains("duplicated key(s): 'limit'"), "\(twice)")
    }

    @Test("a value of the wrong type names the key and the type expected", arguments: [
        ("  concurrency: \"4\"\n", "'concurrency' must be an integer from 1 to 256, not the string '4'"),
        ("  limit: 2.5\n", "'limit' must be an integer, at least 1, not the number 2.5"),
        ("  cache: {host: localhost}\n", "'cache' must be a string, not a mapping"),
        ("  graph: [sqlite:a.db]\n", "'graph' must be a string, not a list"),
        ("  state:\n", "'state' must be a string, not null"),
        ("  dry_run: 1\n", "'dry_run' must be true or false, not the integer 1"),
        ("  no_vectors: \"true\"\n", "'no_vectors' must be true or false, not the string 'true'"),
        ("  max_cost: cheap\n", "'max_cost' must be a number, not the string 'cheap'"),
    ])
    func wrongType(_ options: String, _ expected: String) {
        let message = Self.failure(Self.file(options: options))
        #expect(message.contains(expected) && message.contains("pipelines/test.yml") && message.contains("line 11"), "\(message)")
    }

    @Test("a value out of range names the key and what it may be", arguments: [
        ("  extractor: gpt\n", "'extractor' must be builtin, llm, not 'gpt'"),
        ("  concurrency: 0\n", "'concurrency' must be an integer from 1 to 256, not 0"),
        ("  batch_rows: -1\n", "'batch_rows' must be an integer, at least 1, not -1"),
        ("  placement: everywhere\n", "'placement' must be shared, per-dataset, not 'everywhere'"),
        ("  dataset: my-dataset\n", "'dataset' must be the dataset's uuid, not 'my-dataset'"),
        ("  since: yesterday\n", "'since' must be an ISO 8601 time or Unix seconds, not 'yesterday'"),
        ("  shard: 5/4\n", "'shard': expected K/N with 1 <= K <= N, got 5/4"),
        ("  max_cost: -1\n", "'max_cost' must be a number of US dollars, at least 0, not -1.0"),
        ("  log_level: verbose\n", "'log_level' must be trace, debug, info, notice, warning, error, critical, not 'verbose'"),
        ("  log_format: xml\n", "'log_format' must be text, json, not 'xml'"),
    ])
    func outOfRange(_ options: String, _ expected: String) {
        let message = Self.failure(Self.file(options: options))
        #expect(message.contains(expected) && message.contains("line 11"), "\(message)")
    }

    @Test("a file that is not a mapping", arguments: [
        ("- discover\n- read\n", "not a list"),
        ("persist-sessions\n", "not the string 'persist-sessions'"),
        ("", "not an empty file"),
        ("# only a comment\n", "not an empty file"),
    ])
    func notAMapping(_ text: String, _ expected: String) {
        let message = Self.failure(text)
        #expect(message.contains("pipelines/test.yml") && message.contains("expected a mapping with name, stages and options")
            && message.contains(expected), "\(message)")
    }

    @Test("invalid YAML, wrong stages and a missing name are errors naming the file")
    func otherErrors() {
        let invalid = Self.failure("name: [persist-sessions\n")
        #expect(invalid.contains("pipelines/test.yml") && invalid.contains("not valid YAML"), "\(invalid)")
        let stages = Self.failure("name: x\nstages:\n  - discover\n  - read\n")
        #expect(stages.contains("stages must be discover, read, diff, build, extract, write, checkpoint in this order"), "\(stages)")
        let stagesType = Self.failure("name: x\nstages: discover\n")
        #expect(stagesType.contains("line 2") && stagesType.contains("'stages' must be a list of stage names, not the string 'discover'"),
                "\(stagesType)")
        let options = Self.failure("name: x\noptions: fast\n")
        #expect(options.contains("'options' must be a mapping of option: value, not the string 'fast'"), "\(options)")
        let name = Self.failure("stages:\n\(Self.stages)\n")
        #expect(name.contains("missing 'name:'"), "\(name)")
    }

    @Test("a pipeline is found by name in the search directories; a path is read as it is")
    func load() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memify-pipelines-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.file(options: "  concurrency: 2\n").write(toFile: directory + "/nightly.yml", atomically: true, encoding: .utf8)
        #expect(try PipelineDefinition.load("nightly", searchDirectories: [directory]).concurrency == 2)
        #expect(try PipelineDefinition.load(directory + "/nightly.yml").origin == directory + "/nightly.yml")
        #expect(try PipelineDefinition.load("persist-sessions", searchDirectories: [directory]) == PipelineDefinition.builtIn)
        #expect(throws: WorkerError.self) { try PipelineDefinition.load("weekly", searchDirectories: [directory]) }
    }
}
