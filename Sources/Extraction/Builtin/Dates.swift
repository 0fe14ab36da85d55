import MemifyCore
import GraphStore

/// Calendar arithmetic on days since 1970-01-01 (UTC), for dates relative to the turn's day.
enum CalendarDay {
    static func civil(_ day: Int64) -> (year: Int, month: Int, day: Int) {
        let c = CivilDate(daysSinceEpoch: day)
        return (Int(c.year), Int(c.month), Int(c.day))
    }

    static func of(_ year: Int, _ month: Int, _ day: Int) -> Int64 { CivilDate.daysSinceEpoch(year: year, month: month, day: day) }

    /// 0 is Monday, 6 Sunday (1970-01-01 was a Thursday).
    static func weekday(_ day: Int64) -> Int { Int(((day + 3) % 7 + 7) % 7) }

    static func value(_ day: Int64) -> TimestampValue? {
        let c = civil(day)
        return TimestampValue(year: c.year, month: c.month, day: c.day)
    }

    /// The month `k` months after the one `day` is in.
    static func month(of day: Int64, plus k: Int) -> TimestampValue? {
        let c = civil(day)
        let index = c.year * 12 + (c.month - 1) + k
        return TimestampValue(year: index / 12, month: index % 12 + 1)
    }

    /// The calendar day `k` months after `day` (the month's last day if it is shorter).
    static func day(_ day: Int64, plusMonths k: Int) -> Int64 {
        let c = civil(day)
        let index = c.year * 12 + (c.month - 1) + k
        let (y, m) = (index / 12, index % 12 + 1)
        return of(y, m, min(c.day, TimestampValue.daysIn(year: y, month: m)))
    }
}

/// A date as far as the text states it: a year, a month, a day, any of them missing.
struct StatedDate {
    var year: Int?
    var month: Int?
    var day: Int?

    var value: TimestampValue? {
        guard let year else { return nil }
        if let month, let day, day > TimestampValue.daysIn(year: year, month: month) { return nil }
        return TimestampValue(year: year, month: month, day: month == nil ? nil : day)
    }
}

/// What a date pattern found: each stated point with its tokens, and for a period with both
/// ends stated, cognee's span Timestamp (`<start>/<end>`) over the tokens joining them.
struct FoundDate {
    var range: Range<Int>
    var points: [(range: Range<Int>, value: TimestampValue?)]
    var span: (range: Range<Int>, value: TimestampValue)?
}

/// Dates: absolute ones ("14 May 2025", "May 14, 2025", "2025-05-14", "March 2024", "2019", "AD 68"),
/// ranges ("26 to 30 June 2024", "14 July to 9 November 2023", "from 2019 to 2021"), and, given the
/// turn's day, relative ones ("yesterday", "last Tuesday", "in two weeks", "next month") and dates
/// without a year ("May 14"). Relative dates follow the corpus's labelling rules: "last <weekday>" is
/// the latest such day strictly before today, "next <weekday>" the first strictly after, "this" or
/// "on <weekday>" about the future the first on or after today, a weekday in the past tense the
/// latest strictly before; last/next/this week, weekends, seasons and decades are not dates.
extension Segment {
    func monthAt(_ i: Int) -> Int? {
        guard i < tokens.count, tokens[i].kind == .word else { return nil }
        var word = tokens[i].lower
        if word.hasSuffix(".") { word.removeLast() }
        guard let m = Lexicon.months[word] else { return nil }
        // "may" and "march" are verbs too; a month is capitalised unless the whole text is lowercase.
        if !tokens[i].capitalized && hasUppercase { return nil }
        return m
    }

    func dayNumber(_ i: Int) -> Int? {
        guard i < tokens.count, tokens[i].kind == .number else { return nil }
        var digits = tokens[i].lower
        for suffix in ["st", "nd", "rd", "th"] where digits.hasSuffix(suffix) { digits.removeLast(2) }
        guard digits.count <= 2, let d = Int(digits), (1...31).contains(d) else { return nil }
        return d
    }

    /// A number that reads as a year: four digits, 1000 to 2199, not "1000 W", "$2000" or "2000 calories".
    func yearNumber(_ i: Int) -> Int? {
        guard i < tokens.count, tokens[i].kind == .number, tokens[i].lower.utf8.count == 4, let y = Int(tokens[i].lower),
              (1000...2199).contains(y) else { return nil }
        if i + 1 < tokens.count {
            let next = tokens[i + 1]
            if next.kind == .word, Lexicon.units.contains(next.lower) || Self.unitSymbols.contains(next.text) || Self.unitSymbols.contains(next.lower) {
                return nil
            }
            if next.start == tokens[i].end, next.lower == "%" { return nil }
        }
        if i > 0, tokens[i - 1].end == tokens[i].start, Lexicon.currencySymbols.contains(scalars[tokens[i - 1].start]) { return nil }
        if i > 0, Self.currencyCodes.contains(tokens[i - 1].text) { return nil }
        return y
    }

