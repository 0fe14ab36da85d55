/// Strings: plain runs skipped 16 or 32 bytes at a time, escapes decoded, UTF-8 validated as
/// Python's strict decoder does.
extension JSONParser {
    /// Parses a string starting at its opening quote.
    mutating func parseString() throws(JSONParseError) -> String {
        switch try scanString() {
        case .input(let start, let end, let ascii):
            let segment = UnsafeBufferPointer(rebasing: bytes[start..<end])
            return ascii ? String(decoding: segment, as: UTF8.self) : try validated(segment, base: start)
        case .scratch:
            return String(decoding: scratch, as: UTF8.self)
        }
    }

    /// Where a scanned string's UTF-8 is.
    enum ScannedString {
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

    /// The scalar of the `\uXXXX` escape at `position`, whose four digits read `first` (or of
    /// the surrogate pair of two such escapes there), and the escape's length in bytes; nil for
    /// a lone surrogate. Both string scanners decode `\u` with it.
    @inline(__always) func unicodeEscape(_ first: UInt32, at position: Int) -> (UInt32, Int)? {
        if first < 0xD800 || first > 0xDFFF { return (first, 6) }
        guard first <= 0xDBFF, position + 11 < bytes.count, bytes[position + 6] == UInt8(ascii: "\\"),
              bytes[position + 7] == UInt8(ascii: "u"), let low = try? hex4(at: position + 8), (0xDC00...0xDFFF).contains(low)
        else { return nil }
        return (0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00), 12)
    }

    /// Writes a scalar's UTF-8 (1 to 4 bytes) and returns its length.
    @inline(__always) static func writeUTF8(_ scalar: UInt32, to out: UnsafeMutablePointer<UInt8>) -> Int {
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
    mutating func finishScan(open: Int) throws(JSONParseError) -> ScannedString {
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
    @inline(__always) mutating func skipPlainASCII() { skipPlain(allowingHigh: false) }

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

    func hex4(at position: Int) throws(JSONParseError) -> UInt32 {
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
