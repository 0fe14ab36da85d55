import Foundation
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

    @Test("starts with the semantic version of memify_build_info.h and the commit")
    func semanticVersion() throws {
        let outcome = try WorkerProcess.run(["--version"])
        #expect(outcome.status == 0)
        let header = try String(contentsOfFile: TestEnvironment.repositoryDirectory
            + "/Sources/CBuildInfo/include/memify_build_info.h", encoding: .utf8)
        let declared = try #require(header.firstMatch(of: #/#define MEMIFY_VERSION "([^"]*)"/#)?.1)
        // semver.org 2.0.0: no leading zeros, optional pre-release and build metadata.
        let number = "(0|[1-9][0-9]*)"
        let semver = try Regex("^\(number)\\.\(number)\\.\(number)(-[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?(\\+[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?$")
        #expect(String(declared).wholeMatch(of: semver) != nil, "\(declared) is not a semantic version")
        // A plain `swift build` knows no commit; scripts/package's build names it (scripts/test-package checks which).
        let line = try #require(outcome.stdoutText.split(separator: "\n").first.map(String.init))
        let shape = try Regex("^memify-worker ([^ ]+) \\(commit ([0-9a-f]{7,40}(-dirty)?|unknown); reads cognee ")
        let match = try #require(line.firstMatch(of: shape), "\(line)")
        #expect(match.output[1].substring.map(String.init) == String(declared), "\(line)")
    }
}
