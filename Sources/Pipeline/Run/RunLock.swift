package import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Foundation
import Glibc

/// The lock that keeps runs on one state database from overlapping: `flock` on `<state>.lock`,
/// which the kernel releases when the process dies (SIGKILL included), so a crash never leaves
/// a stale lock. The file names the holder, for the message a second run prints.
package final class RunLock: Sendable {
    package let path: String
    private let fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    /// Takes the lock, or throws `.locked` naming the holder at once (never waits).
    package static func acquire(statePath: String, runID: String) throws(WorkerError) -> RunLock {
        let path = statePath + ".lock"
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw WorkerError(.io, operation: "open the run lock \(path)", message: String(cString: strerror(errno)))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw WorkerError(.locked, operation: "lock the state database",
                                message: "another run holds \(path)" + (holder.isEmpty ? "" : " (\(holder))"))
        }
        let holder = "pid \(getpid()) on \(hostName()), run \(runID), since \(UTCTime.iso8601(UTCTime.now))\n"
        _ = ftruncate(fd, 0)
        _ = holder.withCString { pwrite(fd, $0, strlen($0), 0) }
        return RunLock(path: path, fd: fd)
    }

    /// The machine's name as gethostname(2) has it (no resolver lookup).
    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown host" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit {
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }
}
