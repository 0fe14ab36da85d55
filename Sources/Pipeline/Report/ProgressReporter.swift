import MemifyCore
import Foundation
package import Logging
import Synchronization

/// A progress line with rate (and ETA when the total is known) on a terminal; a log line every
/// ten seconds otherwise.
package final class ProgressReporter: Sendable {
    private struct State { var lastDraw: Double = 0; var drawn = false }
    private let terminal: Bool
    private let total: Int?
    private let log: Logger
    private let started = Date().timeIntervalSince1970
    private let state: Mutex<State>

    package init(terminal: Bool, total: Int?, log: Logger) {
        self.terminal = terminal
        self.total = total
        self.log = log
        state = Mutex(State(lastDraw: terminal ? 0 : started))
    }

    package func update(_ s: RunSummary) {
        let now = Date().timeIntervalSince1970
        let interval = terminal ? 0.2 : 10
        let due = state.withLock { state -> Bool in
            guard now - state.lastDraw >= interval else { return false }
            state.lastDraw = now
            state.drawn = true
            return true
        }
        guard due else { return }
        let elapsed = max(now - started, 0.001)
        let rate = Double(s.turnsSeen) / elapsed
        var line = "sessions \(s.sessionsSeen)  turns \(s.turnsSeen) (persisted \(s.turnsPersisted), unchanged \(s.turnsUnchanged), quarantined \(s.quarantined))  \(Int(rate)) turns/s"
        if let total, s.sessionsSeen > 0 {
            let remaining = Double(max(0, total - s.sessionsSeen)) * elapsed / Double(s.sessionsSeen)
            line += "  \(Int(Double(s.sessionsSeen) * 100 / Double(total)))%  ETA \(Int(remaining))s"
        }
        if terminal {
            StandardError.write("\r\u{1B}[K" + line)
        } else {
            log.info("progress", metadata: ["sessions": "\(s.sessionsSeen)", "turns": "\(s.turnsSeen)",
                                            "persisted": "\(s.turnsPersisted)", "turns_per_s": "\(Int(rate))"])
        }
    }

    package func finish() {
        if terminal, state.withLock({ $0.drawn }) { StandardError.write("\r\u{1B}[K") }
    }
}
