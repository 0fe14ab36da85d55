import ArgumentParser
import Foundation
import Logging
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools

/// `--log-format text|json`: how log lines look on standard error.
enum LogFormat: String, ExpressibleByArgument, CaseIterable, Sendable { case text, json }

/// `--log-level`: the least severe level written (swift-log's levels).
enum LogLevelOption: String, ExpressibleByArgument, CaseIterable, Sendable {
    case trace, debug, info, notice, warning, error, critical

    var level: Logger.Level { Logger.Level(rawValue: rawValue) ?? .info }
}

/// swift-log handler writing one line per record to standard error: `time level message k=v`,
/// or one JSON object per line for log shippers. Under systemd (stderr connected to journald,
/// which sets `JOURNAL_STREAM`) each line starts with its sd-daemon priority, `<3>` error …
/// `<7>` debug: journald strips the prefix and stores the line at that priority, so
/// `journalctl -p warning` works for both formats.
struct StandardErrorLogHandler: LogHandler {
    var format: LogFormat
    var label: String
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    /// Whether lines get the `<N>` priority prefix.
    var journald = false

    /// syslog(3) priorities, as sd-daemon(3) prefixes them.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// systemd sets `JOURNAL_STREAM` (device:inode of the stream) when stdout or stderr is
    /// connected to journald.
    static func stderrIsJournal(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        return !value.isEmpty
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let time = UTCTime.iso8601(UTCTime.now, milliseconds: true)
        let prefix = journald ? "<\(Self.priority(event.level))>" : ""
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        switch format {
        case .text:
            var line = "\(time) \(event.level) \(event.message)"
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
            StandardError.write(prefix + line + "\n")
        case .json:
            var object: [(String, JSONValue)] = [("time", .string(time)), ("level", .string("\(event.level)")),
                                                 ("message", .string("\(event.message)")), ("logger", .string(label))]
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) where !["time", "level", "message", "logger"].contains(key) {
                object.append((key, Self.json(value)))
            }
            StandardError.write(prefix + JSONWriter.string(.object(JSONObject(object)), style: .compact) + "\n")
        }
    }

    /// A metadata value as JSON, typed: numbers and booleans logged as such (`.stringConvertible`
    /// of an integer, a floating-point number or a Bool) stay numbers and booleans, so a log
    /// shipper can sum and compare them; everything else is a string.
    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text):
            return .string(text)
        case .stringConvertible(let convertible):
            switch convertible {
            case let b as Bool: return .bool(b)
            case let i as Int: return .number(JSONNumber(i))
            case let i as Int64: return .number(JSONNumber(Int(i)))
            case let d as Double where d.isFinite: return .number(JSONNumber(literal: "\(d)", isInteger: false))
            default: return .string("\(convertible)")
            }
        case .array(let values):
            return .array(values.map(json))
        case .dictionary(let values):
            return .object(JSONObject(values.sorted(by: { $0.key < $1.key }).map { ($0.key, json($0.value)) }))
        }
    }
}

enum Logs {
    /// Installs the handler once per process; later calls only return a logger.
    static func bootstrap(_ format: LogFormat, level: Logger.Level = .info) -> Logger {
        Bootstrap.once(format, level: level)
        return Logger(label: "memify-worker")
    }

    private enum Bootstrap {
        nonisolated(unsafe) static var done = false
        static let lock = NSLock()
        static func once(_ format: LogFormat, level: Logger.Level) {
            lock.lock()
            defer { lock.unlock() }
            guard !done else { return }
            done = true
            let journald = StandardErrorLogHandler.stderrIsJournal()
            LoggingSystem.bootstrap { StandardErrorLogHandler(format: format, label: $0, logLevel: level, journald: journald) }
        }
    }
}
