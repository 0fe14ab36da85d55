import MemifyCore
/// A time an extractor names, in the forms cognee's graph prompt asks for (`YYYY`, `YYYY-MM`,
/// `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS`, or `<start>/<end>` for a period with both bounds stated), as
/// the half-open period a `Timestamp` node stores.
package struct TimestampValue: Sendable, Equatable {
    package enum Precision: String, Sendable { case year, month, day, second, span }

    package var year: Int
    package var month = 1
    package var day = 1
    package var hour = 0
    package var minute = 0
    package var second = 0
    package var precision: Precision
    /// A span's two ends (cognee's `span` precision): the calendar fields are the start's.
    private var span: Span?

    private struct Span: Sendable, Equatable {
        var start: String
        var end: String
        var until: Int64
    }

    /// The period from `start` to `end` (`1803/1815` is [1803-01-01, 1816-01-01), as in cognee),
    /// or nil unless `start` begins before `end` does.
    package init?(from start: TimestampValue, to end: TimestampValue) {
        guard start.span == nil, end.span == nil, start.timeAt < end.timeAt else { return nil }
        self = start
        precision = .span
        span = Span(start: start.text, end: end.text, until: end.timeUntil)
    }

    /// Parses the canonical forms only; anything else stays an ordinary entity, as in cognee.
    /// A span is two points joined by `/` (spaces around it allowed), the earlier first.
    package init?(parsing text: String) {
        if let slash = text.firstIndex(of: "/") {
            func trimmed(_ part: Substring) -> String {
                String(part.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
            }
            let end = text[text.index(after: slash)...]
            guard !end.contains("/"), let from = TimestampValue(parsing: trimmed(text[..<slash])),
                  let to = TimestampValue(parsing: trimmed(end)) else { return nil }
            self.init(from: from, to: to)
        } else {
            self.init(point: text)
        }
    }

    private init?(point text: String) {
        let s = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= s.count else { return nil }
            var v = 0
            for i in range {
                guard s[i] >= 0x30, s[i] <= 0x39 else { return nil }
                v = v * 10 + Int(s[i] - 0x30)
            }
            return v
        }
        func byte(_ i: Int, _ c: Character) -> Bool { i < s.count && s[i] == c.asciiValue! }
        guard let y = number(0..<4) else { return nil }
        year = y
        switch s.count {
        case 4:
            precision = .year
        case 7 where byte(4, "-"):
            guard let m = number(5..<7) else { return nil }
            month = m
            precision = .month
        case 10 where byte(4, "-") && byte(7, "-"):
            guard let m = number(5..<7), let d = number(8..<10) else { return nil }
            (month, day) = (m, d)
            precision = .day
        case 19 where byte(4, "-") && byte(7, "-") && byte(10, " ") && byte(13, ":") && byte(16, ":"):
            guard let m = number(5..<7), let d = number(8..<10), let h = number(11..<13), let mi = number(14..<16),
                  let sec = number(17..<19) else { return nil }
            (month, day, hour, minute, second) = (m, d, h, mi, sec)
            precision = .second
        default:
            return nil
        }
        // Year 0 is no date to Python's datetime, so cognee leaves `0000` an ordinary entity.
        guard year >= 1, (1...12).contains(month), (1...Self.daysIn(year: year, month: month)).contains(day), hour < 24, minute < 60,
              second < 60 else { return nil }
    }

    package init?(year: Int, month: Int? = nil, day: Int? = nil) {
        guard year >= 1, year <= 9999 else { return nil }
        let text: String
        func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let y = String(repeating: "0", count: 4 - String(year).count) + String(year)
        switch (month, day) {
        case (nil, _): text = y
        case (let m?, nil): text = "\(y)-\(pad(m))"
        case (let m?, let d?): text = "\(y)-\(pad(m))-\(pad(d))"
        }
        self.init(parsing: text)
    }

    /// The node's name and `timestamp_str`.
    package var text: String {
        if let span { return span.start + "/" + span.end }
        func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        // Years before 1000 keep four digits (`0068`), the only form cognee parses.
        let y = year >= 1000 ? String(year) : String(repeating: "0", count: 4 - String(year).count) + String(year)
        switch precision {
        case .year: return y
        case .month: return "\(y)-\(pad(month))"
        case .day: return "\(y)-\(pad(month))-\(pad(day))"
        case .second, .span: return "\(y)-\(pad(month))-\(pad(day)) \(pad(hour)):\(pad(minute)):\(pad(second))"
        }
    }

    /// Start of the period, epoch milliseconds UTC.
    package var timeAt: Int64 {
        let days = CivilDate.daysSinceEpoch(year: year, month: month, day: day)
        return ((days * 24 + Int64(hour)) * 60 + Int64(minute)) * 60_000 + Int64(second) * 1000
    }

    /// End of the period (exclusive), epoch milliseconds UTC.
    package var timeUntil: Int64 {
        switch precision {
        case .year: return CivilDate.daysSinceEpoch(year: year + 1, month: 1, day: 1) * 86_400_000
        case .month:
            return (month == 12 ? CivilDate.daysSinceEpoch(year: year + 1, month: 1, day: 1)
                                : CivilDate.daysSinceEpoch(year: year, month: month + 1, day: 1)) * 86_400_000
        case .day: return timeAt + 86_400_000
        case .second: return timeAt + 1000
        case .span: return span?.until ?? timeAt + 1000
        }
    }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    package static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
