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
        // Byte scan: the terminators and the whitespace that must follow them are ASCII.
        let bytes = Array(text.utf8)
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }
        var start = 0
        while start < bytes.count, isSpace(bytes[start]) { start += 1 }
        var end = bytes.count
        var i = start
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: ".") || b == UInt8(ascii: "!") || b == UInt8(ascii: "?") || b == 0x0A,
               i + 1 == bytes.count || isSpace(bytes[i + 1]) {
                end = i + 1
                break
            }
            i += 1
        }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        let sentence = String(decoding: bytes[start..<end], as: UTF8.self)
        guard end - start > 200, sentence.count > 200 else { return sentence }
        return String(sentence.prefix(199)) + "…"
    }
}

