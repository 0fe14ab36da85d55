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

    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var depth = 0
    var scratch: [UInt8] = []

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

    // MARK: - Values

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func parseValue() throws(JSONParseError) -> JSONValue {
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

    mutating func enter() throws(JSONParseError) {
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
}
