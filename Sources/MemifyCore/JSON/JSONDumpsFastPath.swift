import CScan

/// The fast path for entries exactly as Python's `json.dumps` writes them: fixed key prefixes
/// compared eight bytes at a time, strings copied with SIMD (`memify_copy_plain_ascii`).
extension JSONParser {
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
}
