import Glibc

/// Parses the times cognee writes and users type: ISO 8601 (`2026-11-24T18:39:19.769687+00:00`,
/// with or without fraction, offset or `Z`; a naive time is UTC, as cognee reads it), a date
/// alone (`2026-11-24`), or Unix seconds. Returns Unix seconds.
package func parseTimestamp(_ text: String) -> Double? {
    if let seconds = Double(text), text.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" }) { return seconds }
    let chars = Array(text.utf8)
    var i = 0
    func number(_ width: Int) -> Int? {
        guard i + width <= chars.count else { return nil }
        var value = 0
        for k in 0..<width {
            let c = chars[i + k]
            guard c >= 48 && c <= 57 else { return nil }
            value = value * 10 + Int(c - 48)
        }
        i += width
        return value
    }
    func expect(_ c: UInt8) -> Bool {
        guard i < chars.count, chars[i] == c else { return false }
        i += 1
        return true
    }
    guard let year = number(4), expect(UInt8(ascii: "-")), let month = number(2), expect(UInt8(ascii: "-")),
          let day = number(2), (1...12).contains(month), (1...daysInMonth(year, month)).contains(day) else { return nil }
    var hour = 0, minute = 0, second = 0
    var fraction = 0.0
    if i < chars.count, chars[i] == UInt8(ascii: "T") || chars[i] == UInt8(ascii: " ") {
        i += 1
        guard let h = number(2), expect(UInt8(ascii: ":")), let m = number(2) else { return nil }
        hour = h
        minute = m
        if expect(UInt8(ascii: ":")) {
            guard let s = number(2) else { return nil }
            second = s
            if expect(UInt8(ascii: ".")) {
                var scale = 0.1
                let start = i
                while i < chars.count, chars[i] >= 48, chars[i] <= 57 {
                    fraction += Double(chars[i] - 48) * scale
                    scale /= 10
                    i += 1
                }
                if i == start { return nil }
            }
        }
        guard hour < 24, minute < 60, second < 61 else { return nil }
    }
    var offset = 0
    if i < chars.count {
        if chars[i] == UInt8(ascii: "Z") {
            i += 1
        } else if chars[i] == UInt8(ascii: "+") || chars[i] == UInt8(ascii: "-") {
            let sign = chars[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let oh = number(2) else { return nil }
            _ = expect(UInt8(ascii: ":"))
            let om = number(2) ?? 0
            offset = sign * (oh * 3600 + om * 60)
        }
    }
    guard i == chars.count else { return nil }
    // Days from civil (Howard Hinnant's algorithm).
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    let days = era * 146_097 + doe - 719_468
    return Double(days * 86_400 + hour * 3600 + minute * 60 + second - offset) + fraction
}

/// UTC times written by hand: Foundation's date formatters load ICU's calendar data, a few
/// milliseconds of every run spent on its run id, lock file and log lines.
package enum UTCTime {
    /// `2026-12-01T12:34:56Z`, or with `milliseconds` `2026-12-01T12:34:56.789Z`.
    package static func iso8601(_ unixSeconds: Double, milliseconds: Bool = false) -> String {
        let f = fields(unixSeconds)
        var out = "\(pad(f.year, 4))-\(pad(f.month, 2))-\(pad(f.day, 2))T\(pad(f.hour, 2)):\(pad(f.minute, 2)):\(pad(f.second, 2))"
        if milliseconds { out += "." + pad(f.millisecond, 3) }
        return out + "Z"
    }

    /// `2026-12-01 12:34:56.789012`: naive UTC to the microsecond, as SQLAlchemy stores a
    /// `DateTime` on SQLite (and cognee compares its cache's expiry, as text).
    package static func sqlite(_ unixSeconds: Double) -> String {
        var whole = unixSeconds.rounded(.down)
        var micros = Int(((unixSeconds - whole) * 1_000_000).rounded())
        if micros >= 1_000_000 { whole += 1; micros -= 1_000_000 }
        let f = fields(whole)
        return "\(pad(f.year, 4))-\(pad(f.month, 2))-\(pad(f.day, 2)) \(pad(f.hour, 2)):\(pad(f.minute, 2)):\(pad(f.second, 2)).\(pad(micros, 6))"
    }

    /// `20261201T123456Z`.
    package static func compact(_ unixSeconds: Double) -> String {
        let f = fields(unixSeconds)
        return "\(pad(f.year, 4))\(pad(f.month, 2))\(pad(f.day, 2))T\(pad(f.hour, 2))\(pad(f.minute, 2))\(pad(f.second, 2))Z"
    }

    /// Now, in Unix seconds.
    package static var now: Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    private static func fields(_ unixSeconds: Double) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int) {
        let whole = unixSeconds.rounded(.down)
        var t = time_t(whole)
        var tm = tm()
        gmtime_r(&t, &tm)
        // To the microsecond first, so 0.789 (stored as 0.78899…) stays 789 ms.
        let ms = min(999, Int(((unixSeconds - whole) * 1_000_000).rounded()) / 1000)
        return (Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1, Int(tm.tm_mday), Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec), ms)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

/// Days in a month of the proleptic Gregorian calendar, as Python's datetime counts them.
func daysInMonth(_ year: Int, _ month: Int) -> Int {
    switch month {
    case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}
