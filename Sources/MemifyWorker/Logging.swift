import ArgumentParser
import Foundation
import Logging
import Pipeline

/// `--log-format text|json`: how log lines look on standard error.
enum LogFormat: String, ExpressibleByArgument, CaseIterable, Sendable { case text, json }

/// swift-log handler writing one line per record to standard error: `time level message k=v`,
/// or one JSON object per line for log shippers.
struct StandardErrorLogHandler: LogHandler {
    var format: LogFormat
    var label: String
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let time = UTCTime.iso8601(UTCTime.now, milliseconds: true)
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        switch format {
        case .text:
            var line = "\(time) \(event.level) \(event.message)"
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
            StandardError.write(line + "\n")
        case .json:
            var object: [String: String] = ["time": time, "level": "\(event.level)", "message": "\(event.message)", "logger": label]
            for (key, value) in fields { object[key] = "\(value)" }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            StandardError.write(String(decoding: data, as: UTF8.self) + "\n")
        }
    }
}

enum Logs {
    /// Installs the handler once per process; later calls only return a logger.
    static func bootstrap(_ format: LogFormat) -> Logger {
        Bootstrap.once(format)
        return Logger(label: "memify-worker")
    }

    private enum Bootstrap {
        nonisolated(unsafe) static var done = false
        static let lock = NSLock()
        static func once(_ format: LogFormat) {
            lock.lock()
            defer { lock.unlock() }
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { StandardErrorLogHandler(format: format, label: $0) }
        }
    }
}
