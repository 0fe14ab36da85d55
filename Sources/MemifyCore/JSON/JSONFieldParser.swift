import Glibc

/// The field-slot parser: the values of a few named keys of an object, without building it.
extension JSONParser {
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
}

@inline(__always)
private func memcmpEqual(_ name: UnsafeBufferPointer<UInt8>, _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ length: Int) -> Bool {
    guard let a = name.baseAddress, let b = bytes.baseAddress else { return length == 0 }
    return memcmp(a, b + start, length) == 0
}
