import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import Testing

/// The builtin extractor measured against labelled conversational turns: the corpus's dev and
/// test splits (`corpus-{dev,test}.jsonl`, docs/EXTRACTION-CORPUS.md; the tagger is trained on
/// its train split) and the two older sets (`extraction-labelled.jsonl`, `extraction-heldout.jsonl`).
/// Prints precision, recall and F1 of entities (name only, and name with type, both without
/// dates), per type, the recall of dates and the relations; fails below the floors, set at the
/// measured figures minus 0.03.
@Suite("builtin extractor quality on the labelled sets")
struct ExtractionQualityTests {
    struct Labelled: Decodable {
        struct Entity: Decodable { var name: String; var type: String }
        struct Relation: Decodable { var source: String; var relation: String; var target: String }
        var id: String
        var domain: String
        /// The entry's time (the corpus has one; relative dates resolve against it).
        var time: String?
        var question: String
        var answer: String
        var entities: [Entity]
        var relations: [Relation]
    }

    struct Floors {
        var names: Double
        var typed: Double
        var dateRecall: Double
        var relations: Double
    }

    /// Measured with `builtin/2` (the tagger and the date, quantity and relation rules, each
    /// turn read at its `time`): names 0.858, typed 0.754, dates 0.984, relations 0.280.
    static let testFloors = Floors(names: 0.82, typed: 0.72, dateRecall: 0.95, relations: 0.25)
    /// Measured: 0.920, 0.848, 0.994, 0.614.
    static let labelledFloors = Floors(names: 0.89, typed: 0.81, dateRecall: 0.96, relations: 0.58)
    /// Measured: 0.900, 0.776, 1.000, 0.637.
    static let heldOutFloors = Floors(names: 0.87, typed: 0.74, dateRecall: 0.97, relations: 0.60)

