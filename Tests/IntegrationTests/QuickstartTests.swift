import Foundation
import TestSupport
import Testing

/// `scripts/quickstart` with stand-ins for dpkg-query, apt-cache, apt-get, sudo, swift and the
/// worker first on PATH: which packages it installs, and that it builds, runs and prints the stats.
/// (The real thing, on this machine, is the README's first command.)
@Suite("scripts/quickstart")
struct QuickstartTests {
    static func run(installed: Bool) throws -> (status: Int32, log: String) {
        let stubs = FileManager.default.temporaryDirectory.appendingPathComponent("memify-quickstart-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: stubs + "/bin", withIntermediateDirectories: true)
        let log = stubs + "/log"
        let scripts: [String: String] = [
            "dpkg-query": installed ? "echo -n 'install ok installed'" : "exit 1",
            "apt-cache": "[ \"$2\" = libcurl4 ]",
            "apt-get": "echo \"apt-get $*\" >> \(log)",
            "sudo": "echo sudo >> \(log); \"$@\"",
            "swift": """
                case "$*" in
                  --version) echo 'Swift version 6.3.1 (swift-6.3.1-RELEASE)' ;;
                  "build --show-bin-path") echo \(stubs)/bin ;;
                  *) echo "swift $*" >> \(log) ;;
                esac
                """,
            "memify-worker": "echo \"worker $*\" >> \(log)",
        ]
        for (name, body) in scripts {
            let path = (name == "memify-worker" ? stubs + "/bin/" : stubs + "/") + name
            try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestEnvironment.repositoryDirectory + "/scripts/quickstart")
        process.environment = ["PATH": stubs + ":/usr/bin:/bin", "HOME": stubs]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: stubs)
        return (process.terminationStatus, text)
    }

    @Test("missing packages are installed with apt-get, then it builds, runs on the example cache and prints graph stats")
    func fresh() throws {
        let (status, log) = try Self.run(installed: false)
        #expect(status == 0, "\(log)")
        #expect(log.contains("apt-get install -y -q --no-install-recommends pkg-config libssl-dev libpq-dev libsqlite3-dev libjemalloc-dev libcurl4"), "\(log)")
        #expect(log.contains("swift build --product memify-worker"))
        #expect(log.contains("worker run --cache fs:examples/cognee-cache"))
        #expect(log.contains("worker graph stats"))
    }

    @Test("everything there: nothing installed, still builds, runs and prints")
    func idempotent() throws {
        let (status, log) = try Self.run(installed: true)
        #expect(status == 0, "\(log)")
        #expect(!log.contains("apt-get"), "\(log)")
        #expect(log.contains("worker graph stats"))
    }
}
