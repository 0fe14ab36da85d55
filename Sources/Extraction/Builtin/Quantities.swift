/// Quantities as the corpus labels them: a number with its currency ("$1,200", "CHF 40", "₹1.5
/// lakh"), percent sign, unit ("25 basis points", "20 W", "38 °C", "53 mmol/mol", "90 km/h", "1 mg
/// per pound") or counted noun ("3 tablets", "seven swing states"), ranges whole ("10 to 15 minutes",
/// "$30 to $40", "60–70%") and durations in parts ("2 hours 15 minutes"). A unit, an era or a currency
/// alone (GB, IU, CHF) is no entity: inside a quantity it is taken with it, after a clock time
/// ("17:00 JST") it is kept from becoming a name.
extension Segment {
    /// Units written as symbols or abbreviations, matched as written ("W" is watts, "w" nothing).
    static let unitSymbols: Set<String> = [
        "W", "kW", "MW", "GW", "mW", "Wh", "kWh", "MWh", "GWh", "TWh", "kWp", "V", "kV", "mV", "A", "mA", "mAh", "Ah", "Hz", "kHz",
        "MHz", "GHz", "THz", "B", "KB", "kB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "Ki", "Mi", "Gi", "Kb", "Mb", "Gb",
        "kbps", "Kbps", "Mbps", "Gbps", "Mbit", "Gbit", "ms", "µs", "ns", "s", "h", "hr", "hrs", "min", "mins", "sec", "secs", "K",
        "M", "L", "l", "mL", "ml", "dL", "cl", "cL", "g", "kg", "mg", "µg", "mcg", "ng", "t", "lb", "lbs", "oz", "km", "m", "cm",
        "mm", "µm", "nm", "mi", "ft", "yd", "m²", "km²", "cm²", "mm²", "m³", "cm³", "ha", "dB", "dBm", "Pa", "hPa", "kPa", "MPa",
        "bar", "psi", "atm", "mmHg", "mol", "mmol", "µmol", "nmol", "J", "kJ", "MJ", "cal", "kcal", "Cal", "N", "Nm", "rpm", "bpm",
        "fps", "ppm", "ppb", "mph", "kph", "kmh", "kt", "kn", "lux", "lm", "Da", "kDa", "eV", "keV", "MeV", "GeV", "TeV", "IU",
        "mpg", "wpm", "px", "pt", "yo", "bp", "Mt", "Gt", "kt", "µSv", "mSv", "Sv", "Gy", "mGy", "AU", "ly", "pc", "kpc", "Mpc",
    ]

    /// Units and measures written as words, lowercase.
    static let unitNames: Set<String> = [
        "second", "seconds", "minute", "minutes", "hour", "hours", "day", "days", "week", "weeks", "month", "months", "year", "years",
        "decade", "decades", "century", "centuries", "millennia", "nights", "night", "kilogram", "kilograms", "gram", "grams",
        "milligram", "milligrams", "microgram", "micrograms", "pound", "pounds", "ounce", "ounces", "tonne", "tonnes", "ton", "tons",
        "kilometre", "kilometres", "kilometer", "kilometers", "metre", "metres", "meter", "meters", "centimetre", "centimetres",
        "centimeters", "millimetres", "millimeters", "mile", "miles", "foot", "feet", "inch", "inches", "yard", "yards", "litre",
        "litres", "liter", "liters", "millilitres", "milliliters", "gallon", "gallons", "cup", "cups", "tablespoon", "tablespoons",
        "teaspoon", "teaspoons", "tbsp", "tsp", "calories", "calorie", "kcal", "degrees", "degree", "percent", "watts", "watt",
        "kilowatts", "volts", "amps", "hertz", "bytes", "kilobytes", "megabytes", "gigabytes", "terabytes", "petabytes",
        "light-years", "light-year", "hectares", "hectare", "acres", "acre", "knots", "atmospheres", "pixels", "semitones",
        "points", "point", "times", "steps", "kg", "km", "mg", "ml", "gb", "mb", "tb", "lb", "lbs", "oz", "cm", "mm", "mins", "hrs",
        "secs", "sq", "mmhg", "ghz", "mhz", "khz", "kwh", "mbps", "gbps", "bpm", "fps", "rpm", "mph", "ppm", "iu",
    ]

    /// Two-word units ("25 basis points").
    static let unitPhrases: Set<String> = [
        "basis points", "basis point", "percentage points", "percentage point", "business days", "working days", "light years",
        "square metres", "square meters", "square feet", "square miles", "square kilometres", "square kilometers", "cubic metres",
        "cubic meters", "sq ft", "sq m", "us cups", "fluid ounces", "fl oz", "metric tons", "metric tonnes", "per cent",
        "peak sun hours", "man hours", "person days",
    ]

