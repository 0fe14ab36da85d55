import ArgumentParser
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools

/// The exit statuses of DESIGN.md (sysexits style); translated from errors here and nowhere else.
enum ExitStatus: Int32 {
    case done = 0
    case failure = 1
    /// `status --check`: the worker is not healthy (Nagios' CRITICAL).
    case checkFailed = 2
    case partial = 3
    case usage = 64
    case unavailable = 69
    case locked = 75
    case interrupted = 130

    var exitCode: ExitCode { ExitCode(rawValue) }

    static func forError(_ error: any Error) -> ExitStatus {
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
struct ResumableFailure: Error, CustomStringConvertible {
    let underlying: any Error
    init(_ underlying: any Error) { self.underlying = underlying }
    var description: String { "\(underlying); batches committed before it are checkpointed, and the next run resumes from there" }
}

/// Runs a command body, printing a one-line error and exiting with the status it maps to.
func withExitStatus(_ body: () async throws -> ExitStatus) async throws {
    let status: ExitStatus
    do {
        status = try await body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch let error as CleanExit {
        throw error
    } catch {
        StandardError.write("memify-worker: \(error)\n")
        throw ExitStatus.forError(error).exitCode
    }
    if status != .done { throw status.exitCode }
}
