/// Finds the elements of a top-level JSON array without decoding them, so that each element can
/// be decoded (and fail) on its own.
package enum JSONArraySplitter {
    package struct Failure: Error {
        package var reason: String
    }

    package static func split(_ bytes: [UInt8]) -> Result<[Range<Int>], Failure> {
        var i = 0
        func skipWhitespace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
        }
        skipWhitespace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "[") else {
            do {
                let value = try JSONParser.parse(bytes)
                return .failure(Failure(reason: "value is a JSON \(value.pythonTypeName), not a list (cognee stores a session as a JSON list)"))
            } catch {
                return .failure(Failure(reason: "value is not valid JSON: \(error)"))
            }
        }
        i += 1
        var ranges: [Range<Int>] = []
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
            i += 1
            skipWhitespace()
            return i == bytes.count ? .success([]) : .failure(Failure(reason: "value is not valid JSON: Extra data at byte \(i)"))
        }
        while true {
            skipWhitespace()
            let start = i
            var depth = 0
            scan: while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: "\""):
                    i += 1
                    while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                        i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1
                    }
                    i += 1
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    depth += 1
                    i += 1
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    if depth == 0 { break scan }
                    depth -= 1
                    i += 1
                case UInt8(ascii: ","):
                    if depth == 0 { break scan }
                    i += 1
                default:
                    i += 1
                }
            }
            guard i < bytes.count else {
                return .failure(Failure(reason: "value is not valid JSON: the list is not terminated"))
            }
            var end = i
            while end > start, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[end - 1]) { end -= 1 }
            ranges.append(start..<end)
            if bytes[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard bytes[i] == UInt8(ascii: "]") else {
                return .failure(Failure(reason: "value is not valid JSON: unbalanced '}' at byte \(i)"))
            }
            i += 1
            skipWhitespace()
            return i == bytes.count ? .success(ranges) : .failure(Failure(reason: "value is not valid JSON: Extra data at byte \(i)"))
        }
    }
}