    /// ISO currency codes written before an amount ("CHF 40").
    static let currencyCodes: Set<String> = [
        "USD", "EUR", "GBP", "CHF", "JPY", "CNY", "RMB", "INR", "AUD", "CAD", "NZD", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "HKD",
        "SGD", "ZAR", "BRL", "MXN", "KRW", "TRY", "AED", "SAR", "ILS", "THB", "IDR", "MYR", "PHP", "VND", "NGN", "KES", "EGP",
        "RUB", "UAH", "ARS", "CLP", "COP", "PEN", "TWD", "ISK",
    ]

    /// Measures named before the number ("pH 7.8", "Mach 2.04", "SPF 50").
    private static let prefixMeasures: Set<String> = ["pH", "Mach", "SPF"]

    /// Clock times' zones: after "17:00" they belong to the time, not to a name.
    private static let timeZones: Set<String> = ["UTC", "GMT", "JST", "CET", "CEST", "EET", "EEST", "WET", "BST", "IST", "EST", "EDT",
                                                 "CST", "CDT", "MST", "MDT", "PST", "PDT", "AEST", "AEDT", "KST", "HKT", "SGT", "Z"]

    static let multipliers: Set<String> = ["thousand", "million", "billion", "trillion", "lakh", "crore", "bn", "mn"]

    /// Words after "N" that make it a label, not a quantity ("type 2", "version 3", "stage 4").
    private static let labelWords: Set<String> = ["type", "version", "level", "stage", "grade", "phase", "class", "category", "tier",
                                                  "step", "section", "chapter", "page", "room", "gate", "platform", "route", "line",
                                                  "number", "no", "size", "season", "episode", "round", "game", "act", "article",
                                                  "rule", "item", "question", "part", "series", "generation", "gen", "model"]

    private static let irregularPlurals: Set<String> = ["children", "people", "men", "women", "feet", "teeth", "mice", "sheep", "fish",
                                                        "staff", "aircraft", "personnel", "cattle", "police", "deer", "offspring"]

    /// The value of a number word, including hyphenated tens ("twenty-five").
    private func numberWord(_ i: Int) -> Bool {
        let token = tokens[i]
        guard token.kind == .word, !token.capitalized || token.sentenceStart else { return false }
        if Lexicon.numberWords[token.lower] != nil { return !["hundred", "dozen"].contains(token.lower) }
        guard token.lower.utf8.contains(UInt8(ascii: "-")) else { return false }
        let parts = token.lower.split(separator: "-")
        return parts.count == 2 && parts.allSatisfy { Lexicon.numberWords[String($0)] != nil }
    }

    /// A numeral ("3", "1,200", "3.5", "60-70") or a number word at i.
    private func isAmount(_ i: Int) -> Bool {
        guard i < tokens.count else { return false }
        let token = tokens[i]
        if token.kind == .number {
            let scalars = token.lower.unicodeScalars
            guard scalars.allSatisfy({ Scalars.isDigit($0) || $0 == "," || $0 == "." || $0 == "-" }), scalars.last.map(Scalars.isDigit) == true
            else { return false }
            // "60-70" is a range; "2024-05-14" a date, not an amount.
            return scalars.filter { $0 == "-" }.count <= 1
        }
        return numberWord(i)
    }

    private func adjacent(_ a: Int, _ b: Int) -> Bool { b < tokens.count && tokens[a].end == tokens[b].start }

    /// A unit starting at token u (after an amount): its end, or nil.
    private func unit(at u: Int, amount: Int) -> Int? {
        guard u < tokens.count, tokens[u].sentence == tokens[amount].sentence else { return nil }
        let token = tokens[u]
        // "°C", "°F", "°"
        if token.lower == "°" {
            if u + 1 < tokens.count, adjacent(u, u + 1), ["C", "F", "K"].contains(tokens[u + 1].text) { return u + 2 }
            return u + 1
        }
        guard token.kind == .word else { return nil }
        if u + 1 < tokens.count, Self.unitPhrases.contains(token.lower + " " + tokens[u + 1].lower) { return u + 2 }
        if u + 2 < tokens.count, Self.unitPhrases.contains(token.lower + " " + tokens[u + 1].lower + " " + tokens[u + 2].lower) { return u + 3 }
        if Self.unitSymbols.contains(token.text) || Self.unitNames.contains(token.lower) { return u + 1 }
        return nil
    }

