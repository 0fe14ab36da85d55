package import MemifyCore
import GraphStore
package import SessionCache
import Extraction
import Pipeline
import MemifyTools
import Foundation

/// The real cognee 1.6.5 caches of `../shared/fixtures/cognee-1.6.5` and cognee's own reading
/// of them (`expected/*.json`).
package enum CogneeFixture {
    package enum Backend: String, Sendable { case redis, fs }

    package static func expected(_ backend: Backend) throws -> JSONObject {
        let path = TestEnvironment.fixturesDirectory + "/expected/\(backend.rawValue).json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FixtureError("cannot read \(path)")
        }
        guard case .object(let object) = try JSONParser.parse([UInt8](data)) else { throw FixtureError("not an object") }
        return object
    }

    /// `generator.generated_at`: the clock to read the fixture's expiry against.
    package static func generatedAt(_ expected: JSONObject) throws -> Double {
        guard case .object(let generator)? = expected["generator"], case .string(let text)? = generator["generated_at"],
              let time = parseTimestamp(text) else { throw FixtureError("no generated_at") }
        return time
    }

    /// Unpacks `data/fs/fs_cache.tar.gz` into a new temporary data root and returns its path.
    package static func unpackFileCache() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("memify-fs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try run("/bin/tar", ["xzf", TestEnvironment.fixturesDirectory + "/data/fs/fs_cache.tar.gz", "-C", root])
        return root
    }

    /// Loads every key of `data/redis/keys.ndjson.gz` into the connection's database with
    /// `RESTORE … REPLACE` (TTL 0: the fixture's TTLs would have run out by now). Blocking.
    package static func loadRedis(into connection: RedisConnection) throws {
        let text = try run("/bin/gzip", ["-dc", TestEnvironment.fixturesDirectory + "/data/redis/keys.ndjson.gz"])
        _ = try connection.command(["FLUSHDB"])
        var commands: [[[UInt8]]] = []
        for line in text.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            guard case .object(let object) = try JSONParser.parse(Array(line)),
                  case .string(let keyB64)? = object["key_b64"], case .string(let dumpB64)? = object["dump_b64"] else { continue }
            guard let key = Data(base64Encoded: keyB64), let dump = Data(base64Encoded: dumpB64) else {
                throw FixtureError("bad base64 in keys.ndjson.gz")
            }
            commands.append([Array("RESTORE".utf8), [UInt8](key), Array("0".utf8), [UInt8](dump), Array("REPLACE".utf8)])
        }
        for reply in try connection.pipeline(commands) where reply != .status("OK") {
            throw FixtureError("RESTORE failed: \(reply)")
        }
    }

    @discardableResult
    package static func run(_ executable: String, _ arguments: [String]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw FixtureError("\(executable) \(arguments) failed") }
        return [UInt8](data)
    }
}

package struct FixtureError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// Runs the built `memify-worker` binary (`swift build` first, as scripts/test does).
package enum WorkerProcess {
    package struct Outcome: Sendable {
        package var status: Int32
        package var stdout: [UInt8]
        package var stderr: String
        package var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    }

    package static var executable: String { TestEnvironment.repositoryDirectory + "/.build/debug/memify-worker" }
    /// The optimised build (`swift build -c release`; scripts/test makes it), for the tests whose
    /// sizes a debug build would take minutes over.
    package static var releaseExecutable: String { TestEnvironment.repositoryDirectory + "/.build/release/memify-worker" }

    package static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw FixtureError("\(executable) is missing: run `swift build` before `swift test` (scripts/test does)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for key in env.keys where key.hasPrefix("MEMIFY_") || key.hasPrefix("CACHE_") { env[key] = nil }
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes concurrently so a full stderr pipe cannot block the child.
        let errData = LockedBox<Data>(Data())
        let reader = Thread { errData.value = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errData.done { usleep(1000) }
        return Outcome(status: process.terminationStatus, stdout: [UInt8](outData),
                       stderr: String(decoding: errData.value, as: UTF8.self))
    }
}

final class LockedBox<T>: @unchecked Sendable {  // written once by the reader thread, then read
    private let lock = NSLock()
    private var stored: T
    private var finished = false
    init(_ value: T) { stored = value }
    var value: T {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue; finished = true } }
    }
    var done: Bool { lock.withLock { finished } }
}