    private static let determiners: Set<String> = ["the", "a", "an", "his", "her", "its", "their", "my", "our", "your", "this", "that"]

    /// A number that names rather than dates: part of a name ("Paris 2024 Olympics", "Equality Act
    /// 2010", "Flight 1282", "the 2026 FIFA World Cup", "my 2017 Honda Civic"), a designation
    /// ("C/2023 A3") or a term of arithmetic ("1280×720", "1000 / fps").
    func yearNames(_ i: Int) -> Bool {
        let sentence = tokens[i].sentence
        func word(_ k: Int) -> Token? { k >= 0 && k < tokens.count && tokens[k].sentence == sentence ? tokens[k] : nil }
        let operators: Set<String> = ["/", "×", "x", "*", "=", "#"]
        if let previous = word(i - 1) {
            // "1000 - 52", not a list's "- 2019:".
            if ["-", "−", "+"].contains(previous.lower), word(i - 2)?.kind == .number { return true }
            if previous.kind == .word, previous.capitalized || previous.innerCaps, !Lexicon.commonWords.contains(previous.lower),
               !previous.lower.hasSuffix("'s"), !previous.lower.hasSuffix("’s"), monthAt(i - 1) == nil {
                return true
            }
            if previous.lower == ",", let before = word(i - 2), before.kind == .word, before.capitalized,
               ["act", "acts", "code", "law", "rules", "regulations"].contains(before.lower) {
                return true
            }
            if operators.contains(previous.lower) { return true }
            if Self.determiners.contains(previous.lower), let next = word(i + 1), next.kind == .word, next.capitalized || next.innerCaps {
                return true
            }
        }
        if let next = word(i + 1), operators.contains(next.lower) { return true }
        return false
    }

    func skipComma(_ i: Int) -> Int { i < tokens.count && tokens[i].lower == "," ? i + 1 : i }

    private static let eras: Set<String> = ["ad", "ce", "bc", "bce"]

    /// An era year ("AD 68", "325 AD", "44 BC"): a year before the common era has no cognee form,
    /// so it is kept from becoming a name but gives no timestamp.
    private func eraYear(at i: Int) -> FoundDate? {
        func small(_ k: Int) -> Int? {
            guard k < tokens.count, tokens[k].kind == .number, tokens[k].lower.utf8.count <= 4,
                  tokens[k].lower.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let y = Int(tokens[k].lower), y > 0 else { return nil }
            return y
        }
        func era(_ k: Int) -> String? {
            guard k < tokens.count, tokens[k].kind == .word, Self.eras.contains(tokens[k].lower),
                  tokens[k].text.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else { return nil }
            return tokens[k].lower
        }
        guard tokens[i].kind == .number || Self.eras.contains(tokens[i].lower) else { return nil }
        if let e = era(i), let y = small(i + 1) {
            return FoundDate(range: i..<(i + 2), points: [(i..<(i + 2), e.hasPrefix("b") ? nil : TimestampValue(year: y))])
        }
        if let y = small(i), let e = era(i + 1) {
            return FoundDate(range: i..<(i + 2), points: [(i..<(i + 2), e.hasPrefix("b") ? nil : TimestampValue(year: y))])
        }
        return nil
    }

