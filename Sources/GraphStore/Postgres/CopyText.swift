/// COPY's text format: backslash, tab, newline and carriage return escaped.
package enum CopyText {
    package static func append(_ text: String, to data: inout [UInt8]) {
        var text = text
        text.withUTF8 { append(bytes: $0, to: &data) }
    }

    /// Whether `bytes` holds nothing COPY (or, with `quote`, an array element) must escape.
    @inline(__always)
    private static func isPlain(_ bytes: UnsafeBufferPointer<UInt8>, quote: Bool) -> Bool {
        for byte in bytes where byte <= 0x5C {
            if byte == 0x5C || byte == 0x09 || byte == 0x0A || byte == 0x0D || (quote && byte == 0x22) { return false }
        }
        return true
    }

    package static func append(bytes: UnsafeBufferPointer<UInt8>, to data: inout [UInt8]) {
        if isPlain(bytes, quote: false) {
            data.append(contentsOf: bytes)
            return
        }
        for byte in bytes {
            switch byte {
            case 0x5C: data.append(0x5C); data.append(0x5C)
            case 0x09: data.append(0x5C); data.append(UInt8(ascii: "t"))
            case 0x0A: data.append(0x5C); data.append(UInt8(ascii: "n"))
            case 0x0D: data.append(0x5C); data.append(UInt8(ascii: "r"))
            default: data.append(byte)
            }
        }
    }

    package static func append(bytes: [UInt8], to data: inout [UInt8]) {
        bytes.withUnsafeBufferPointer { append(bytes: $0, to: &data) }
    }

    /// A PostgreSQL array literal of quoted elements, COPY-escaped on top.
    static func appendArray(_ items: [String], to data: inout [UInt8]) {
        data.append(UInt8(ascii: "{"))
        for (i, item) in items.enumerated() {
            if i > 0 { data.append(UInt8(ascii: ",")) }
            data.append(UInt8(ascii: "\""))
            var item = item
            item.withUTF8 { utf8 in
                if isPlain(utf8, quote: true) {
                    data.append(contentsOf: utf8)
                    return
                }
                for byte in utf8 {
                    // Inside the array literal, " and \ take a backslash; COPY then doubles every backslash.
                    if byte == UInt8(ascii: "\"") { data.append(0x5C); data.append(0x5C) }
                    if byte == 0x5C { data.append(0x5C); data.append(0x5C); data.append(0x5C) }
                    switch byte {
                    case 0x09: data.append(0x5C); data.append(UInt8(ascii: "t"))
                    case 0x0A: data.append(0x5C); data.append(UInt8(ascii: "n"))
                    case 0x0D: data.append(0x5C); data.append(UInt8(ascii: "r"))
                    default: data.append(byte)
                    }
                }
            }
            data.append(UInt8(ascii: "\""))
        }
        data.append(UInt8(ascii: "}"))
    }
}
