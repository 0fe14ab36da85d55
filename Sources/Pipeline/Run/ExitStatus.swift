import MemifyCore

/// The exit statuses of DESIGN.md (sysexits style); translated from errors here and nowhere else.
package enum ExitStatus: Int32, Sendable {
    case done = 0
    case failure = 1
    /// `status --check`: the worker is not healthy (Nagios' CRITICAL).
    case checkFailed = 2
    case partial = 3
    case usage = 64
    case unavailable = 69
    case locked = 75
    case interrupted = 130

    package static func forError(_ error: any Error) -> ExitStatus {
        switch error {
        case let e as ResumableFailure:
            return forError(e.underlying)
        case let e as WorkerError:
            switch e.code {
            case .serviceUnavailable: return .unavailable
            case .usage, .unsupported: return .usage
            case .locked: return .locked
            default: return .failure
            }
        case let e as DatabaseError:
            switch e.code {
            case .connectionFailed: return .unavailable
            case .invalidArgument: return .usage
            default: return .failure
            }
        default:
            return .failure
        }
    }
}

/// A run that failed because a server went away or refused it: the message says that a later
/// run resumes from the last checkpoint (nothing committed is lost, nothing is done twice).
package struct ResumableFailure: Error, CustomStringConvertible {
    package let underlying: any Error
    package init(_ underlying: any Error) { self.underlying = underlying }
    package var description: String { "\(underlying); batches committed before it are checkpointed, and the next run resumes from there" }
}