    /// One point: "May 14[, 2025]", "14[th] [of] May[, 2025]", "March [of] 2024", "March", "2024",
    /// "2024-05-14", "05/14/2024", "14.05.2024". The year may be missing; a bare month is only taken
    /// where it cannot be the verb.
    private func point(at i: Int) -> (range: Range<Int>, date: StatedDate)? {
        if let month = monthAt(i) {
            if let day = dayNumber(i + 1), !(i + 2 < tokens.count && tokens[i + 2].lower == ":") {
                let yearAt = skipComma(i + 2)
                if let year = yearNumber(yearAt) { return (i..<(yearAt + 1), StatedDate(year: year, month: month, day: day)) }
                return (i..<(i + 2), StatedDate(month: month, day: day))
            }
            var yearAt = skipComma(i + 1)
            if yearAt < tokens.count, tokens[yearAt].lower == "of" { yearAt += 1 }
            if let year = yearNumber(yearAt) { return (i..<(yearAt + 1), StatedDate(year: year, month: month)) }
            return (i..<(i + 1), StatedDate(month: month))
        }
        if let day = dayNumber(i) {
            var monthAt = i + 1
            if monthAt < tokens.count, tokens[monthAt].lower == "of" { monthAt += 1 }
            if let month = self.monthAt(monthAt) {
                let yearAt = skipComma(monthAt + 1)
                if let year = yearNumber(yearAt) { return (i..<(yearAt + 1), StatedDate(year: year, month: month, day: day)) }
                return (i..<(monthAt + 1), StatedDate(month: month, day: day))
            }
        }
        guard i < tokens.count, tokens[i].kind == .number else { return nil }
        let text = tokens[i].lower
        for separator: Character in ["-", "/", "."] where text.contains(separator) {
            let pieces = text.split(separator: separator, omittingEmptySubsequences: false)
            let parts = pieces.map { Int($0) }
            guard parts.count == 3, let a = parts[0], let b = parts[1], let c = parts[2] else { continue }
            let lengths = pieces.map(\.count)
            if lengths[0] == 4 { return (i..<(i + 1), StatedDate(year: a, month: b, day: c)) }
            guard lengths[2] == 4 else { continue }
            // 03/15/2022 is American; 15.03.2022 and 15/03/2022 (day first) are not.
            if separator == "/" && a <= 12 { return (i..<(i + 1), StatedDate(year: c, month: a, day: b)) }
            return (i..<(i + 1), StatedDate(year: c, month: b, day: a))
        }
        if let year = yearNumber(i), !yearNames(i) { return (i..<(i + 1), StatedDate(year: year)) }
        return nil
    }

    private static let rangeJoiners: Set<String> = ["to", "-", "–", "—", "until", "till", "through", "thru", "and"]

