import MemifyCore
import GraphStore
import SessionCache
/// cognee's token heuristic, price table and cost formula (session-cache spec §12.1), so that
/// the worker's figures agree with cognee's own `session_model_usage`.
package enum LLMPricing {
    /// USD per million tokens, (input, output): cognee 1.6.5's built-in table ("verified …
    /// September 2026"), copied row for row and in its order.
    package static let table: [(prefix: String, input: Double, output: Double)] = [
        ("gpt-5.6-astra", 10.00, 50.00),
        ("gpt-5.6-sol", 4.00, 20.00),
        ("gpt-5.6-terra", 2.00, 12.00),
        ("gpt-5.6-luna", 0.20, 1.20),
        ("gpt-5.5", 5.00, 30.00),
        ("gpt-5.5-pro", 30.00, 180.00),
        ("gpt-5.4", 2.50, 15.00),
        ("gpt-5.4-mini", 0.75, 4.50),
        ("gpt-5.4-nano", 0.20, 1.25),
        ("gpt-5.4-pro", 30.00, 180.00),
        ("gpt-5", 1.25, 10.00),
        ("gpt-5-mini", 0.25, 2.00),
        ("gpt-5-nano", 0.05, 0.40),
        ("gpt-4.1", 2.00, 8.00),
        ("gpt-4.1-mini", 0.40, 1.60),
        ("gpt-4.1-nano", 0.10, 0.40),
        ("gpt-4o", 2.50, 10.00),
        ("gpt-4o-mini", 0.15, 0.60),
        ("gpt-4-turbo", 10.00, 30.00),
        ("gpt-4", 30.00, 60.00),
        ("gpt-3.5-turbo", 0.50, 1.50),
        ("o3", 2.00, 8.00),
        ("o4-mini", 1.10, 4.40),
        ("claude-fable-5", 10.00, 50.00),
        ("claude-opus-4-8", 5.00, 25.00),
        ("claude-opus-4-7", 5.00, 25.00),
        ("claude-opus-4-6", 5.00, 25.00),
        ("claude-opus-4-5", 5.00, 25.00),
        ("claude-opus-4", 15.00, 75.00),
        ("claude-sonnet-5", 3.00, 15.00),
        ("claude-sonnet-4", 3.00, 15.00),
        ("claude-haiku-4-5", 1.00, 5.00),
        ("claude-3-5-sonnet", 3.00, 15.00),
        ("claude-3-5-haiku", 0.80, 4.00),
        ("claude-3-opus", 15.00, 75.00),
        ("claude-3-haiku", 0.25, 1.25),
        ("gemini-3.5-flash", 1.50, 9.00),
        ("gemini-3.1-pro", 2.00, 12.00),
        ("gemini-3.1-flash-lite", 0.25, 1.50),
        ("gemini-3-flash", 0.50, 3.00),
        ("gemini-2.5-pro", 1.25, 10.00),
        ("gemini-2.5-flash-lite", 0.10, 0.40),
        ("gemini-2.5-flash", 0.30, 2.50),
        ("gemini-2.0-flash-lite", 0.075, 0.30),
        ("gemini-2.0-flash", 0.10, 0.40),
        ("gemini-1.5-pro", 1.25, 5.00),
        ("gemini-1.5-flash", 0.075, 0.30),
        ("text-embedding-3-large", 0.13, 0.0),
        ("text-embedding-3-small", 0.02, 0.0),
        ("text-embedding-ada-002", 0.10, 0.0),
    ]

    /// The table sorted by prefix length, longest first; a stable sort, as Python's `sorted`.
    private static let byLength: [(prefix: String, input: Double, output: Double)] = {
        table.enumerated().sorted { a, b in
            a.element.prefix.count != b.element.prefix.count ? a.element.prefix.count > b.element.prefix.count : a.offset < b.offset
        }.map(\.element)
    }()

    /// The prices of a configured model string: `key = model.split("/")[-1].lower()`, then the
    /// longest table prefix the key starts with. nil: no match (cost 0, as in cognee).
    package static func prices(model: String) -> (input: Double, output: Double)? {
        guard !model.isEmpty else { return nil }
        let key = (model.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? model).lowercased()
        guard let row = byLength.first(where: { key.hasPrefix($0.prefix) }) else { return nil }
        return (row.input, row.output)
    }

    /// `tokens_in/1e6*pin + tokens_out/1e6*pout`; 0 without a match.
    package static func cost(model: String, tokensIn: Int, tokensOut: Int) -> Double {
        guard let p = prices(model: model) else { return 0 }
        return Double(tokensIn) / 1e6 * p.input + Double(tokensOut) / 1e6 * p.output
    }

    /// cognee's fallback count: `0 if text == "" else max(1, len(text) // 4)`, `len` in code points.
    package static func heuristicTokens(_ text: String) -> Int {
        let n = text.unicodeScalars.count
        return n == 0 ? 0 : max(1, n / 4)
    }
}
