import MemifyCore
/// A time an extractor names, in the forms cognee's graph prompt asks for (`YYYY`, `YYYY-MM`,
/// `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS`), as the half-open period a `Timestamp` node stores.
package struct TimestampValue: Sendable, Equatable {
    package enum Precision: String, Sendable { case year, month, day, second }

    package var year: Int
    package var month = 1
    package var day = 1
    package var hour = 0
    package var minute = 0
    package var second = 0
    package var precision: Precision

    /// Parses the canonical forms only; anything else stays an ordinary entity, as in cognee.
    package init?(parsing text: String) {
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
        guard (1...12).contains(month), (1...Self.daysIn(year: year, month: month)).contains(day), hour < 24, minute < 60,
              second < 60 else { return nil }
    }

    package init?(year: Int, month: Int? = nil, day: Int? = nil) {
        let text: String
        func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        switch (month, day) {
        case (nil, _): text = "\(year)"
        case (let m?, nil): text = "\(year)-\(pad(m))"
        case (let m?, let d?): text = "\(year)-\(pad(m))-\(pad(d))"
        }
        guard year >= 1000, year <= 9999 else { return nil }
        self.init(parsing: text)
    }

    /// The node's name and `timestamp_str`.
    package var text: String {
        func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        switch precision {
        case .year: return "\(year)"
        case .month: return "\(year)-\(pad(month))"
        case .day: return "\(year)-\(pad(month))-\(pad(day))"
        case .second: return "\(year)-\(pad(month))-\(pad(day)) \(pad(hour)):\(pad(minute)):\(pad(second))"
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