    /// Two day numbers in one token, "14-22" (as in "14-22 May 2025").
    private func dayPair(_ i: Int) -> (Int, Int)? {
        guard i < tokens.count, tokens[i].kind == .number else { return nil }
        let parts = tokens[i].lower.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count <= 2 }), let a = Int(parts[0]), let b = Int(parts[1]),
              (1...31).contains(a), (1...31).contains(b), a < b else { return nil }
        return (a, b)
    }

    /// A date or a period at token i, with what the text leaves out taken from the other end of
    /// the period, the sentence, or the turn's day.
    func date(at i: Int, today: Int64?) -> FoundDate? {
        if let found = eraYear(at: i) { return found }
        // "2019-2021", "1803–1815" in one token: a period of years.
        if i < tokens.count, tokens[i].kind == .number {
            let parts = tokens[i].lower.split(separator: "-", omittingEmptySubsequences: false)
            if parts.count == 2, parts.allSatisfy({ $0.count == 4 }), let a = Int(parts[0]), let b = Int(parts[1]),
               (1000...2199).contains(a), (1000...2199).contains(b), a < b {
                return period(i..<(i + 1), [(i..<(i + 1), StatedDate(year: a)), (i..<(i + 1), StatedDate(year: b))], joiner: i..<(i + 1),
                              today: today)
            }
        }
        // "14-22 May 2025"
        if let (a, b) = dayPair(i), let month = monthAt(i + 1) {
            let yearAt = skipComma(i + 2)
            let year = yearNumber(yearAt)
            let end = year == nil ? i + 2 : yearAt + 1
            return period(i..<end, [(i..<(i + 1), StatedDate(year: year, month: month, day: a)),
                                    (i..<end, StatedDate(year: year, month: month, day: b))], joiner: i..<(i + 1), today: today)
        }
        // "26 to 30 June 2024", "10 and 11 September 2023": a bare day, then a date with its month.
        var first: (range: Range<Int>, date: StatedDate)
        if let day = dayNumber(i), monthAt(i + 1) == nil, !(i + 1 < tokens.count && tokens[i + 1].lower == "of"),
           i + 2 < tokens.count, Self.rangeJoiners.contains(tokens[i + 1].lower), let second = point(at: i + 2),
           second.date.month != nil, second.date.day != nil, dayNumber(i + 2) != nil {
            first = (i..<(i + 1), StatedDate(month: second.date.month, day: day))
            // "on 10 and 11 September" names two days; "between 10 and 11 September" a period.
            let span = tokens[i + 1].lower != "and" || (i > 0 && tokens[i - 1].lower == "between")
            return period(i..<second.range.upperBound, [first, second], joiner: (i + 1)..<(i + 2), today: today, span: span)
        }
        guard let found = point(at: i) else { return nil }
        first = found
        var k = found.range.upperBound
        // "May 14 to 22, 2025": a bare day after a joiner takes the first one's month.
        if k + 1 < tokens.count, Self.rangeJoiners.contains(tokens[k].lower), first.date.month != nil, first.date.day != nil,
           first.date.year == nil, let day = dayNumber(k + 1), monthAt(k + 2) == nil {
            let yearAt = skipComma(k + 2)
            let year = yearNumber(yearAt)
            let end = year == nil ? k + 2 : yearAt + 1
            return period(i..<end, [first, ((k + 1)..<end, StatedDate(year: year, month: first.date.month, day: day))],
                          joiner: k..<(k + 1), today: today)
        }
        // A second point after a joiner: a period if its stated parts match the first's.
        if k + 1 < tokens.count, Self.rangeJoiners.contains(tokens[k].lower), tokens[k + 1].sentence == tokens[k].sentence,
           let second = point(at: k + 1), (first.date.day == nil) == (second.date.day == nil),
           (first.date.month == nil) == (second.date.month == nil) {
            let joinedByAnd = tokens[k].lower == "and"
            let between = i > 0 && tokens[i - 1].lower == "between"
            // "in 2019 and 2021" names two years; "between 2019 and 2021", "2019 to 2021" a period.
            if !joinedByAnd || between || first.date.year == nil {
                k = second.range.upperBound
                return period(i..<k, [first, second], joiner: found.range.upperBound..<(found.range.upperBound + 1), today: today,
                              span: !joinedByAnd || between)
            }
        }
        return single(first, today: today)
    }

    /// A single point, its missing year resolved.
    private func single(_ found: (range: Range<Int>, date: StatedDate), today: Int64?) -> FoundDate? {
        var date = found.date
        if date.year == nil {
            // A month alone is a date only near the turn's day ("in January", said in March);
            // further off ("in July", "every May", "late September") it is a season of the year.
            if date.day == nil {
                guard let today, let month = date.month, monthIsNear(found.range.lowerBound, month: month, today: today) else {
                    return FoundDate(range: found.range, points: [])
                }
            }
            date.year = impliedYear(month: date.month!, day: date.day, at: found.range.lowerBound, today: today)
        }
        return FoundDate(range: found.range, points: [(found.range, date.value)])
    }

    /// Two points of a period (the first inheriting what only the second states), and the span
    /// between them when `span`.
    private func period(_ range: Range<Int>, _ points: [(range: Range<Int>, date: StatedDate)], joiner: Range<Int>, today: Int64?,
                        span: Bool = true) -> FoundDate {
        var (a, b) = (points[0].date, points[1].date)
        if a.month == nil { a.month = b.month }
        if b.year == nil {
            if let year = a.year {
                b.year = year
            } else if let month = b.month {
                b.year = impliedYear(month: month, day: b.day, at: range.lowerBound, today: today)
            }
        }
        if a.year == nil, let year = b.year {
            // "December to February 2025" starts the year before.
            a.year = (a.month ?? 1) > (b.month ?? 12) ? year - 1 : year
        }
        // "from July to October" with no year: a season, no dates.
        if points[0].date.year == nil && points[1].date.year == nil && a.day == nil && b.day == nil {
            return FoundDate(range: range, points: [])
        }
        let start = a.value, end = b.value
        var found = FoundDate(range: range, points: [(points[0].range, start), (points[1].range, end)])
        if span, let start, let end, let whole = TimestampValue(from: start, to: end) { found.span = (joiner, whole) }
        return found
    }

    private static let monthPrepositions: Set<String> = ["in", "since", "by", "until", "till", "from", "of", "before", "after", "during",
                                                          "early", "late", "mid", "end", "throughout", "through", "between"]

    private static let seasonal: Set<String> = ["late", "early", "mid", "every", "each", "around", "throughout", "in late", "in early"]

    /// Whether a month named alone at token i is within three months of the turn's day, not
    /// "late October" or "every May", not the verb ("may") or part of a name ("October Revolution").
    private func monthIsNear(_ i: Int, month: Int, today: Int64) -> Bool {
        let previous = i > 0 && tokens[i - 1].sentence == tokens[i].sentence ? tokens[i - 1].lower : ""
        if Self.seasonal.contains(previous) || previous.hasSuffix("-") { return false }
        // "Dry January", "Black History Month": a name.
        if i > 0, tokens[i - 1].capitalized, !tokens[i - 1].sentenceStart, tokens[i - 1].sentence == tokens[i].sentence { return false }
        if ["may", "march"].contains(tokens[i].lower), !Self.monthPrepositions.contains(previous) { return false }
        if i + 1 < tokens.count, tokens[i + 1].kind == .word, tokens[i + 1].capitalized, tokens[i + 1].sentence == tokens[i].sentence {
            return false
        }
        let now = CalendarDay.civil(today)
        let distance = (month - now.month + 12) % 12
        return distance <= 3 || distance >= 9
    }

    /// The year of a date stated without one: a year stated earlier in the sentence ("1912, on 15
    /// April"), else a date with a year just after it ("on May 14 and back on May 22, 2025"), else
    /// the occurrence nearest the turn's day; nil without any of them.
    private func impliedYear(month: Int, day: Int?, at i: Int, today: Int64?) -> Int? {
        let sentence = tokens[i].sentence
        var k = i - 1
        while k >= 0, tokens[k].sentence == sentence {
            if let year = yearNumber(k) { return year }
            k -= 1
        }
        k = i + 1
        while k < tokens.count, tokens[k].sentence == sentence, k < i + 12 {
            if let year = yearNumber(k), k > 0, monthAt(k - 1) != nil || (k > 1 && tokens[k - 1].lower == "," && dayNumber(k - 2) != nil) {
                return year
            }
            k += 1
        }
        guard let today else { return nil }
        let now = CalendarDay.civil(today)
        let target = CalendarDay.of(now.year, month, min(day ?? 15, TimestampValue.daysIn(year: now.year, month: month)))
        // More than half a year away: the same day in the neighbouring year is nearer.
        if target - today > 183 { return now.year - 1 }
        if today - target > 183 { return now.year + 1 }
        return now.year
    }
}