    static func load(_ name: String = "extraction-labelled") throws -> [Labelled] {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "jsonl", subdirectory: "Fixtures"))
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map {
            try JSONDecoder().decode(Labelled.self, from: Data($0.utf8))
        }
    }

    /// How names compare: lowercase, apostrophes gone, whitespace collapsed (cognee's stored name).
    static func key(_ name: String) -> String {
        var s = name.lowercased().filter { $0 != "'" && $0 != "’" }
        while s.hasSuffix(".") { s.removeLast() }
        return s.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    static func type(_ extracted: String) -> String {
        extracted.lowercased() == "timestamp" ? "date" : extracted.lowercased()
    }

    struct Score: CustomStringConvertible {
        var truePositives = 0
        var falsePositives = 0
        var falseNegatives = 0
        var precision: Double { truePositives == 0 ? 0 : Double(truePositives) / Double(truePositives + falsePositives) }
        var recall: Double { truePositives == 0 ? 0 : Double(truePositives) / Double(truePositives + falseNegatives) }
        var f1: Double { precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall) }
        mutating func add(predicted: Set<String>, gold: Set<String>) {
            truePositives += predicted.intersection(gold).count
            falsePositives += predicted.subtracting(gold).count
            falseNegatives += gold.subtracting(predicted).count
        }
        var description: String {
            String(format: "P %.3f  R %.3f  F1 %.3f  (tp %d, fp %d, fn %d)", precision, recall, f1, truePositives, falsePositives,
                   falseNegatives)
        }
    }

    struct Report {
        /// Entities without dates: name and type, name only.
        var entities = Score(), untyped = Score()
        var dates = Score(), relations = Score()
        var byType: [String: Score] = [:]
    }

    static func evaluate(_ turns: [Labelled], verbose: Bool) -> Report {
        var report = Report()
        for turn in turns {
            let graph = BuiltinExtractor.analyze(question: turn.question, answer: turn.answer, time: turn.time)
            let found = graph.entities.map { (name: Self.key($0.name), type: Self.type($0.type)) }
            let labelled = turn.entities.map { (name: Self.key($0.name), type: $0.type) }
            let predicted = Set(found.filter { $0.type != "date" }.map { $0.name + " | " + $0.type })
            let gold = Set(labelled.filter { $0.type != "date" }.map { $0.name + " | " + $0.type })
            report.entities.add(predicted: predicted, gold: gold)
            report.untyped.add(predicted: Set(found.filter { $0.type != "date" }.map(\.name)),
                               gold: Set(labelled.filter { $0.type != "date" }.map(\.name)))
            let predictedDates = Set(found.filter { $0.type == "date" }.map(\.name))
            let goldDates = Set(labelled.filter { $0.type == "date" }.map(\.name))
            report.dates.add(predicted: predictedDates, gold: goldDates)
            let all = Set(found.map { $0.name + " | " + $0.type }), allGold = Set(labelled.map { $0.name + " | " + $0.type })
            for type in Set(labelled.map(\.type) + found.map(\.type)) {
                report.byType[type, default: Score()].add(predicted: all.filter { $0.hasSuffix(" | " + type) },
                                                          gold: allGold.filter { $0.hasSuffix(" | " + type) })
            }
            let predictedRelations = Set(graph.relations.map { "\(Self.key($0.source)) -\($0.name)-> \(Self.key($0.target))" })
            let goldRelations = Set(turn.relations.map { "\(Self.key($0.source)) -\($0.relation)-> \(Self.key($0.target))" })
            report.relations.add(predicted: predictedRelations, gold: goldRelations)
            if verbose, all != allGold || predictedRelations != goldRelations {
                print("[\(turn.id)] \(turn.question) || \(turn.answer)")
                for miss in allGold.subtracting(all).sorted() { print("   missed   \(miss)") }
                for extra in all.subtracting(allGold).sorted() { print("   spurious \(extra)") }
                for miss in goldRelations.subtracting(predictedRelations).sorted() { print("   missed   \(miss)") }
                for extra in predictedRelations.subtracting(goldRelations).sorted() { print("   spurious \(extra)") }
            }
        }
        return report
    }

    static func show(_ report: Report, _ title: String) {
        Swift.print(title)
        Swift.print("  entities, name only, no dates: \(report.untyped)")
        Swift.print("  entities, name + type, no dates: \(report.entities)")
        for (type, score) in report.byType.sorted(by: { $0.key < $1.key }) {
            Swift.print("    \(type.padding(toLength: 13, withPad: " ", startingAt: 0)) \(score)")
        }
        Swift.print(String(format: "  dates: recall %.3f", report.dates.recall) + "  (\(report.dates))")
        Swift.print("  relations: \(report.relations)")
    }

    /// Loads a set, prints its figures, and holds them to the floors (none: only printed).
    /// `debugVariable` set in the environment prints each turn's misses; the test split has
    /// none, since nothing is tuned to it.
    @discardableResult
    static func measure(_ set: String, title: String, minTurns: Int, debugVariable: String?, floors: Floors?) throws -> Report {
        let turns = try load(set)
        #expect(turns.count >= minTurns)
        let report = evaluate(turns, verbose: debugVariable.map { ProcessInfo.processInfo.environment[$0] != nil } ?? false)
        show(report, "builtin extractor on \(turns.count) \(title)")
        guard let floors else { return report }
        #expect(report.untyped.f1 >= floors.names, "\(set): name-only entity F1 \(report.untyped.f1) is below the floor \(floors.names)")
        #expect(report.entities.f1 >= floors.typed, "\(set): typed entity F1 \(report.entities.f1) is below the floor \(floors.typed)")
        #expect(report.dates.recall >= floors.dateRecall,
                "\(set): date recall \(report.dates.recall) is below the floor \(floors.dateRecall)")
        #expect(report.relations.f1 >= floors.relations, "\(set): relation F1 \(report.relations.f1) is below the floor \(floors.relations)")
        return report
    }

    @Test("corpus dev split: the figures tuned against (printed, no floors)")
    func corpusDev() throws {
        try Self.measure("corpus-dev", title: "corpus dev turns", minTurns: 140, debugVariable: "MEMIFY_EXTRACTION_DEBUG_DEV", floors: nil)
    }

    /// Never tuned on, and its misses are never printed: the figures to expect on text nobody
    /// fitted the extractor to.
    @Test("corpus test split: the figures stay above the floors")
    func corpusTest() throws {
        try Self.measure("corpus-test", title: "corpus test turns", minTurns: 150, debugVariable: nil, floors: Self.testFloors)
    }

    @Test("the older labelled set: the figures stay above the floors")
    func quality() throws {
        try Self.measure("extraction-labelled", title: "labelled turns (the older development set)", minTurns: 150,
                         debugVariable: "MEMIFY_EXTRACTION_DEBUG", floors: Self.labelledFloors)
    }

    /// A second older set, labelled by someone else from the same rules.
    @Test("the older held-out set: the figures stay above the floors")
    func heldOut() throws {
        try Self.measure("extraction-heldout", title: "held-out turns", minTurns: 100, debugVariable: "MEMIFY_EXTRACTION_DEBUG_HELDOUT",
                         floors: Self.heldOutFloors)
    }

    @Test("dates become cognee's canonical Timestamp names, and the graph holds Timestamp nodes")
    func timestamps() throws {
        let graph = BuiltinExtractor.analyze(question: "When did Alice move?",
                                             answer: "Alice moved to Paris in 2010. Her son was born on March 3, 2012, and she visited Rome on 03/15/2022.")
        let times = Set(graph.entities.filter { $0.type == "Timestamp" }.map(\.name))
        #expect(times == ["2010", "2012-03-03", "2022-03-15"])
        #expect(graph.entities.contains { $0.name == "Alice" && $0.type == "Person" })
        #expect(graph.entities.contains { $0.name == "Paris" && $0.type == "Location" })
        #expect(graph.relations.contains { $0.source == "Alice" && $0.name == "moved_to" && $0.target == "Paris" })
        #expect(graph.relations.contains { $0.source == "Alice" && $0.name == "visited" && $0.target == "Rome" && $0.description == nil },
                "a pronoun subject resolves to the last person named, without the pronoun sentence as the edge text")

        let builder = CogneeDocumentBuilder(datasetID: GraphIdentity.uuid5("d"), documentID: GraphIdentity.uuid5("doc"),
                                            text: "Alice moved to Paris in 2010.", timestampMillis: 0)
        let batch = builder.build(ExtractedGraph(
            entities: [.init(name: "Alice", type: "Person", description: ""), .init(name: "2010", type: "Timestamp", description: "The year 2010")],
            relations: [.init(source: "2010", target: "Alice", name: "moved at")]))
        let node = try #require(batch.nodes.first { $0.type == "Timestamp" })
        #expect(node.id == "908fb2e6-243c-58e8-9c1d-d45dfdcc5c99", "the graph spec's §3 id for 2010")
        #expect(node.name == "2010")
        #expect(node.properties["time_at"] == .number(JSONNumber(literal: "1262304000000", isInteger: true)))
        #expect(node.properties["time_until"] == .number(JSONNumber(literal: "1293840000000", isInteger: true)))
        #expect(node.properties["precision"] == .string("year"))
        #expect(node.properties["belongs_to_set"] == .null)
        let edge = try #require(batch.edges.first { $0.relationshipName == "moved_at" })
        #expect(edge.sourceID == GraphIdentity.entity("Alice") && edge.targetID == node.id, "an edge from a time is reversed")
        #expect(batch.edges.contains { $0.relationshipName == "contains" && $0.targetID == node.id })
        #expect(!batch.edges.contains { $0.relationshipName == "belongs_to_set" && $0.sourceID == node.id })
        #expect(TimestampValue(parsing: "2024-02-30") == nil && TimestampValue(parsing: "2024-02-29")?.precision == .day)
        #expect(TimestampValue(parsing: "2019-12")?.timeUntil == TimestampValue(parsing: "2020")?.timeAt)
    }

    @Test("emails, urls, quantities, occupations and lowercase names")
    func patterns() {
        let graph = BuiltinExtractor.analyze(
            question: "my sister anna lives in berlin, can you email her?",
            answer: "Sure. Anna Müller works as a data engineer at Siemens and earns $85,000 a year; write to anna.mueller@example.com or see https://example.org/team.")
        let found = Set(graph.entities.map { "\($0.name)|\($0.type)" })
        for expected in ["anna|Person", "berlin|Location", "data engineer|Occupation", "Siemens|Organization", "$85,000|Quantity",
                         "anna.mueller@example.com|Email", "https://example.org/team|URL"] {
            #expect(found.contains(expected), "\(expected) in \(found.sorted())")
        }
        #expect(!found.contains { $0.hasPrefix("Sure") })
        #expect(graph.relations.contains { $0.source == "anna" && $0.name == "lives_in" && $0.target == "berlin" })
        #expect(graph.relations.contains { $0.name == "works_as" && $0.target == "data engineer" })
        #expect(graph.relations.contains { $0.name == "works_at" && $0.target == "Siemens" })
        #expect(BuiltinExtractor.analyze(question: "What is the weather like?", answer: "It is sunny today.").entities.isEmpty)
    }

    @Test("the tagger: its compiled-in model reads back to the same bytes, and it finds and types names without cues")
    func tagger() {
        let model = TaggerModel.builtin
        #expect(model.featureCount > 10_000)
        let bytes = model.serialized()
        let again = bytes.withUnsafeBytes { TaggerModel(serialized: $0) }
        #expect(again?.serialized() == bytes, "the stored form round-trips")
        let graph = BuiltinExtractor.analyze(
            question: "Who built Machu Picchu?",
            answer: "The Inca emperor Pachacuti had it built around 1450, and Hiram Bingham brought it to world attention in 1911. "
                + "Jensen Huang co-founded Nvidia in 1993. We watched the Australian Open in Melbourne last year.")
        let found = Set(graph.entities.map { "\($0.name)|\($0.type)" })
        // (It still takes "Inca emperor Pachacuti" as one name, typed other: a boundary it gets wrong.)
        for expected in ["Machu Picchu|Location", "Hiram Bingham|Person", "Jensen Huang|Person",
                         "Nvidia|Organization", "Australian Open|Event", "Melbourne|Location"] {
            #expect(found.contains(expected), "\(expected) in \(found.sorted())")
        }
        #expect(!found.contains { $0.hasPrefix("We") || $0.hasPrefix("Who") })
    }

    @Test("pathological input (1 MB without whitespace, a 200,000-word question) is bounded work, not a hang",
          .timeLimit(.minutes(10)))
    func pathological() {
        let blob = String(repeating: "{\"a\":[1,2,{\"b\":\"x.y@z\"}]},", count: 40_000)
        let runOn = (0..<200_000).map { $0 % 7 == 0 ? "Anna" : "word" }.joined(separator: " ") + "?"
        let graph = BuiltinExtractor.analyze(question: runOn, answer: blob)
        #expect(graph.entities.count < 1000)
        #expect(!BuiltinExtractor.analyze(question: String(repeating: "🙂", count: 100_000), answer: "").summary.isEmpty)
    }

    @Test("one batch naming an entity in several turns folds as separate batches do")
    func foldWithinBatch() throws {
        func turn(_ n: Int, _ answer: String) -> GraphBatch {
            let builder = CogneeDocumentBuilder(datasetID: GraphIdentity.uuid5("d"), documentID: GraphIdentity.uuid5("doc\(n)"),
                                                text: answer, timestampMillis: Int64(n) * 1000)
            return builder.build(BuiltinExtractor.analyze(question: "", answer: answer))
        }
        let a = turn(1, "Alice moved to Paris."), b = turn(2, "Alice is nice.")
        let together = GraphBatch(nodes: a.nodes + b.nodes, edges: a.edges + b.edges).prepared()
        let reversed = GraphBatch(nodes: b.nodes + a.nodes, edges: b.edges + a.edges).prepared()
        let alice = try #require(together.nodes.first { $0.id == GraphIdentity.entity("Alice") })
        #expect(alice.properties["relations"] == nil, "alice holds moved_to, whichever turn came last")
        #expect(alice.properties["created_at"] == .number(JSONNumber(literal: "1000", isInteger: true)))
        let again = try #require(reversed.nodes.first { $0.id == GraphIdentity.entity("Alice") })
        #expect(JSONValue.object(again.properties).isEquivalent(to: .object(alice.properties)))
    }

    @Test("the same text always gives the same graph")
    func deterministic() throws {
        let turns = try Self.load().prefix(40)
        for turn in turns {
            #expect(BuiltinExtractor.analyze(question: turn.question, answer: turn.answer)
                    == BuiltinExtractor.analyze(question: turn.question, answer: turn.answer))
        }
    }
}