    /// After a unit: "/month", "/(m²·K)"-free compounds ("mmol/mol", "km/h", "L/100km", "mg/5 mL") and "per pound".
    private func compoundUnit(after end: Int) -> Int {
        var end = end
        while end + 1 < tokens.count, tokens[end].lower == "/", adjacent(end - 1, end), adjacent(end, end + 1) {
            if let next = unit(at: end + 1, amount: end - 1) {
                end = next
            } else if tokens[end + 1].kind == .number, isCompactUnit(end + 1) || unit(at: end + 2, amount: end + 1) != nil {
                end = isCompactUnit(end + 1) ? end + 2 : unit(at: end + 2, amount: end + 1)!
            } else {
                break
            }
        }
        // A rate over time: "20 meteors per hour", "18% per year" (not "$66 a month", "€20 per person").
        if end + 1 < tokens.count, tokens[end].lower == "per", tokens[end].sentence == tokens[end - 1].sentence,
           Self.rateUnits.contains(tokens[end + 1].lower) {
            end += 2
        }
        return end
    }

    private static let rateUnits: Set<String> = ["second", "minute", "hour", "day", "week", "month", "year"]

    /// A number with its unit in one token: "50kg", "5km", "100km", "$24M"'s "24M".
    private func isCompactUnit(_ i: Int) -> Bool {
        guard i < tokens.count, tokens[i].kind == .number else { return false }
        let text = tokens[i].text
        let letters = String(text.unicodeScalars.drop { Scalars.isDigit($0) || $0 == "." || $0 == "," })
        guard !letters.isEmpty, letters.unicodeScalars.allSatisfy({ Scalars.isLetter($0) || $0 == "²" || $0 == "³" }) else { return false }
        return Self.unitSymbols.contains(letters) && !["s", "m", "M", "t", "h", "B", "A", "N", "K", "l"].contains(letters)
            || ["km", "kg", "mg", "ml", "mm", "cm", "gb", "mb", "tb"].contains(letters)
    }

    /// A counted noun after an amount: a plural word, with at most one modifier before it
    /// ("seven swing states", "9 protected characteristics").
    private func countedNoun(at u: Int, amount: Int) -> Int? {
        func plural(_ k: Int) -> Bool {
            guard k < tokens.count, tokens[k].kind == .word, tokens[k].sentence == tokens[amount].sentence else { return false }
            let word = tokens[k].lower
            if tokens[k].capitalized && !tokens[k].innerCaps, k > amount + 1 || !tokens[k].sentenceStart { return false }
            if Self.irregularPlurals.contains(word) { return true }
            guard word.hasSuffix("s"), word.utf8.count > 3, !word.hasSuffix("ss"), !word.hasSuffix("us"), !word.hasSuffix("is"),
                  !word.hasSuffix("'s"), !Lexicon.notCounted.contains(word), !Lexicon.commonWords.contains(word) else { return false }
            return true
        }
        func modifier(_ k: Int) -> Bool {
            guard k < tokens.count, tokens[k].kind == .word, !tokens[k].capitalized, tokens[k].sentence == tokens[amount].sentence else {
                return false
            }
            let word = tokens[k].lower
            return !Lexicon.notCounted.contains(word) && !Lexicon.commonWords.contains(word) && !word.hasSuffix("s")
                && !word.hasSuffix("ing") && Lexicon.months[word] == nil
        }
        if plural(u) { return u + 1 }
        if modifier(u), plural(u + 1) { return u + 2 }
        return nil
    }

    enum Measured { case none, counted, unit }

