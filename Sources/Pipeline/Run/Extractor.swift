public import GraphStore
import Foundation

/// Turns one turn's text into a summary and a knowledge graph in cognee's shape.
public protocol Extractor: Sendable {
    /// Name and version, part of every turn's content hash: changing the extractor re-derives.
    var identity: String { get }
    func extract(question: String, answer: String) async throws -> ExtractedGraph
    /// What one call would cost, for `--dry-run`: tokens sent and received, and US dollars.
    func estimate(question: String, answer: String) -> (tokens: Int, costUSD: Double)
}

extension Extractor {
    /// A local extractor costs nothing.
    public func estimate(question: String, answer: String) -> (tokens: Int, costUSD: Double) { (0, 0) }
}

/// The simplest honest extractor, until the builtin one lands: an extractive summary (the
/// answer's first sentence, at most 200 characters) and no entities or relations (only the
/// chunk's own structure is written). It invents nothing.
public struct SummaryOnlyExtractor: Extractor {
    public init() {}

    public var identity: String { "summary-only/1" }

    public func extract(question: String, answer: String) async throws -> ExtractedGraph {
        ExtractedGraph(summary: Self.firstSentence(answer.isEmpty ? question : answer))
    }

    static func firstSentence(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        var end = trimmed.endIndex
        var index = trimmed.startIndex
        while index < trimmed.endIndex {
            let ch = trimmed[index]
            let next = trimmed.index(after: index)
            if ch == "." || ch == "!" || ch == "?" || ch == "\n", next == trimmed.endIndex || trimmed[next].isWhitespace {
                end = next
                break
            }
            index = next
        }
        let sentence = String(trimmed[..<end]).trimmingCharacters(in: .whitespacesAndNewlines)
        return sentence.count > 200 ? String(sentence.prefix(199)) + "…" : sentence
    }
}