// MARK: - Dates relative to the turn's day

extension Segment {
    private static let yesterdays: Set<String> = ["yesterday", "yesterday's", "yestreday", "yesterady", "yesturday", "yday"]
    private static let tomorrows: Set<String> = ["tomorrow", "tomorrow's", "tomorow", "tommorow", "tommorrow", "tmrw", "tmr"]
    private static let todays: Set<String> = ["today", "today's"]
    /// "still standing today", "remains today": today as opposed to the past, not the turn's date.
    private static let nowadays: Set<String> = ["remains", "remain", "visible", "standing", "still", "survives", "survive", "exists",
                                                "exist", "even", "until", "till", "up", "used", "known"]
    private static let nowadaysFollowers: Set<String> = ["it", "they", "he", "she", "there", "roughly", "about", "around", "many", "most",
                                                        "some", "its", "their", "only", "more", "over", "nearly", "almost", "these", "such"]
    private static let weekdayNumbers: [String: Int] = [
        "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
        "mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4, "sat": 5, "sun": 6,
    ]
    /// Holidays named after a weekday: not the weekday.
    private static let weekdayCompounds: Set<String> = ["black", "good", "cyber", "super", "ash", "easter", "palm", "holy", "maundy",
                                                       "giving", "every", "each", "blue", "bloody", "casual", "manic", "the", "that", "a"]

    /// Every word a relative date can start with.
    static let relativeStarts: Set<String> = {
        var words = yesterdays.union(tomorrows).union(todays).union(["the", "in", "last", "next", "this", "coming", "ago", "a", "an"])
        for day in weekdayNumbers.keys { words.formUnion([day, day + "'s", day + "’s"]) }
        words.formUnion(Lexicon.numberWords.keys)
        return words
    }()

    private static let ordinals: Set<String> = ["first", "second", "third", "fourth", "fifth", "last", "final", "every", "each", "1st", "2nd",
                                               "3rd", "4th", "5th"]

    /// A number word or numeral counting days, weeks, months or years ("two", "10", "a").
    private func count(_ i: Int) -> Int? {
        guard i < tokens.count else { return nil }
        let word = tokens[i].lower
        if let n = Lexicon.numberWords[word] { return n }
        if word == "a" || word == "an" { return 1 }
        if tokens[i].kind == .number, word.utf8.count <= 3, let n = Int(word) { return n }
        return nil
    }

    private enum Unit { case day, week, month, year }

    private func unit(_ i: Int) -> Unit? {
        guard i < tokens.count else { return nil }
        switch tokens[i].lower {
        case "day", "days": return .day
        case "week", "weeks": return .week
        case "month", "months": return .month
        case "year", "years": return .year
        default: return nil
        }
    }

