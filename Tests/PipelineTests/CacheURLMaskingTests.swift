import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools
import Testing

@Suite("cache URLs in errors")
struct CacheURLMaskingTests {
    @Test("an unknown cache scheme is named without its password")
    func unknownScheme() {
        do {
            _ = try CacheSourceFactory.make(url: "valkey://worker:topsecret@cache.internal:6379/0")
            Issue.record("an unknown scheme was accepted")
        } catch {
            let text = "\(error)"
            #expect(!text.contains("topsecret"), "\(text)")
            #expect(text.contains("valkey://worker:***@cache.internal"), "\(text)")
        }
    }
}