    /// One amount and what measures it, from token i: the end of the quantity, how it is
    /// measured, and the unit's text (to tell "$30 to $40" from "50 basis points to 4.75%").
    private func measure(at i: Int) -> (end: Int, measured: Measured, unit: String)? {
        guard i < tokens.count else { return nil }
        // Most words start no quantity: only a capitalised one (a currency code, "US$", "pH") or a number word can.
        if tokens[i].kind == .word, !tokens[i].capitalized, tokens[i].text != "pH", !numberWord(i) { return nil }
        var k = i
        var measured = false
        let token = tokens[i]
        // A currency before the amount: "$", "€", "US$", "A$", "CHF ".
        if token.kind == .punct, Lexicon.currencySymbols.contains(scalars[token.start]), adjacent(i, i + 1) {
            k = i + 1
            measured = true
        } else if token.kind == .word, ["US", "A", "S", "C", "NZ", "HK"].contains(token.text), i + 2 < tokens.count, adjacent(i, i + 1),
                  tokens[i + 1].lower == "$", adjacent(i + 1, i + 2) {
            k = i + 2
            measured = true
        } else if token.kind == .word, Self.currencyCodes.contains(token.text) || Self.prefixMeasures.contains(token.text), i + 1 < tokens.count,
                  tokens[i + 1].kind == .number {
            k = i + 1
            measured = true
        } else if ["−", "-", "+"].contains(token.lower), adjacent(i, i + 1), i + 1 < tokens.count, tokens[i + 1].kind == .number,
                  i == 0 || !adjacent(i - 1, i) {
            k = i + 1
        }
        let currency = measured ? tokens[i].lower : ""
        if k < tokens.count, tokens[k].kind == .number, isCompactUnit(k) { return (compoundUnit(after: k + 1), .unit, "") }
        // "$24M", "€3bn"
        if measured, k < tokens.count, tokens[k].kind == .number {
            let letters = String(tokens[k].text.unicodeScalars.drop { Scalars.isDigit($0) || $0 == "." || $0 == "," })
            if ["k", "K", "M", "m", "bn", "B", "mn", "tn"].contains(letters) { return (compoundUnit(after: k + 1), .unit, currency) }
        }
        guard isAmount(k) else { return nil }
        var end = k + 1
        if end < tokens.count, tokens[end].lower == "%", adjacent(k, end) {
            return (compoundUnit(after: end + 1), .unit, "%")
        }
        if end < tokens.count, Self.multipliers.contains(tokens[end].lower) || (measured && ["k", "m"].contains(tokens[end].lower)) {
            end += 1
        }
        if let u = unit(at: end, amount: k) {
            // "a 38 year old", "a 12 month contract": a singular unit after a plural amount describes.
            let singular = ["year", "month", "week", "day", "hour", "minute"].contains(tokens[end].lower)
            if singular, tokens[k].lower != "1", tokens[k].lower != "one" { return nil }
            return (compoundUnit(after: u), .unit, tokens[u - 1].lower)
        }
        if measured { return (compoundUnit(after: end), .unit, currency) }
        if let u = countedNoun(at: end, amount: k) { return (compoundUnit(after: u), .counted, tokens[u - 1].lower) }
        return (end, .none, "")
    }

    private static let rangeJoiners: Set<String> = ["to", "-", "–", "—", "or"]

    /// A quantity at token i: its tokens.
    func quantity(at i: Int) -> Range<Int>? {
        guard i < tokens.count, let first = measure(at: i) else { return nil }
        var end = first.end
        var measured = first.measured
        // A range: "10 to 15 minutes", "$30 to $40", "6% to 10%", "60–70%", "two or three years"; not
        // a change ("from 62 ms to 38 ms") or two measures ("50 basis points to 4.75%").
        if end + 1 < tokens.count, Self.rangeJoiners.contains(tokens[end].lower), tokens[end].sentence == tokens[i].sentence,
           tokens[end].lower != "or" || first.measured == .none, let second = measure(at: end + 1), second.measured != .none,
           first.measured == .none || (second.unit == first.unit && !(i > 0 && tokens[i - 1].lower == "from")),
           ["-", "–", "—"].contains(tokens[end].lower) ? adjacent(end - 1, end) == adjacent(end, end + 1) : true {
            end = second.end
            measured = second.measured
        }
        guard measured != .none else { return nil }
        // Part of a name ("Model 3 owners", "Windows 11 machines") or a label ("type 2 diabetes"):
        // a word just before a number that only counts.
        if measured == .counted, tokens[i].kind == .number, i > 0, tokens[i - 1].sentence == tokens[i].sentence {
            let previous = tokens[i - 1]
            if previous.kind == .word, (previous.capitalized || previous.innerCaps) && (!previous.sentenceStart || previous.innerCaps) {
                return nil
            }
        }
        if tokens[i].kind == .number, i > 0, Self.labelWords.contains(tokens[i - 1].lower) { return nil }
        // A year or "one"/"1" counts nothing by itself ("2024 runs", "1 gives").
        if measured == .counted, end == first.end, tokens[i].kind == .number, yearNumber(i) != nil { return nil }
        if measured == .counted, end == first.end, ["one", "1"].contains(tokens[i].lower) { return nil }
        // Durations in parts: "2 hours 15 minutes", "8 days 3 h 18 min".
        while end < tokens.count, isAmount(end), tokens[end].sentence == tokens[i].sentence, let u = unit(at: end + 1, amount: end),
              Self.timeUnits.contains(tokens[end + 1].lower), Self.timeUnits.contains(tokens[end - 1].lower) {
            end = u
        }
        return i..<end
    }

    private static let timeUnits: Set<String> = ["h", "hr", "hrs", "hour", "hours", "min", "mins", "minute", "minutes", "s", "sec", "secs",
                                                 "second", "seconds", "day", "days", "week", "weeks", "month", "months", "year", "years"]

    /// A clock time's zone ("17:00 JST", "08:50 UTC"): kept from becoming a name.
    func timeZone(at i: Int) -> Range<Int>? {
        guard i + 1 < tokens.count, tokens[i].kind == .number, tokens[i].lower.contains(":") || tokens[i].lower.hasSuffix("z"),
              Self.timeZones.contains(tokens[i + 1].text) else { return nil }
        return i..<(i + 2)
    }
}