    private func shifted(_ today: Int64, _ n: Int, _ unit: Unit) -> TimestampValue? {
        switch unit {
        case .day: return CalendarDay.value(today + Int64(n))
        case .week: return CalendarDay.value(today + Int64(7 * n))
        case .month: return CalendarDay.month(of: today, plus: n)
        case .year: return TimestampValue(year: CalendarDay.civil(today).year + n)
        }
    }

    private func relativeWeekday(_ weekday: Int, today: Int64, strictlyBefore: Bool?) -> TimestampValue? {
        let now = CalendarDay.weekday(today)
        switch strictlyBefore {
        case true?:
            let back = (now - weekday + 7) % 7
            return CalendarDay.value(today - Int64(back == 0 ? 7 : back))
        case false?:
            let ahead = (weekday - now + 7) % 7
            return CalendarDay.value(today + Int64(ahead == 0 ? 7 : ahead))
        case nil:
            return CalendarDay.value(today + Int64((weekday - now + 7) % 7))
        }
    }

    private func weekdayNumber(_ i: Int) -> Int? {
        guard i < tokens.count, tokens[i].kind == .word else { return nil }
        var word = tokens[i].lower
        if word.hasSuffix("'s") || word.hasSuffix("’s") { word.removeLast(2) }
        guard let n = Self.weekdayNumbers[word] else { return nil }
        // The short forms ("Sat", "Thu") only as written in schedules, capitalised and no more ("SAT" is a test).
        if !word.hasSuffix("day") {
            let text = tokens[i].text.unicodeScalars
            guard let first = text.first, Scalars.isUpper(first), text.dropFirst().allSatisfy(Scalars.isLower) else { return nil }
        }
        return n
    }

