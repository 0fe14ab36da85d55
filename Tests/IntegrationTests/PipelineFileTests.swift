import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import TestSupport
import Testing

/// The pipeline file may carry any run option: the run takes it, a flag on the command line wins
/// over it, and a bad value in it is a usage error naming the file.
@Suite("the pipeline file's run options")
struct PipelineFileTests {
    @Test("cache, graph, state, metrics file, log format and limit come from the file; a flag wins over the file")
    func runOptionsFromTheFile() throws {
        let directory = NSTemporaryDirectory() + "memify-pipeline-file-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let examples = TestEnvironment.repositoryDirectory + "/examples/cognee-cache"
        let file = directory + "/nightly.yml"
        try """
            # a pipeline of our own: the one pipeline's stages, options for the run
            name: nightly
            stages: [discover, read, diff, build, extract, write, checkpoint]
            options:
              extractor: "builtin"
              cache: "fs:\(examples)"
              graph: sqlite:\(directory)/graph.db
              state: \(directory)/state.db
              metrics_file: \(directory)/memify.prom
              log_format: json
              limit: 1
            """.write(toFile: file, atomically: true, encoding: .utf8)

        let first = try WorkerProcess.run(["run", "--pipeline", file, "--json", "--no-progress"])
        #expect(first.status == 0, "\(first.stderr)")
        guard case .object(let summary) = try JSONParser.parse(Array((first.stdoutText.split(separator: "\n").last.map(String.init) ?? "").utf8)) else {
            Issue.record("no JSON summary: \(first.stdoutText)"); return
        }
        #expect(summary["sessions_seen"] == .number(JSONNumber(1)), "limit: 1 from the file")
        #expect(FileManager.default.fileExists(atPath: directory + "/graph.db"), "the file's graph")
        #expect(FileManager.default.fileExists(atPath: directory + "/state.db"), "the file's state")
        #expect(try String(contentsOfFile: directory + "/memify.prom", encoding: .utf8).contains("memify_turns_seen{pipeline=\"\(file)\""))
        for line in first.stderr.split(separator: "\n") {
            #expect(line.hasPrefix("{"), "log_format: json from the file: \(line)")
        }

        // --limit and --log-format on the command line win over the file.
        let second = try WorkerProcess.run(["run", "--pipeline", file, "--json", "--no-progress", "--limit", "3", "--log-format", "text"])
        #expect(second.status == 0, "\(second.stderr)")
        guard case .object(let again) = try JSONParser.parse(Array((second.stdoutText.split(separator: "\n").last.map(String.init) ?? "").utf8)) else {
            Issue.record("no JSON summary: \(second.stdoutText)"); return
        }
        #expect(again["sessions_seen"] == .number(JSONNumber(3)), "--limit 3 wins over the file's 1")
        #expect(second.stderr.split(separator: "\n").allSatisfy { !$0.hasPrefix("{") }, "--log-format text wins")
    }

    @Test("a bad value in the file: exit 64 naming the file and the key, the --json line says so")
    func badValue() throws {
        let directory = NSTemporaryDirectory() + "memify-pipeline-file-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/bad.yml"
        try "name: bad\nstages: [discover, read, diff, build, extract, write, checkpoint]\noptions:\n  limit: -2\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let outcome = try WorkerProcess.run(["run", "--pipeline", file, "--json", "--state", directory + "/s.db",
                                             "--graph", "sqlite:\(directory)/g.db"])
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains(file) && outcome.stderr.contains("limit"), "\(outcome.stderr)")
        #expect(outcome.stdoutText.contains(#""exit_status":64"#), "\(outcome.stdoutText)")
    }
}
