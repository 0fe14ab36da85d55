import MemifyCore
import GraphStore
import SessionCache
import Foundation

/// The backoff both HTTP clients (chat completions, embeddings) share, so a rate-limited
/// provider sees one policy from the worker whichever stage asks.
///
/// Exponential backoff with full jitter, `random(0, min(maxDelay, baseDelay · 2^(attempt-1)))`,
/// never shorter than what the server's `Retry-After` asks and never longer than ten minutes.
struct HTTPRetryPolicy: Sendable {
    var maxAttempts: Int
    /// The first retry's backoff ceiling; doubles each attempt, capped at ``maxDelay``.
    var baseDelay: Double
    var maxDelay: Double

    /// Seconds to wait before attempt `attempt + 1`.
    func delay(attempt: Int, retryAfter: Double?) -> Double {
        let ceiling = min(maxDelay, baseDelay * pow(2, Double(attempt - 1)))
        let jitter = ceiling > 0 ? Double.random(in: 0...ceiling) : 0
        return min(600, max(retryAfter ?? 0, jitter))
    }

    /// `Retry-After: 7` or `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`, as seconds from now.
    static func parseRetryAfter(_ value: String) -> Double? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(text) { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return max(0, date.timeIntervalSinceNow) }
        }
        return nil
    }
}
