/// Serializes ``JSONValue``s in two styles.
package enum JSONWriter {
    package enum Style: Sendable {
        /// Python's `json.dumps` defaults, as cognee writes its caches: `", "` and `": "`
        /// separators, every non-ASCII character as a lowercase `\uXXXX` escape (surrogate pairs
        /// beyond the BMP).
        case python
        /// Compact UTF-8 (`,` and `:`), non-ASCII kept as is: our own output.
        case compact
    }

    package static func string(_ value: JSONValue, style: Style) -> String {
        var out: [UInt8] = []
        write(value, style: style, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    package static func write(_ value: JSONValue, style: Style, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.literal.utf8)
        case .string(let s): writeString(s, style: style, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { appendSeparator(style, into: &out) }
                write(item, style: style, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, item) in object.pairs {
                if !first { appendSeparator(style, into: &out) }
                first = false
                writeString(key, style: style, into: &out)
                out.append(UInt8(ascii: ":"))
                if style == .python { out.append(UInt8(ascii: " ")) }
                write(item, style: style, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    @inline(__always) private static func appendSeparator(_ style: Style, into out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        if style == .python { out.append(UInt8(ascii: " ")) }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func appendUnicodeEscape(_ unit: UInt16, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        out.append(UInt8(ascii: "u"))
        out.append(hexDigits[Int(unit >> 12) & 0xF])
        out.append(hexDigits[Int(unit >> 8) & 0xF])
        out.append(hexDigits[Int(unit >> 4) & 0xF])
        out.append(hexDigits[Int(unit) & 0xF])
    }

    package static func writeString(_ string: String, style: Style, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var i = 0
            while i < utf8.count {
                let byte = utf8[i]
                switch byte {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(byte); i += 1
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(byte); i += 1
                case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n")); i += 1
                case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r")); i += 1
                case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t")); i += 1
                case 0x08: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "b")); i += 1
                case 0x0C: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "f")); i += 1
                case 0..<0x20:
                    appendUnicodeEscape(UInt16(byte), into: &out); i += 1
                case 0x7F where style == .python:  // ensure_ascii escapes everything outside ' '...'~'
                    appendUnicodeEscape(UInt16(byte), into: &out); i += 1
                case 0..<0x80:
                    out.append(byte); i += 1
                default:
                    if style == .compact {
                        out.append(byte); i += 1
                        continue
                    }
                    // Decode one scalar and escape it as Python's ensure_ascii does.
                    let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
                    var scalar = UInt32(byte) & (length == 4 ? 0x07 : length == 3 ? 0x0F : 0x1F)
                    for k in 1..<length { scalar = scalar << 6 | (UInt32(utf8[i + k]) & 0x3F) }
                    i += length
                    if scalar >= 0x10000 {
                        let v = scalar - 0x10000
                        appendUnicodeEscape(UInt16(0xD800 + (v >> 10)), into: &out)
                        appendUnicodeEscape(UInt16(0xDC00 + (v & 0x3FF)), into: &out)
                    } else {
                        appendUnicodeEscape(UInt16(scalar), into: &out)
                    }
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
