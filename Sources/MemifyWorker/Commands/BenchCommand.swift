import ArgumentParser
import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools

/// Benchmarks that print ratios against raw limits measured in the same run (scripts/bench-read).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Throughput benchmarks (see scripts/bench-read).",
        subcommands: [Read.self, Decode.self, Graph.self, Extract.self])

    struct Read: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read a session cache (Redis or SQL); print one JSON line per measurement.")

        enum Mode: String, ExpressibleByArgument, CaseIterable { case raw, reader, both }

        @Option(name: .customLong("cache"), help: "redis://host:port/db (or rediss://…, unix://…), sqlite:PATH or postgresql://… holding the corpus.")
        var cacheURL: String
        @Option(help: "raw (pipelined LRANGE only), reader (the worker's reader), or both, alternating.")
        var mode: Mode = .both
        @Option(help: "Repetitions of each mode.") var repeats = 3

        func run() async throws {
            try await withExitStatus {
                let sql = try CacheSourceFactory.sqlDatabase(cacheURL)
                let url = sql == nil ? try RedisURL(parsing: cacheURL) : nil
                for _ in 0..<repeats {
                    var results: [ReadBenchmark.Measurement] = []
                    if mode != .reader {
                        if let sql { results.append(try await SQLReadBenchmark.raw(sql)) } else { results.append(try await ReadBenchmark.raw(url: url!)) }
                    }
                    if mode != .raw {
                        if let sql { results.append(try await SQLReadBenchmark.reader(sql)) } else { results.append(try await ReadBenchmark.reader(url: url!)) }
                    }
                    for m in results {
                        print(#"{"mode":"\#(m.mode)","seconds":\#(m.seconds),"sessions":\#(m.sessions),"entries":\#(m.entries),"entries_per_s":\#(Int(m.entriesPerSecond)),"max_rss_kib":\#(ReadBenchmark.peakRSSKiB())}"#)
                    }
                }
                return .done
            }
        }
    }

    struct Decode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode synthetic cognee entries held in memory on one thread (the reader's CPU cost without Redis).")

        @Option(help: "Entries.") var entries = 200_000
        @Option(help: "Repetitions.") var repeats = 3
        @Flag(help: "Answers written as an LLM writes them: a line break after every sentence and a few non-ASCII characters, which cognee stores as \\n and \\uXXXX escapes.")
        var escaped = false

        func run() async throws {
            try await withExitStatus {
                let corpus = SyntheticCorpus(sessions: max(1, entries / 10), turnsPerSession: 10, entryBytes: 1000)
                let raw = (0..<corpus.sessions).flatMap { session in
                    corpus.entries(session: session).map { entry in
                        guard escaped else { return entry.cogneeJSON }
                        var edited = entry
                        edited.answer = "“" + entry.answer.replacingOccurrences(of: ". ", with: ".\n") + "” — café"
                        return edited.cogneeJSON
                    }
                }
                for _ in 0..<repeats {
                    let m = ReadBenchmark.decode(raw)
                    print(#"{"mode":"decode","entries":\#(m.entries),"seconds":\#(m.seconds),"entries_per_s":\#(Int(m.entriesPerSecond)),"ns_per_entry":\#(Int(m.seconds * 1e9 / Double(m.entries)))}"#)
                }
                return .done
            }
        }
    }

    struct Graph: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upsert a synthetic graph into PostgreSQL; print one JSON line per measurement.")

        @Option(name: .customLong("graph"), help: "postgresql://… (the benchmark creates and drops its own schemas).")
        var graphURL: String
        @Option(help: "Nodes.") var nodes = 200_000
        @Option(help: "Edges.") var edges = 400_000
        @Option(help: "Nodes per batch (edges follow their nodes).") var batchSize = 1000
        @Option(help: "Repetitions.") var repeats = 3
        @Flag(help: "Only the raw COPY (the limit other benchmarks compare with).") var rawOnly = false

        func run() async throws {
            try await withExitStatus {
                // The worker's batches are made up front only when it is measured (--raw-only
                // streams its rows, so tens of millions fit in memory).
                let batches = rawOnly ? [] : GraphWriteBenchmark.batches(nodes: nodes, edges: edges, batchSize: batchSize)
                for _ in 0..<repeats {
                    let raw = try await GraphWriteBenchmark.rawCopy(conninfo: graphURL, schema: "memify_bench_raw", nodes: nodes,
                                                                    edges: edges, batchSize: batchSize)
                    var results = [raw]
                    if !rawOnly {
                        let (fresh, again) = try await GraphWriteBenchmark.worker(conninfo: graphURL, schema: "memify_bench_worker", batches: batches)
                        results += [fresh, again]
                    }
                    for m in results {
                        print(#"{"mode":"\#(m.mode)","rows":\#(m.rows),"seconds":\#(m.seconds),"rows_per_s":\#(Int(m.rowsPerSecond))}"#)
                    }
                }
                return .done
            }
        }
    }

    struct Extract: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the builtin extractor alone over synthetic turns (the corpus `synth` writes); one JSON line per repetition.")

        @Option(help: "Turns.") var turns = 10_000
        @Option(help: "Repetitions.") var repeats = 3

        func run() async throws {
            try await withExitStatus {
                let corpus = SyntheticCorpus(sessions: max(1, turns / 10), turnsPerSession: 10)
                let entries = (0..<corpus.sessions).flatMap { corpus.entries(session: $0) }.prefix(turns)
                let extractor = BuiltinExtractor()
                for _ in 0..<repeats {
                    var entities = 0, relations = 0
                    let started = ContinuousClock.now
                    for entry in entries {
                        let graph = try await extractor.extract(question: entry.question, answer: entry.answer, time: entry.time)
                        entities += graph.entities.count
                        relations += graph.relations.count
                    }
                    let elapsed = ContinuousClock.now - started
                    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                    print(#"{"mode":"extract","turns":\#(entries.count),"seconds":\#(seconds),"turns_per_s":\#(Int(Double(entries.count) / seconds)),"entities":\#(entities),"relations":\#(relations)}"#)
                }
                return .done
            }
        }
    }
}
