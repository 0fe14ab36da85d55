import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import Testing

@Suite("UTC times written by hand match Foundation's formatters")
struct UTCTimeTests {
    @Test(arguments: [0.0, 951_782_400.5, 1_764_592_496.789, 1_796_131_199.999, 4_102_444_800.0, 1_709_164_800.001])
    func matchesFoundation(unixSeconds: Double) {
        let date = Date(timeIntervalSince1970: unixSeconds)
        #expect(UTCTime.iso8601(unixSeconds) == ISO8601DateFormatter().string(from: date))
        let compact = DateFormatter()
        compact.locale = Locale(identifier: "en_US_POSIX")
        compact.timeZone = TimeZone(identifier: "UTC")
        compact.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        #expect(UTCTime.compact(unixSeconds) == compact.string(from: date))
        let millis = DateFormatter()
        millis.locale = Locale(identifier: "en_US_POSIX")
        millis.timeZone = TimeZone(identifier: "UTC")
        millis.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
        let ours = UTCTime.iso8601(unixSeconds, milliseconds: true)
        #expect(ours.count == 24 && ours.hasSuffix("Z"))
        #expect(parseTimestamp(ours).map { abs($0 - unixSeconds) < 0.002 } == true, "\(ours)")
        #expect(ours == millis.string(from: date))
    }

    @Test("now is the wall clock")
    func now() {
        #expect(abs(UTCTime.now - Date().timeIntervalSince1970) < 1)
    }
}
