import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A worker started with `posix_spawn` and reaped with `wait4`, so the test reads the child's own
/// resource usage (its peak RSS), which `Process` (it reaps its children itself) cannot give.
/// stdout and stderr go to files.
public final class MeasuredProcess: Sendable {
    public struct Outcome: Sendable {
        /// The exit status, or nil when a signal ended it (`signal` says which).
        public var status: Int32?
        public var signal: Int32?
        /// Peak resident set size (`ru_maxrss`), KiB.
        public var maxRSSKiB: Int
        public var seconds: Double
        public var stdout: String
        public var stderr: String
    }

    public let pid: Int32
    private let stdoutPath: String
    private let stderrPath: String
    private let started = Date()

    /// Starts `executable` with `arguments`, the environment less MEMIFY_* and CACHE_* (as
    /// ``WorkerProcess/run(_:environment:)`` gives it).
    public init(_ executable: String, _ arguments: [String], directory: String) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else { throw FixtureError("\(executable) is missing") }
        let tag = UUID().uuidString.prefix(8)
        stdoutPath = directory + "/stdout-\(tag)"
        stderrPath = directory + "/stderr-\(tag)"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MEMIFY_") && !$0.key.hasPrefix("CACHE_") }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard rc == 0 else { throw FixtureError("posix_spawn \(executable): \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    public var isRunning: Bool { kill(pid, 0) == 0 }

    public func signal(_ number: Int32) { kill(pid, number) }

    /// Blocking: reaps the child and reads what it wrote.
    public func wait() -> Outcome {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let termination = status & 0x7f
        func read(_ path: String) -> String {
            String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
        }
        return Outcome(status: termination == 0 ? (status >> 8) & 0xff : nil, signal: termination == 0 ? nil : termination,
                       maxRSSKiB: Int(usage.ru_maxrss), seconds: Date().timeIntervalSince(started),
                       stdout: read(stdoutPath), stderr: read(stderrPath))
    }
}
