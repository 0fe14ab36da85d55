import CScan
import Testing

@Suite("copying plain JSON string runs with vectors")
struct PlainASCIICopyTests {
    /// What every level must return: the index of the first byte that ends a plain run.
    static func reference(_ bytes: [UInt8]) -> Int {
        bytes.firstIndex { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 || $0 >= 0x80 } ?? bytes.count
    }

    static var levels: [Int32] { Array(0...memify_scan_level()) }

    @Test("every level this CPU runs stops at the first stop byte, at every position and length up to 200, copies what is before it, and writes nothing past the input's length")
    func everyLevelAgrees() {
        #expect(memify_scan_level() >= 0 && memify_scan_level() <= 3)
        let stops: [UInt8] = [0x22, 0x5C, 0x00, 0x1F, 0x80, 0xFF, 0xC3]
        for level in Self.levels {
            for length in 0...200 {
                // Printable ASCII other than '"' and '\'.
                let plain: [UInt8] = (0..<length).map { i in
                    let byte = UInt8(0x20 + (i &* 37) % 0x5F)
                    return byte == 0x22 || byte == 0x5C ? 0x41 : byte
                }
                var cases = [plain]
                for position in Set([0, 1, 15, 16, 31, 32, 63, 64, 65, length / 2, length - 1]) where position >= 0 && position < length {
                    for stop in stops {
                        var bytes = plain
                        bytes[position] = stop
                        cases.append(bytes)
                    }
                }
                for bytes in cases {
                    let expected = Self.reference(bytes)
                    // Guard bytes after the room the caller gives.
                    var out = [UInt8](repeating: 0xAA, count: length + 80)
                    let got = bytes.withUnsafeBufferPointer { src in
                        out.withUnsafeMutableBufferPointer { dst in
                            memify_copy_plain_ascii_level(level, src.baseAddress, length, dst.baseAddress)
                        }
                    }
                    #expect(got == expected, "level \(level), length \(length)")
                    #expect(Array(out[0..<min(got, length)]) == Array(bytes[0..<min(got, length)]), "level \(level), length \(length)")
                    #expect(out[length...].allSatisfy { $0 == 0xAA }, "level \(level) wrote past length \(length)")
                }
            }
        }
    }

    @Test("the dispatching entry point is the level it reports")
    func dispatch() {
        let bytes = Array(repeating: UInt8(ascii: "a"), count: 100) + [0x22] + Array(repeating: UInt8(ascii: "b"), count: 27)
        var out = [UInt8](repeating: 0, count: bytes.count)
        let got = memify_copy_plain_ascii(bytes, bytes.count, &out)
        #expect(got == 100)
        #expect(out[0..<100].allSatisfy { $0 == UInt8(ascii: "a") })
        // A level this CPU cannot run (or that does not exist) is refused with SIZE_MAX.
        #expect(memify_copy_plain_ascii_level(4, bytes, bytes.count, &out) == Int(bitPattern: UInt.max))
        #expect(memify_copy_plain_ascii_level(-1, bytes, bytes.count, &out) == Int(bitPattern: UInt.max))
    }
}
