import Testing
import TestSupport

@Suite("memify-worker --version")
struct VersionTests {
    @Test("names the allocator and the string copy's vectors; MEMIFY_SCAN_LEVEL caps the vectors")
    func version() throws {
        let plain = try WorkerProcess.run(["--version"])
        #expect(plain.status == 0)
        #expect(plain.stdoutText.contains("allocator: jemalloc"), "\(plain.stdoutText)")
        let names = ["bytes", "SSE2", "AVX2", "AVX-512BW"]
        #expect(names.contains { plain.stdoutText.contains("string copy: \($0))") }, "\(plain.stdoutText)")
        let bytes = try WorkerProcess.run(["--version"], environment: ["MEMIFY_SCAN_LEVEL": "0"])
        #expect(bytes.stdoutText.contains("string copy: bytes)"), "\(bytes.stdoutText)")
        #if arch(x86_64)
        let sse2 = try WorkerProcess.run(["--version"], environment: ["MEMIFY_SCAN_LEVEL": "1"])
        #expect(sse2.stdoutText.contains("string copy: SSE2)"), "\(sse2.stdoutText)")
        #endif
        // Anything but one digit 0 to 3 is ignored.
        let ignored = try WorkerProcess.run(["--version"], environment: ["MEMIFY_SCAN_LEVEL": "1x"])
        #expect(ignored.stdoutText == plain.stdoutText)
    }
}
