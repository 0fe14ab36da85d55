import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A worker whose own resource usage (its peak RSS) the test reads from `wait4`.
///
/// Not spawned by the test process itself: Linux carries the memory of the image a process had
/// before `exec` into its `ru_maxrss` (a child of `posix_spawn` or `fork` reports at least the
/// test process's own RSS). A small Python parent forks and execs the worker and reaps it with
/// `os.wait4`: the worker's figure is then its own. stdout and stderr go to files.
package final class MeasuredProcess: Sendable {
    package struct Outcome: Sendable {
        /// The exit status, or nil when a signal ended it (`signal` says which).
        package var status: Int32?
        package var signal: Int32?
        /// Peak resident set size (`ru_maxrss`), KiB.
        package var maxRSSKiB: Int
        package var seconds: Double
        package var stdout: String
        package var stderr: String
    }

    private static let reaper = """
        import os, sys
        out = sys.argv[1]
        pid = os.fork()
        if pid == 0:
            os.execv(sys.argv[2], sys.argv[2:])
        with open(out + ".pid", "w") as f:
            f.write(str(pid))
        while True:
            try:
                _, status, usage = os.wait4(pid, 0)
                break
            except InterruptedError:
                continue
        with open(out + ".tmp", "w") as f:
            f.write("%d %d" % (status, usage.ru_maxrss))
        os.rename(out + ".tmp", out)
        """

    private let reaperPID: Int32
    private let base: String
    private let started = Date()

    /// Starts `executable` with `arguments`, the environment less MEMIFY_* and CACHE_* (as
    /// ``WorkerProcess/run(_:environment:)`` gives it).
    package init(_ executable: String, _ arguments: [String], directory: String) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else { throw FixtureError("\(executable) is missing") }
        base = directory + "/measured-\(UUID().uuidString.prefix(8))"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, base + ".stdout", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, base + ".stderr", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MEMIFY_") && !$0.key.hasPrefix("CACHE_") }
        let python = "/usr/bin/python3"
        let argv = ([python, "-c", Self.reaper, base + ".usage", executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid: Int32 = 0
        let rc = posix_spawn(&pid, python, &actions, nil, argv, envp)
        guard rc == 0 else { throw FixtureError("posix_spawn \(python): \(String(cString: strerror(rc)))") }
        reaperPID = pid
    }

    /// The worker's pid, once the reaper has forked it (blocking, briefly).
    package var pid: Int32 {
        for _ in 0..<10_000 {
            if let text = try? String(contentsOfFile: base + ".usage.pid", encoding: .utf8), let pid = Int32(text) { return pid }
            usleep(1_000)
        }
        return -1
    }

    package var isRunning: Bool {
        !FileManager.default.fileExists(atPath: base + ".usage") && kill(reaperPID, 0) == 0
    }

    package func signal(_ number: Int32) {
        let pid = self.pid
        if pid > 0 { kill(pid, number) }
    }

    /// Blocking: waits for the worker to end (the reaper with it) and reads what it wrote.
    package func wait() -> Outcome {
        var status: Int32 = 0
        while waitpid(reaperPID, &status, 0) < 0 && errno == EINTR {}
        func read(_ path: String) -> String {
            String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
        }
        let usage = read(base + ".usage").split(separator: " ").compactMap { Int32($0) }
        let workerStatus = usage.first ?? -1, termination = workerStatus & 0x7f
        return Outcome(status: termination == 0 ? (workerStatus >> 8) & 0xff : nil, signal: termination == 0 ? nil : termination,
                       maxRSSKiB: usage.count == 2 ? Int(usage[1]) : -1, seconds: Date().timeIntervalSince(started),
                       stdout: read(base + ".stdout"), stderr: read(base + ".stderr"))
    }
}
