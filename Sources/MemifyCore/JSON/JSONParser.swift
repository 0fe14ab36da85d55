import CScan
import Glibc

/// Why a JSON document could not be parsed, with the byte offset where it went wrong.
package struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String
    /// Byte offset into the input (equal to Python's character offset for ASCII JSON).
    package var offset: Int

    package init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    package var description: String { "\(message) at byte \(offset)" }
}

/// A JSON parser that accepts exactly what Python's `json.loads` accepts (cognee's reader):
/// `NaN`, `Infinity` and `-Infinity`; integers of any length (up to Python's 4300-digit limit);
/// no raw control characters inside strings; duplicate keys, the last one winning.
///
/// It works on UTF-8 bytes and validates the UTF-8 of every string. It is stricter than Python
/// in one place: an unpaired UTF-16 surrogate escape (`"\ud800"`) is an error, because such a
/// string has no UTF-8 form and could not be stored in PostgreSQL or printed.
package struct JSONParser: ~Copyable {
    /// Python's recursion limit makes deeper documents fail there too.
    package static let maxDepth = 500
    static let maxIntegerDigits = 4300

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0
    private var scratch: [UInt8] = []

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Parses one complete JSON document; surrounding whitespace is allowed.
    package static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes)
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            throw JSONParseError(message: "Unexpected UTF-8 BOM", offset: 0)
        }
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.index != bytes.count {
            throw JSONParseError(message: "Extra data", offset: parser.index)
        }
        return value
    }

    package static func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONParseError) in try parse(buffer) }
        }
        if let result { return try result.get() }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { buffer throws(JSONParseError) in try parse(buffer) }
    }

    package static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Parses one complete document like ``parse(_:)-(UnsafeBufferPointer<UInt8>)``, but when
    /// it is an object, hands back only the values of the keys in `names` (slot `i` for
    /// `names[i]`; the last duplicate wins, as in Python) and no object. Other keys are parsed
    /// (so the document is validated the same) and dropped. Returns nil slots and the whole
    /// value when the document is not an object.
    package static func parseFields(_ bytes: UnsafeBufferPointer<UInt8>, names: [[UInt8]]) throws(JSONParseError)
        -> (fields: [JSONValue?], nonObject: JSONValue?) {
        var fields = [JSONValue?](repeating: nil, count: names.count)
        let nonObject = try fields.withUnsafeMutableBufferPointer { (buffer) throws(JSONParseError) -> JSONValue? in
            try parseFields(bytes, names: names, into: buffer)
        }
        return (nonObject == nil ? fields : [], nonObject)
    }

    /// ``parseFields(_:names:)`` into caller-provided slots (initialized, `names.count` of them),
    /// so that a caller decoding many small objects allocates nothing for them. Returns the
    /// whole value when the document is not an object (the slots are then left as they were).
    package static func parseFields(_ bytes: UnsafeBufferPointer<UInt8>, names: [[UInt8]],
                                   into fields: UnsafeMutableBufferPointer<JSONValue?>) throws(JSONParseError) -> JSONValue? {
        precondition(fields.count >= names.count)
        var parser = JSONParser(bytes)
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            throw JSONParseError(message: "Unexpected UTF-8 BOM", offset: 0)
        }
        parser.skipWhitespace()
        guard parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: "{") else {
            let value = try parser.parseValue()
            parser.skipWhitespace()
            if parser.index != bytes.count { throw JSONParseError(message: "Extra data", offset: parser.index) }
            return value
        }
        var position = 0  // cognee writes the keys in field order: try names[position] first
        try parser.enter()
        parser.index += 1
        parser.skipWhitespace()
        if parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: "}") {
            parser.index += 1
        } else {
            while true {
                guard parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: "\"") else {
                    throw JSONParseError(message: "Expecting property name enclosed in double quotes", offset: parser.index)
                }
                let slot = try parser.parseKeySlot(names, expected: position)
                position += 1
                parser.skipWhitespace()
                guard parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: ":") else {
                    throw JSONParseError(message: "Expecting ':' delimiter", offset: parser.index)
                }
                parser.index += 1
                parser.skipWhitespace()
                let value = try parser.parseValue()
                if let slot { fields[slot] = value }
                parser.skipWhitespace()
                guard parser.index < bytes.count else {
                    throw JSONParseError(message: "Expecting ',' delimiter", offset: parser.index)
                }
                if bytes[parser.index] == UInt8(ascii: ",") {
                    parser.index += 1
                    parser.skipWhitespace()
                    continue
                }
                if bytes[parser.index] == UInt8(ascii: "}") {
                    parser.index += 1
                    break
                }
                throw JSONParseError(message: "Expecting ',' delimiter", offset: parser.index)
            }
        }
        parser.depth -= 1
        parser.skipWhitespace()
        if parser.index != bytes.count { throw JSONParseError(message: "Extra data", offset: parser.index) }
        return nil
    }

    /// The fast path for objects laid out exactly as Python's `json.dumps` writes them with
    /// default separators: `{"a": v, "b": v}`, the keys `names` in that order, each value a
    /// string, `null`, or a non-negative integer of up to 18 digits, nothing before or after.
    ///
    /// Writes the values one after another to `text` (which has room for `bytes.count` bytes:
    /// a value is never longer than its JSON): a string's UTF-8, unescaped and validated; an
    /// integer's digits (bit `1 << slot` set in `numbers`); nothing for `null` (bit set in
    /// `nulls`). `ends[slot]` is where value `slot` ends in `text` (it starts where the one before
    /// ends). Returns true; returns false for any other document, which
    /// ``parseFields(_:names:into:)`` then parses (and judges) in full. What it accepts it reads
    /// exactly as the full parser does.
    package static func parseCanonicalFields(_ bytes: UnsafeBufferPointer<UInt8>, prefixes: CanonicalPrefixes,
                                            text: UnsafeMutablePointer<UInt8>, ends: UnsafeMutableBufferPointer<Int>,
                                            nulls: inout UInt64, numbers: inout UInt64) -> Bool {
        precondition(ends.count >= prefixes.count && prefixes.count <= 64)
        var parser = JSONParser(bytes)
        nulls = 0
        numbers = 0
        var written = 0
        func append(_ source: UnsafeBufferPointer<UInt8>) {
            if let from = source.baseAddress { (text + written).update(from: from, count: source.count) }
            written += source.count
        }
        for field in 0..<prefixes.count {
            guard prefixes.matches(field, bytes, at: parser.index) else { return false }
            parser.index += prefixes.length(field)
            guard parser.index < bytes.count else { return false }
            switch bytes[parser.index] {
            case UInt8(ascii: "\""):
                guard let (copied, found) = try? parser.copyDumpsString(to: text + written) else { return false }
                guard let found else {
                    written += copied
                    break
                }
                switch found {
                case .input(let start, let end, let ascii):
                    let segment = UnsafeBufferPointer(rebasing: bytes[start..<end])
                    guard ascii || (try? UTF8Span(validating: segment.span)) != nil else { return false }
                    append(segment)
                case .scratch:
                    parser.scratch.withUnsafeBufferPointer { append($0) }
                }
            case UInt8(ascii: "n"):
                guard parser.index + 4 <= bytes.count, bytes[parser.index + 1] == UInt8(ascii: "u"),
                      bytes[parser.index + 2] == UInt8(ascii: "l"), bytes[parser.index + 3] == UInt8(ascii: "l") else { return false }
                parser.index += 4
                nulls |= 1 << UInt64(field)
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                // 0|[1-9][0-9]*, then the next key's comma or the closing brace. (A negative
                // number, `-0` included, goes to the full parser.)
                let start = parser.index
                while parser.index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[parser.index]) {
                    parser.index += 1
                }
                let digits = parser.index - start
                // What follows must be the next prefix or the closing brace (checked next), so
                // a fraction or an exponent sends the document to the full parser.
                guard digits > 0, digits <= 18, digits == 1 || bytes[start] != UInt8(ascii: "0") else { return false }
                append(UnsafeBufferPointer(rebasing: bytes[start..<parser.index]))
                numbers |= 1 << UInt64(field)
            default:
                return false
            }
            ends[field] = written
        }
        return parser.index == bytes.count - 1 && bytes[parser.index] == UInt8(ascii: "}")
    }

    /// The bytes before each value in ``parseCanonicalFields(_:prefixes:text:ends:nulls:numbers:)``:
    /// `{"name": ` for the first key, `, "name": ` for the others.
    ///
    /// Held in memory of its own that is never freed (make one per field list, as a `static let`):
    /// reading it then takes no reference counting, ten times an entry.
    package struct CanonicalPrefixes: @unchecked Sendable {
        private let bytes: UnsafePointer<UInt8>
        private let offsets: UnsafePointer<Int>
        package let count: Int

        package init(names: [String]) {
            var bytes: [UInt8] = []
            var offsets = [0]
            for (i, name) in names.enumerated() {
                bytes += Array((i == 0 ? "{\"" : ", \"").utf8) + Array(name.utf8) + Array("\": ".utf8)
                offsets.append(bytes.count)
            }
            let keptBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes.count)
            keptBytes.initialize(from: bytes, count: bytes.count)
            let keptOffsets = UnsafeMutablePointer<Int>.allocate(capacity: offsets.count)
            keptOffsets.initialize(from: offsets, count: offsets.count)
            self.bytes = UnsafePointer(keptBytes)
            self.offsets = UnsafePointer(keptOffsets)
            self.count = names.count
        }

        @inline(__always) func length(_ i: Int) -> Int { offsets[i + 1] - offsets[i] }

        @inline(__always) func matches(_ i: Int, _ input: UnsafeBufferPointer<UInt8>, at position: Int) -> Bool {
            let n = length(i)
            guard position + n <= input.count, let base = input.baseAddress else { return false }
            // Eight bytes a compare, inline (a prefix is 9 to 29 bytes: memcmp's call costs more);
            // the last eight overlap the ones before instead of a byte-by-byte tail.
            let expected = UnsafeRawPointer(bytes + offsets[i])
            let actual = UnsafeRawPointer(base + position)
            @inline(__always) func word(_ p: UnsafeRawPointer, _ k: Int) -> UInt64 { p.loadUnaligned(fromByteOffset: k, as: UInt64.self) }
            guard n >= 8 else {
                for k in 0..<n where expected.load(fromByteOffset: k, as: UInt8.self) != actual.load(fromByteOffset: k, as: UInt8.self) {
                    return false
                }
                return true
            }
            var differ = word(expected, n - 8) ^ word(actual, n - 8)
            var k = 0
            while k + 8 < n {
                differ |= word(expected, k) ^ word(actual, k)
                k += 8
            }
            return differ == 0
        }
    }

    /// Parses a key and returns which of `names` it is, comparing bytes when it has no escapes.
    private mutating func parseKeySlot(_ names: [[UInt8]], expected: Int) throws(JSONParseError) -> Int? {
        let start = index + 1
        if expected < names.count {
            let matched = names.withUnsafeBufferPointer { all in
                all[expected].withUnsafeBufferPointer { name in
                    let close = start + name.count
                    guard close < bytes.count, bytes[close] == UInt8(ascii: "\"") else { return false }
                    for i in 0..<name.count where bytes[start + i] != name[i] { return false }
                    return true
                }
            }
            if matched {
                index = start + names[expected].count + 1
                return expected
            }
        }
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 {
            end += 1
        }
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            let length = end - start
            var found: Int?
            for (i, name) in names.enumerated() where name.count == length {
                if name.withUnsafeBufferPointer({ memcmpEqual($0, bytes, start, length) }) {
                    found = i
                    break
                }
            }
            if found != nil {
                index = end + 1
                return found
            }
        }
        let key = Array(try parseString().utf8)
        return names.firstIndex(of: key)
    }

    // MARK: - Values

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw JSONParseError(message: "Expecting value", offset: index) }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "{"):
            return try parseObject()
        case UInt8(ascii: "["):
            return try parseArray()
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "N"):
            try expectLiteral("NaN")
            return .number(JSONNumber(literal: "NaN", isInteger: false))
        case UInt8(ascii: "I"):
            try expectLiteral("Infinity")
            return .number(JSONNumber(literal: "Infinity", isInteger: false))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        default:
            throw JSONParseError(message: "Expecting value", offset: index)
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw JSONParseError(message: "Expecting value", offset: index) }
        let start = literal.utf8Start
        for i in 0..<count where bytes[index + i] != start[i] {
            throw JSONParseError(message: "Expecting value", offset: index)
        }
        index += count
    }

    private mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > Self.maxDepth {
            throw JSONParseError(message: "Nesting deeper than \(Self.maxDepth) levels", offset: index)
        }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1  // {
        var object = JSONObject()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(object)
        }
        while true {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw JSONParseError(message: "Expecting property name enclosed in double quotes", offset: index)
            }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw JSONParseError(message: "Expecting ':' delimiter", offset: index)
            }
            index += 1
            skipWhitespace()
            object[key] = try parseValue()
            if try endOfElement(closing: UInt8(ascii: "}")) { return .object(object) }
        }
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1  // [
        var items: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            items.append(try parseValue())
            if try endOfElement(closing: UInt8(ascii: "]")) { return .array(items) }
        }
    }

    /// After a member of an object or an element of an array: consumes `,` and the whitespace
    /// after it (false: another one follows) or the closing bracket (true), as Python's parser.
    private mutating func endOfElement(closing: UInt8) throws(JSONParseError) -> Bool {
        skipWhitespace()
        guard index < bytes.count else { throw JSONParseError(message: "Expecting ',' delimiter", offset: index) }
        if bytes[index] == UInt8(ascii: ",") {
            index += 1
            skipWhitespace()
            return false
        }
        if bytes[index] == closing {
            index += 1
            return true
        }
        throw JSONParseError(message: "Expecting ',' delimiter", offset: index)
    }

    /// Python's number grammar: `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`, or `-Infinity`.
    private mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = index
        if bytes[index] == UInt8(ascii: "-") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "I") {
                index = start
                try expectLiteral("-Infinity")
                return JSONNumber(literal: "-Infinity", isInteger: false)
            }
        }
        guard index < bytes.count, isDigit(bytes[index]) else {
            throw JSONParseError(message: "Expecting value", offset: start)
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        var isInteger = true
        if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "."), isDigit(bytes[index + 1]) {
            isInteger = false
            index += 1
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            var probe = index + 1
            if probe < bytes.count, bytes[probe] == UInt8(ascii: "+") || bytes[probe] == UInt8(ascii: "-") {
                probe += 1
            }
            if probe < bytes.count, isDigit(bytes[probe]) {
                isInteger = false
                index = probe
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
        }
        var literal = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isInteger, literal == "-0" { literal = "0" }  // Python's int("-0") is 0
        if isInteger, literal.utf8.count - (literal.hasPrefix("-") ? 1 : 0) > Self.maxIntegerDigits {
            throw JSONParseError(
                message: "Exceeds the limit (\(Self.maxIntegerDigits) digits) for integer string conversion",
                offset: start)
        }
        return JSONNumber(literal: literal, isInteger: isInteger)
    }

    @inline(__always) private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    // MARK: - Strings

    /// Parses a string starting at its opening quote.
    private mutating func parseString() throws(JSONParseError) -> String {
        switch try scanString() {
        case .input(let start, let end, let ascii):
            let segment = UnsafeBufferPointer(rebasing: bytes[start..<end])
            return ascii ? String(decoding: segment, as: UTF8.self) : try validated(segment, base: start)
        case .scratch:
            return String(decoding: scratch, as: UTF8.self)
        }
    }

    /// Where a scanned string's UTF-8 is.
    private enum ScannedString {
        /// In the input, between the quotes: it had no escapes. Not yet validated unless ASCII.
        case input(start: Int, end: Int, ascii: Bool)
        /// Unescaped and validated, in `scratch`.
        case scratch
    }

    /// Scans a string starting at its opening quote, to just past its closing one.
    private mutating func scanString() throws(JSONParseError) -> ScannedString {
        let open = index
        index += 1
        // Fast path: no escapes. Skip plain ASCII bytes 32 at a time, then scan to the quote.
        skipPlainASCII()
        return try finishScan(open: open)
    }

    /// ``scanString()`` copying as it scans, for strings as Python's `json.dumps` writes them:
    /// plain ASCII runs go to `out` (room for every byte left in the input) as they are checked
    /// (``memify_copy_plain_ascii``: 64 or 32 bytes at a time where the CPU can), and the escapes
    /// between them are decoded straight into `out` (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`,
    /// `\t`, `\u` of a scalar or of a surrogate pair: never longer than the escape). The
    /// string's UTF-8 length comes back with nil. A string holding anything else (raw bytes
    /// of 0x80 and above, a control byte, a lone surrogate, a bad escape, no closing quote) is
    /// scanned again from its start as ``scanString()`` does, and returned as it returns it
    /// (what was copied is then to be overwritten), or its error thrown.
    private mutating func copyDumpsString(to out: UnsafeMutablePointer<UInt8>) throws(JSONParseError) -> (Int, ScannedString?) {
        let open = index
        index += 1
        if let base = bytes.baseAddress {
            var written = 0
            scan: while index < bytes.count {
                let plain = memify_copy_plain_ascii(base + index, bytes.count - index, out + written)
                index += plain
                written += plain
                guard index < bytes.count else { break scan }
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return (written, nil)
                }
                guard byte == UInt8(ascii: "\\"), index + 1 < bytes.count else { break scan }
                let decoded: UInt8
                switch bytes[index + 1] {
                case UInt8(ascii: "\""): decoded = 0x22
                case UInt8(ascii: "\\"): decoded = 0x5C
                case UInt8(ascii: "/"): decoded = 0x2F
                case UInt8(ascii: "b"): decoded = 0x08
                case UInt8(ascii: "f"): decoded = 0x0C
                case UInt8(ascii: "n"): decoded = 0x0A
                case UInt8(ascii: "r"): decoded = 0x0D
                case UInt8(ascii: "t"): decoded = 0x09
                case UInt8(ascii: "u"):
                    guard let first = try? hex4(at: index + 2), let (scalar, length) = unicodeEscape(first, at: index)
                    else { break scan }
                    index += length
                    written += Self.writeUTF8(scalar, to: out + written)
                    continue scan
                default:
                    break scan
                }
                out[written] = decoded
                written += 1
                index += 2
            }
        }
        // From the start again, past the plain ASCII prefix (what finishScan expects before it).
        index = open + 1
        skipPlainASCII()
        return (0, try finishScan(open: open))
    }

    /// The scalar of the `\uXXXX` escape at `position`, whose four digits read `first` (or of
    /// the surrogate pair of two such escapes there), and the escape's length in bytes; nil for
    /// a lone surrogate. Both string scanners decode `\u` with it.
    @inline(__always) private func unicodeEscape(_ first: UInt32, at position: Int) -> (UInt32, Int)? {
        if first < 0xD800 || first > 0xDFFF { return (first, 6) }
        guard first <= 0xDBFF, position + 11 < bytes.count, bytes[position + 6] == UInt8(ascii: "\\"),
              bytes[position + 7] == UInt8(ascii: "u"), let low = try? hex4(at: position + 8), (0xDC00...0xDFFF).contains(low)
        else { return nil }
        return (0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00), 12)
    }

    /// Writes a scalar's UTF-8 (1 to 4 bytes) and returns its length.
    @inline(__always) private static func writeUTF8(_ scalar: UInt32, to out: UnsafeMutablePointer<UInt8>) -> Int {
        switch scalar {
        case 0..<0x80:
            out[0] = UInt8(scalar)
            return 1
        case 0x80..<0x800:
            out[0] = UInt8(0xC0 | scalar >> 6)
            out[1] = UInt8(0x80 | scalar & 0x3F)
            return 2
        case 0x800..<0x10000:
            out[0] = UInt8(0xE0 | scalar >> 12)
            out[1] = UInt8(0x80 | scalar >> 6 & 0x3F)
            out[2] = UInt8(0x80 | scalar & 0x3F)
            return 3
        default:
            out[0] = UInt8(0xF0 | scalar >> 18)
            out[1] = UInt8(0x80 | scalar >> 12 & 0x3F)
            out[2] = UInt8(0x80 | scalar >> 6 & 0x3F)
            out[3] = UInt8(0x80 | scalar & 0x3F)
            return 4
        }
    }

    /// The rest of ``scanString()`` from `index`, inside the string opened at `open`, where
    /// everything before `index` is plain ASCII.
    private mutating func finishScan(open: Int) throws(JSONParseError) -> ScannedString {
        let start = open + 1
        var ascii = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return .input(start: start, end: index - 1, ascii: ascii)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw JSONParseError(message: "Invalid control character", offset: index) }
            index += 1
            if byte >= 0x80 {  // validated at the end; skip on to the next byte that matters
                ascii = false
                skipPlain(allowingHigh: true)
            }
        }
        guard index < bytes.count else {
            throw JSONParseError(message: "Unterminated string starting", offset: open)
        }
        // Slow path: escapes. Copy what we have, then decode the rest byte by byte.
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        // Raw (unescaped) non-ASCII runs copied into scratch, validated once the string ends.
        var rawRanges: [(Int, Int, Int)] = ascii ? [] : [(0, index - start, start)]
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                for (from, to, base) in rawRanges {
                    try validate(scratch[from..<to], base: base)
                }
                return .scratch
            }
            if byte < 0x20 { throw JSONParseError(message: "Invalid control character", offset: index) }
            if byte != UInt8(ascii: "\\") {
                let runStart = index
                let scratchStart = scratch.count
                var runASCII = true
                while index < bytes.count {
                    let b = bytes[index]
                    if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 { break }
                    if b >= 0x80 { runASCII = false }
                    index += 1
                }
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                if !runASCII { rawRanges.append((scratchStart, scratch.count, runStart)) }
                continue
            }
            // An escape.
            guard index + 1 < bytes.count else {
                throw JSONParseError(message: "Unterminated string starting", offset: open)
            }
            let escape = bytes[index + 1]
            switch escape {
            case UInt8(ascii: "\""): scratch.append(0x22)
            case UInt8(ascii: "\\"): scratch.append(0x5C)
            case UInt8(ascii: "/"): scratch.append(0x2F)
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                let first = try hex4(at: index + 2)
                guard let (scalar, length) = unicodeEscape(first, at: index) else {
                    throw JSONParseError(
                        message: "Unpaired UTF-16 surrogate \\u\(String(first, radix: 16)) (no UTF-8 form)", offset: index)
                }
                index += length
                appendUTF8(scalar)
                continue
            default:
                throw JSONParseError(message: "Invalid \\escape", offset: index)
            }
            index += 2
        }
        throw JSONParseError(message: "Unterminated string starting", offset: open)
    }

    /// Advances over bytes that need no attention in a string (printable ASCII other than `"`
    /// and `\\`), 32 (then 16) at a time, stopping on the first byte that does.
    @inline(__always) private mutating func skipPlainASCII() { skipPlain(allowingHigh: false) }

    /// Skips string bytes that need nothing: plain ASCII, and bytes >= 0x80 too when
    /// `allowingHigh` (once a string is known not to be ASCII, its UTF-8 is validated at the end).
    @inline(__always) private mutating func skipPlain(allowingHigh: Bool) {
        guard let base = bytes.baseAddress else { return }
        let raw = UnsafeRawPointer(base)
        var i = index
        defer { index = i }
        while i + 32 <= bytes.count {
            let a = Self.stops(raw, i, allowingHigh), b = Self.stops(raw, i + 16, allowingHigh)
            let either = unsafeBitCast(a | b, to: SIMD2<UInt64>.self)
            if either[0] | either[1] == 0 {
                i += 32
                continue
            }
            let first = unsafeBitCast(a, to: SIMD2<UInt64>.self)
            i += first[0] | first[1] != 0 ? Self.firstStop(a) : 16 + Self.firstStop(b)
            return
        }
        while i + 16 <= bytes.count {
            let a = Self.stops(raw, i, allowingHigh)
            let lanes = unsafeBitCast(a, to: SIMD2<UInt64>.self)
            if lanes[0] | lanes[1] != 0 {
                i += Self.firstStop(a)
                return
            }
            i += 16
        }
    }

    /// 0xFF in each lane of the 16 bytes at `offset` that stops a plain-string skip: read as
    /// signed bytes, one comparison catches both a control character (< 0x20) and a byte
    /// >= 0x80 (negative); '"' (0x22) and '\\' (0x5C) are the others. With `allowingHigh`,
    /// bytes >= 0x80 do not stop it (an unsigned comparison).
    @inline(__always) private static func stops(_ raw: UnsafeRawPointer, _ offset: Int, _ allowingHigh: Bool) -> SIMD16<UInt8> {
        stops(raw.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self), allowingHigh)
    }

    @inline(__always) private static func stops(_ v: SIMD16<UInt8>, _ allowingHigh: Bool) -> SIMD16<UInt8> {
        let signed = unsafeBitCast(v, to: SIMD16<Int8>.self)
        let quote = SIMD16<UInt8>(repeating: 0x22), backslash = SIMD16<UInt8>(repeating: 0x5C)
        let space = SIMD16<Int8>(repeating: 0x20), unsignedSpace = SIMD16<UInt8>(repeating: 0x20)
        let control = allowingHigh ? (v .< unsignedSpace) : (signed .< space)
        let stop = (v .== quote) .| (v .== backslash) .| control
        return SIMD16<UInt8>(repeating: 0).replacing(with: 0xFF, where: stop)
    }

    @inline(__always) private static func firstStop(_ lanes: SIMD16<UInt8>) -> Int {
        let halves = unsafeBitCast(lanes, to: SIMD2<UInt64>.self)
        if halves[0] != 0 { return halves[0].littleEndian.trailingZeroBitCount / 8 }
        return 8 + halves[1].littleEndian.trailingZeroBitCount / 8
    }

    private func hex4(at position: Int) throws(JSONParseError) -> UInt32 {
        guard position + 4 <= bytes.count else {
            throw JSONParseError(message: "Invalid \\uXXXX escape", offset: position - 1)
        }
        var value: UInt32 = 0
        for i in 0..<4 {
            let byte = bytes[position + i]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw JSONParseError(message: "Invalid \\uXXXX escape", offset: position - 1)
            }
            value = value << 4 | digit
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        var bytes: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &bytes) { raw in
            let count = Self.writeUTF8(scalar, to: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
            scratch.append(contentsOf: raw.prefix(count))
        }
    }

    private func validated(_ segment: UnsafeBufferPointer<UInt8>, base: Int) throws(JSONParseError) -> String {
        if let string = String(validating: segment, as: UTF8.self) { return string }
        try validate(segment, base: base)
        return String(decoding: segment, as: UTF8.self)
    }

    /// Throws at the first byte that is not well-formed UTF-8 (Python's strict decoder rules:
    /// no overlongs, no surrogates, nothing above U+10FFFF).
    private func validate(_ segment: some Collection<UInt8>, base: Int) throws(JSONParseError) {
        var iterator = segment.makeIterator()
        var decoder = UTF8()
        var consumed = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                consumed += UTF8.width(scalar)
            case .emptyInput:
                return
            case .error:
                let byte = segment[segment.index(segment.startIndex, offsetBy: min(consumed, segment.count - 1))]
                throw JSONParseError(
                    message: "Invalid UTF-8: byte 0x\(String(byte, radix: 16)) cannot start or continue a character",
                    offset: base + consumed)
            }
        }
    }
}

@inline(__always)
private func memcmpEqual(_ name: UnsafeBufferPointer<UInt8>, _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ length: Int) -> Bool {
    guard let a = name.baseAddress, let b = bytes.baseAddress else { return length == 0 }
    return memcmp(a, b + start, length) == 0
}