    /// A date relative to the turn's day at token i.
    func relativeDate(at i: Int, today: Int64) -> FoundDate? {
        let word = tokens[i].lower
        // One look-up decides for most tokens: only these words (and numbers) can start a relative date.
        guard tokens[i].kind == .number || Self.relativeStarts.contains(word) else { return nil }
        func one(_ range: Range<Int>, _ value: TimestampValue?) -> FoundDate { FoundDate(range: range, points: [(range, value)]) }
        if word == "the", i + 3 < tokens.count, tokens[i + 1].lower == "day" {
            if tokens[i + 2].lower == "before", Self.yesterdays.contains(tokens[i + 3].lower) { return one(i..<(i + 4), CalendarDay.value(today - 2)) }
            if tokens[i + 2].lower == "after", Self.tomorrows.contains(tokens[i + 3].lower) { return one(i..<(i + 4), CalendarDay.value(today + 2)) }
        }
        if Self.yesterdays.contains(word) { return one(i..<(i + 1), CalendarDay.value(today - 1)) }
        if Self.tomorrows.contains(word) { return one(i..<(i + 1), CalendarDay.value(today + 1)) }
        if Self.todays.contains(word) {
            if i > 0, Self.nowadays.contains(tokens[i - 1].lower) { return nil }
            // "Today it is held every May", "and today it occupies …": nowadays, opening a clause.
            let opensClause = tokens[i].sentenceStart || i > 0 && [",", "and", "but", ";"].contains(tokens[i - 1].lower)
            if opensClause, i + 1 < tokens.count, tokens[i + 1].sentence == tokens[i].sentence, Self.nowadaysFollowers.contains(tokens[i + 1].lower) {
                return nil
            }
            return one(i..<(i + 1), CalendarDay.value(today))
        }
        // "the 14th of this month"
        if word == "the", let day = dayNumber(i + 1), i + 4 < tokens.count, tokens[i + 2].lower == "of",
           ["this", "last", "next"].contains(tokens[i + 3].lower), tokens[i + 4].lower == "month" {
            let shift = tokens[i + 3].lower == "this" ? 0 : tokens[i + 3].lower == "last" ? -1 : 1
            guard let month = CalendarDay.month(of: today, plus: shift) else { return nil }
            return one(i..<(i + 5), StatedDate(year: month.year, month: month.month, day: day).value)
        }
        // "three days ago", "2 weeks ago"; "30 years ago today" is an anniversary: today is the date,
        // "30 years" a quantity.
        if let n = count(i), let unit = unit(i + 1), i + 2 < tokens.count, tokens[i + 2].lower == "ago" {
            if i + 3 < tokens.count, Self.todays.contains(tokens[i + 3].lower) { return nil }
            return one(i..<(i + 3), shifted(today, -n, unit))
        }
        if word == "ago", i > 0, unit(i - 1) != nil, i + 1 < tokens.count, Self.todays.contains(tokens[i + 1].lower) {
            return one((i + 1)..<(i + 2), CalendarDay.value(today))
        }
        // "in two weeks", "in 10 days' time": a time ahead, not a duration ("grew 6 cm in 12 months").
        if word == "in", let n = count(i + 1), let unit = unit(i + 2), inIsAhead(at: i) {
            var end = i + 3
            if end < tokens.count, ["time", "'", "’"].contains(tokens[end].lower) { end += tokens[end].lower == "time" ? 1 : 0 }
            if end + 1 < tokens.count, ["'", "’"].contains(tokens[end].lower), tokens[end + 1].lower == "time" { end += 2 }
            return one(i..<end, shifted(today, n, unit))
        }
        // "last/next/this Friday", "this coming Friday", "next month", "this year".
        if ["last", "next", "this", "coming"].contains(word) {
            var k = i + 1
            if word == "this", k < tokens.count, tokens[k].lower == "coming" { k += 1 }
            if let weekday = weekdayNumber(k) {
                // "the last Sunday of March" is a rule, not a day.
                if k + 1 < tokens.count, tokens[k + 1].lower == "of" || i > 0 && tokens[i - 1].lower == "the" { return nil }
                let strictly: Bool? = word == "last" ? true : word == "next" ? false : nil
                return one(i..<(k + 1), relativeWeekday(weekday, today: today, strictlyBefore: strictly))
            }
            guard k == i + 1, k < tokens.count, word != "coming" else { return nil }
            // "the last year" and "the next month" are durations, not the calendar's.
            if i > 0, ["the", "past", "over", "for"].contains(tokens[i - 1].lower) { return nil }
            let shift = word == "last" ? -1 : word == "next" ? 1 : 0
            switch tokens[k].lower {
            case "month", "month's": return one(i..<(k + 1), CalendarDay.month(of: today, plus: shift))
            case "year", "year's": return one(i..<(k + 1), TimestampValue(year: CalendarDay.civil(today).year + shift))
            default: return nil
            }
        }
        // A weekday alone, or after "on", "since", "by": its tense says which.
        if let weekday = weekdayNumber(i) {
            let previous = i > 0 && tokens[i - 1].sentence == tokens[i].sentence ? tokens[i - 1].lower : ""
            if Self.weekdayCompounds.contains(previous) || Self.ordinals.contains(previous) || previous.hasSuffix("'s") || previous.hasSuffix("’s")
                || tokens[i].lower.hasSuffix("s") && !tokens[i].lower.hasSuffix("'s") {
                return nil
            }
            if i + 1 < tokens.count, tokens[i + 1].sentence == tokens[i].sentence {
                let next = tokens[i + 1]
                // "Wednesday Addams", "the first Sunday of March", "Monday, 20 October" (the date says it).
                if next.kind == .word, next.capitalized, monthAt(i + 1) == nil { return nil }
                if next.lower == "of" { return nil }
                if next.lower == "," || next.lower == "(", i + 2 < tokens.count, dayNumber(i + 2) != nil || monthAt(i + 2) != nil { return nil }
            }
            // "28 April (Monday)"
            if previous == "(" || previous == ",", i > 1, dayNumber(i - 2) != nil || monthAt(i - 2) != nil || yearNumber(i - 2) != nil {
                return nil
            }
            // "Monday to Friday", "Mon–Fri": a schedule, not a day.
            if i + 2 < tokens.count, ["to", "-", "–", "through", "thru", "and", "or", "/"].contains(tokens[i + 1].lower),
               weekdayNumber(i + 2) != nil { return nil }
            if i > 1, ["to", "-", "–", "through", "thru", "and", "or", "/"].contains(previous), weekdayNumber(i - 2) != nil { return nil }
            if i + 1 < tokens.count, ["night", "nights", "mornings", "evenings"].contains(tokens[i + 1].lower), previous != "on" {
                if tokens[i + 1].lower.hasSuffix("s") { return nil }
            }
            let start = ["on", "since", "by", "until", "till", "for", "before"].contains(previous) ? i - 1 : i
            let strictly: Bool?
            switch previous {
            case "since": strictly = true
            case "by", "until", "till", "for", "before": strictly = nil
            default:
                switch tense(around: i) {
                case .past?: strictly = true
                case .future?: strictly = nil
                case nil: strictly = previous == "on" ? nil : true
                }
            }
            return one(start..<(i + 1), relativeWeekday(weekday, today: today, strictlyBefore: strictly))
        }
        return nil
    }

    /// Whether "in N days" at i is a time ahead, not a duration: not after a number or a unit ("5 km
    /// in 9 weeks", "10% in 3 weeks"), not "the first title in 50 years".
    private func inIsAhead(at i: Int) -> Bool {
        let sentence = tokens[i].sentence
        if i > 0, tokens[i - 1].sentence == sentence {
            let previous = tokens[i - 1]
            if previous.kind == .number || previous.lower == "%" || Self.unitSymbols.contains(previous.text) || Lexicon.units.contains(previous.lower) {
                return false
            }
        }
        var k = i - 1
        while k >= 0, tokens[k].sentence == sentence, k >= i - 12 {
            if ["first", "once", "twice", "times", "only", "per", "every", "within", "than", "most"].contains(tokens[k].lower) { return false }
            k -= 1
        }
        return true
    }

    enum Tense { case past, future }

    private static let pastWords: Set<String> = [
        "was", "were", "did", "had", "got", "went", "came", "saw", "said", "told", "made", "took", "gave", "ran", "began", "won",
        "lost", "left", "met", "bought", "sold", "paid", "fell", "broke", "wrote", "sent", "felt", "found", "heard", "kept", "thought",
        "brought", "caught", "ate", "drank", "drove", "flew", "spent", "yesterday", "ago", "since", "wasn't", "weren't", "didn't",
        "hadn't", "stole", "swam", "rode", "sang", "won", "beat", "hit", "cut", "put", "shut", "hurt", "threw", "grew", "knew", "drew",
        "woke", "wore", "tore", "chose", "froze", "spoke", "stood", "sat", "slept", "taught", "fought", "sought", "held", "led", "fed",
        "bled", "dealt", "meant", "built", "lent", "bent", "dug", "stuck", "struck", "hung", "swung", "rang", "sank", "shrank", "last",
    ]
    private static let futureWords: Set<String> = [
        "will", "'ll", "i'll", "we'll", "you'll", "he'll", "she'll", "they'll", "it'll", "going", "gonna", "shall", "is", "are", "am",
        "i'm", "we're", "you're", "he's", "she's", "it's", "they're", "plan", "planning", "want", "wants", "hope", "hoping", "can",
        "need", "needs", "have", "has", "next", "tomorrow", "coming", "upcoming", "won't", "isn't", "aren't", "should", "must",
        "would", "could", "let's", "starts", "begins", "opens", "arrives", "leaves", "due", "scheduled", "booked",
    ]
    /// "-ed" words that are no past tense.
    private static let edNotPast: Set<String> = ["need", "needed", "based", "bed", "red", "speed", "seed", "feed", "shed", "weed", "breed",
                                                "used", "supposed", "scheduled", "booked", "planned", "expected", "interested", "tired",
                                                "excited", "worried", "married", "related", "allowed", "required", "advanced", "limited",
                                                "detailed", "hundred", "sacred", "wicked", "naked", "ragged", "beloved"]

    private func cue(_ k: Int, regular: Bool = true) -> Tense? {
        let word = tokens[k].lower
        guard tokens[k].kind == .word else { return nil }
        if Self.pastWords.contains(word) { return .past }
        if Self.futureWords.contains(word) { return .future }
        if regular, word.hasSuffix("ed"), word.utf8.count > 4, !Self.edNotPast.contains(word), !tokens[k].capitalized || tokens[k].sentenceStart {
            return .past
        }
        return nil
    }

    /// The tense of the clause around token i: the nearest cue before it in its clause, else after
    /// it in its clause, else anywhere in the sentence.
    func tense(around i: Int) -> Tense? {
        let sentence = tokens[i].sentence
        func boundary(_ k: Int) -> Bool { [",", ";", ":", "—", "(", ")", "but"].contains(tokens[k].lower) }
        var k = i - 1
        while k >= 0, tokens[k].sentence == sentence, !boundary(k) {
            if let t = cue(k) { return t }
            k -= 1
        }
        k = i + 1
        while k < tokens.count, tokens[k].sentence == sentence, !boundary(k) {
            if let t = cue(k) { return t }
            k += 1
        }
        // Beyond the clause only the irregular words count: "-ed" there is as often an adjective ("3.6% fixed").
        var best: (distance: Int, tense: Tense)?
        k = i - 1
        while k >= 0, tokens[k].sentence == sentence {
            if let t = cue(k, regular: false) { best = (i - k, t); break }
            k -= 1
        }
        k = i + 1
        while k < tokens.count, tokens[k].sentence == sentence, k - i < (best?.distance ?? Int.max) {
            if let t = cue(k, regular: false) { best = (k - i, t); break }
            k += 1
        }
        return best?.tense
    }
}
